// Runs the benchmarks in bench/*.bench.ts, each bundled with esbuild (so the measured code is what
// ships) and run as its own Node process, which prints its section as a table.
// Usage: npm run bench [-- section ...]
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { root, runBundled } from './run-bundled.mjs';

const wanted = process.argv.slice(2);
const sections = readdirSync(path.join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();
for (const name of sections) {
  console.log(`\n## ${name}\n`);
  await runBundled(path.join('bench', `${name}.bench.ts`), {
    nodeArgs: ['--expose-gc'],
    env: { BENCH_ROOT: root },
  });
}
