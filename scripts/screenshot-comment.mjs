// `node scripts/screenshot-comment.mjs` (Node 24: `npx node scripts/screenshot-comment.mjs`):
// bundles scripts/screenshot-comment.ts with esbuild and runs it. It drives the built action,
// dist/index.js, against the local GitHub emulator on the example experiment, renders the
// resulting sticky comment in headless Chromium and writes docs/comment-screenshot.png.
// Needs Chromium at /usr/bin/chromium (or CHROMIUM_PATH) and python3.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
// Inside node_modules so the bundle's bare imports resolve to this project's packages.
const out = path.join(root, 'node_modules', '.cache', 'autoresearch-ci-screenshot');
mkdirSync(out, { recursive: true });
try {
  const outfile = path.join(out, 'screenshot-comment.mjs');
  await build({
    absWorkingDir: root,
    entryPoints: ['scripts/screenshot-comment.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    logLevel: 'warning',
    packages: 'external',
    // The bundled test helpers locate the repository two folders up from their own folder.
    define: { 'import.meta.dirname': JSON.stringify(path.join(root, 'scripts/screenshot')) },
  });
  execFileSync(process.execPath, [outfile, ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, SCREENSHOT_ROOT: root },
  });
} finally {
  rmSync(out, { recursive: true, force: true });
}
