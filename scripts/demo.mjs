// `npm run demo`: bundles scripts/demo/round-trip.ts with esbuild and runs it (it drives the built
// action, dist/index.js, against the local GitHub emulator).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
// Inside node_modules so the bundle's bare imports resolve to this project's packages.
const out = path.join(root, 'node_modules', '.cache', 'autoresearch-ci-demo');
mkdirSync(out, { recursive: true });
try {
  const outfile = path.join(out, 'demo.mjs');
  await build({
    absWorkingDir: root,
    entryPoints: ['scripts/demo/round-trip.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    logLevel: 'warning',
    packages: 'external',
    // The sources locate the repository from their own folder.
    define: { 'import.meta.dirname': JSON.stringify(path.join(root, 'scripts/demo')) },
  });
  execFileSync(process.execPath, [outfile], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, DEMO_ROOT: root },
  });
} finally {
  rmSync(out, { recursive: true, force: true });
}
