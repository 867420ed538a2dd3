// Bundles the action (dist/index.js) and the local CLI (dist/cli.js) with esbuild. `--check`
// rebuilds in memory and fails when dist/ differs, so a stale committed bundle is caught in CI.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
// Bundled CommonJS dependencies call require(); ESM output needs one.
const requireShim =
  "import { createRequire as __arciCreateRequire } from 'node:module'; const require = __arciCreateRequire(import.meta.url);";
const entries = [
  { entry: 'src/index.ts', out: 'dist/index.js', banner: requireShim },
  { entry: 'src/cli.ts', out: 'dist/cli.js', banner: `#!/usr/bin/env node\n${requireShim}` },
];

const stale = [];
for (const { entry, out, banner } of entries) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    write: false,
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: banner },
  });
  const code = result.outputFiles[0].contents;
  const target = path.join(root, out);
  if (process.argv.includes('--check')) {
    if (!existsSync(target) || !readFileSync(target).equals(Buffer.from(code))) stale.push(out);
  } else {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, code, { mode: out.endsWith('cli.js') ? 0o755 : 0o644 });
  }
}
if (stale.length > 0) {
  console.error(`${stale.join(', ')} stale: run 'npm run build' and commit dist/.`);
  process.exit(1);
}
