/**
 * Start-up of the action as the runner starts it: `node dist/index.js` with every input set from
 * action.yml, timed to its first line on stdout and to its exit. The event is one the action skips
 * (`schedule`), so the figures are the bundle's load and settings cost, not a training.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

const root = process.env.BENCH_ROOT ?? process.cwd();
const RUNS = 15;
const action = YAML.parse(readFileSync(path.join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

function once(dir: string): Promise<{ firstLineMs: number; exitMs: number }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_REPOSITORY: 'lab/mini',
    GITHUB_WORKSPACE: dir,
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary'),
    RUNNER_TEMP: dir,
  };
  for (const [name, spec] of Object.entries(action.inputs))
    env[`INPUT_${name.toUpperCase()}`] = String(spec.default ?? '');
  env['INPUT_GITHUB-TOKEN'] = '';
  writeFileSync(env.GITHUB_OUTPUT!, '');
  writeFileSync(env.GITHUB_STEP_SUMMARY!, '');
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let firstLineMs = Number.NaN;
    const child = spawn(process.execPath, [path.join(root, 'dist/index.js')], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', () => {
      if (Number.isNaN(firstLineMs)) firstLineMs = Number(process.hrtime.bigint() - start) / 1e6;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`dist/index.js exited with ${code}`));
      else resolve({ firstLineMs, exitMs: Number(process.hrtime.bigint() - start) / 1e6 });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(path.join(tmpdir(), 'arci-startup-'));
try {
  await once(dir); // warm the file cache
  const samples = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once(dir));
  const bundleKb = Math.round(readFileSync(path.join(root, 'dist/index.js')).length / 1024);
  console.log('| measure | measured (median of 15) | goal |');
  console.log('| --- | --- | --- |');
  console.log(
    `| \`node dist/index.js\` to its first line on stdout | ${median(samples.map((s) => s.firstLineMs)).toFixed(0)} ms | ≤ 500 ms |`,
  );
  console.log(
    `| \`node dist/index.js\` to exit (a skipped event, summary written) | ${median(samples.map((s) => s.exitMs)).toFixed(0)} ms | — (informative) |`,
  );
  console.log(`| bundle size | ${bundleKb} KB | — (informative) |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
