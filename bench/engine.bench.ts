/**
 * Training engine costs: what the action process itself spends while a training runs. The child's
 * own CPU is not counted (process.cpuUsage covers this process only).
 * (1) CPU of the action while a 20 s trainer prints progress every 100 ms, as a share of wall time.
 * (2) Peak RSS of the action while a trainer prints 1 GB.
 * Prints a markdown table with the goal per row.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { planSandbox } from '../src/run/sandbox.js';
import { runTraining } from '../src/run/train.js';
import { builtinProtocol } from '../src/settings/protocol.js';

const MB = 1024 * 1024;
const root = process.env['BENCH_ROOT'] ?? process.cwd();
const trainers = path.join(root, 'test', 'fixtures', 'trainers');
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).trim();
const command = (name: string, ...args: string[]): string =>
  [python, '-B', path.join(trainers, `${name}.py`), ...args].map((w) => `'${w}'`).join(' ');
const protocol = builtinProtocol();
const work = mkdtempSync(path.join(tmpdir(), 'arci-bench-engine-'));

// The action plans the sandbox once per job, not per training.
const sandbox = await planSandbox({ offline: true });

async function train(name: string, runDir: string, ...args: string[]) {
  return runTraining({
    protocol,
    command: command(name, ...args),
    cwd: work,
    runDir: path.join(work, runDir),
    timeoutSeconds: 600,
    offline: true,
    sandbox,
  });
}

/** CPU of this process while a bare child_process reads the same trainer with a no-op handler. */
async function bareReadCpuMs(args: string[]): Promise<number> {
  const before = process.cpuUsage();
  const child = spawn(python, ['-B', path.join(trainers, 'ok.py'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', () => {});
  child.stderr.on('data', () => {});
  await new Promise((resolve) => child.on('close', resolve));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

try {
  // (1) Idle while training: 200 steps, 100 ms apart.
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const idle = await train('ok', 'idle', '200', '0.1');
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (idle.outcome.status !== 'ok') throw new Error(`idle run failed: ${JSON.stringify(idle.outcome)}`);

  // For comparison: what merely reading the output through a pipe would cost on this machine.
  const bareMs = await bareReadCpuMs(['200', '0.1']);

  // (2) Memory under a 1 GB flood; sampled as well as read from the kernel's peak.
  globalThis.gc?.();
  const rssBefore = process.memoryUsage.rss();
  let sampledPeak = rssBefore;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
  }, 100);
  const floodCpuBefore = process.cpuUsage();
  const floodStart = performance.now();
  const flood = await train('flood', 'flood', String(1024 * MB));
  const floodMs = performance.now() - floodStart;
  const floodCpu = process.cpuUsage(floodCpuBefore);
  clearInterval(sampler);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  if (flood.outcome.status !== 'ok') throw new Error(`flood run failed: ${JSON.stringify(flood.outcome)}`);

  const rows: Array<[string, string, string]> = [
    [
      'action CPU while a 20 s training prints progress every 100 ms',
      `${((cpuMs / wallMs) * 100).toFixed(3)} % (${cpuMs.toFixed(0)} ms CPU over ${(wallMs / 1000).toFixed(1)} s)`,
      '≤ 0.5 %',
    ],
    [
      'for comparison: merely reading the same output through a pipe (bare child_process, no-op handler)',
      `${((bareMs / wallMs) * 100).toFixed(3)} % (${bareMs.toFixed(0)} ms CPU)`,
      '— (informative)',
    ],
    [
      'action peak RSS while the training prints 1 GB (kernel maxRSS)',
      `${(maxRss / MB).toFixed(0)} MB`,
      '≤ 150 MB',
    ],
    [
      'action RSS sampled during the flood (peak / before)',
      `${(sampledPeak / MB).toFixed(0)} MB / ${(rssBefore / MB).toFixed(0)} MB`,
      '≤ 150 MB',
    ],
    [
      '1 GB flood: throughput to run.log, action CPU',
      `${(flood.outputBytes / MB / (floodMs / 1000)).toFixed(0)} MB/s, ${((floodCpu.user + floodCpu.system) / 1000 / 1000).toFixed(1)} s CPU`,
      '— (informative)',
    ],
  ];
  console.log('| measure | measured | goal |');
  console.log('| --- | --- | --- |');
  for (const [measure, value, goal] of rows) console.log(`| ${measure} | ${value} | ${goal} |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
