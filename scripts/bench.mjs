// Runs the benchmarks in bench/*.ts: each is bundled with esbuild (so the measured code is what
// ships) and run as its own Node process, which prints its section as a table.
// Usage: npm run bench [-- section ...]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const wanted = process.argv.slice(2);
const sections = readdirSync(path.join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();
const out = mkdtempSync(path.join(tmpdir(), 'arci-bench-'));
try {
  for (const name of sections) {
    const outfile = path.join(out, `${name}.mjs`);
    await build({
      absWorkingDir: root,
      entryPoints: [path.join('bench', `${name}.bench.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      logLevel: 'warning',
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    console.log(`\n## ${name}\n`);
    execFileSync(process.execPath, ['--expose-gc', outfile], {
      stdio: 'inherit',
      cwd: root,
      env: { ...process.env, BENCH_ROOT: root },
    });
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
