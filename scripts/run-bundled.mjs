// Bundles a TypeScript entry with esbuild and runs it with this project's Node: the way the
// benchmarks, the demo and the screenshot script run TypeScript without a TS loader.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/** The repository root. */
export const root = path.resolve(import.meta.dirname, '..');

/**
 * Bundles `entry` (relative to the root) and runs it; its output goes to this process's stdout.
 * The bundle lives inside node_modules so its bare imports resolve to this project's packages, and
 * sources that find the repository from their own folder (`import.meta.dirname/../..`) still do.
 */
export async function runBundled(entry, { args = [], nodeArgs = [], env = {} } = {}) {
  const out = path.join(root, 'node_modules', '.cache', 'autoresearch-ci-scripts');
  mkdirSync(out, { recursive: true });
  const outfile = path.join(out, `${path.basename(entry, '.ts')}-${process.pid}.mjs`);
  try {
    await build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      logLevel: 'warning',
      packages: 'external',
      define: { 'import.meta.dirname': JSON.stringify(path.join(root, 'scripts', 'bundled')) },
    });
    execFileSync(process.execPath, [...nodeArgs, outfile, ...args], {
      stdio: 'inherit',
      cwd: root,
      env: { ...process.env, ...env },
    });
  } finally {
    rmSync(outfile, { force: true });
  }
}
