import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommand } from '../src/run/command-line.js';
import { buildChildEnv } from '../src/run/environment.js';
import { type ExecuteOptions, execute, SpawnError } from '../src/run/execute.js';
import { tempDirs, trainerArgv, waitUntilGone } from './helpers/trainers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

function run(argv: string[], extra: Partial<ExecuteOptions> = {}) {
  const dir = dirs.make();
  const logPath = path.join(dir, 'run.log');
  const result = execute({
    argv,
    cwd: dir,
    env: buildChildEnv(process.env, { offline: true }),
    logPath,
    timeoutMs: 30_000,
    ...extra,
  });
  return { dir, logPath, result };
}

describe('execute', () => {
  it('runs a normal training to the end and streams its output to run.log', async () => {
    const { logPath, result } = run(trainerArgv('ok'));
    const r = await result;
    expect(r.exit).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    const log = readFileSync(logPath, 'utf8');
    expect(r.outputBytes).toBe(statSync(logPath).size);
    expect(log).toContain('\n---\nval_bpb:          1.807902\n');
    expect(r.tail).toBe(log);
    expect(r.lastProgress).toMatchObject({ step: 39, percent: 100, remainingSeconds: 0 });
  });

  it('reports a Python exception with its traceback in the tail', async () => {
    const r = await run(trainerArgv('crash')).result;
    expect(r.exit).toMatchObject({ exitCode: 1, signal: null, timedOut: false });
    expect(r.tail).toMatch(/Traceback \(most recent call last\):[\s\S]*ValueError: \[matmul\]/);
  });

  it('reports a Metal OOM abort by its signal, with the libc++abi line', async () => {
    const r = await run(trainerArgv('oom')).result;
    expect(r.exit).toMatchObject({ exitCode: null, signal: 'SIGABRT', timedOut: false });
    expect(r.tail).toContain('kIOGPUCommandBufferCallbackErrorOutOfMemory');
  });

  it('reports a diverged run (FAIL, exit 1)', async () => {
    const r = await run(trainerArgv('diverged')).result;
    expect(r.exit.exitCode).toBe(1);
    expect(r.tail.trimEnd().endsWith('FAIL')).toBe(true);
    expect(r.lastProgress?.step).toBe(11);
  });

  it('kills the whole process group at the hard timeout, grandchild that ignores SIGTERM included', async () => {
    const dir = dirs.make();
    const pidFile = path.join(dir, 'grandchild.pid');
    const r = await execute({
      argv: trainerArgv('hang', pidFile),
      cwd: dir,
      env: buildChildEnv(process.env, { offline: true }),
      logPath: path.join(dir, 'run.log'),
      timeoutMs: 1500,
      graceMs: 1000,
    });
    expect(r.exit).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: true, cancelled: false });
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    expect(await waitUntilGone(grandchild)).toBe(true);
    expect(r.lastProgress?.step).toBe(2);
  });

  it('sends SIGKILL after the grace when the training ignores SIGTERM', async () => {
    const r = await run(trainerArgv('stubborn'), { timeoutMs: 1000, graceMs: 500 }).result;
    expect(r.exit).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true, cancelled: false });
    expect(r.tail).toContain('Time budget: 300s');
  });

  it('cancels on abort: the group is killed and the result says cancelled', async () => {
    const dir = dirs.make();
    const pidFile = path.join(dir, 'grandchild.pid');
    const controller = new AbortController();
    const r = await execute({
      argv: trainerArgv('hang', pidFile),
      cwd: dir,
      env: buildChildEnv(process.env, { offline: true }),
      logPath: path.join(dir, 'run.log'),
      timeoutMs: 60_000,
      graceMs: 500,
      signal: controller.signal,
      heartbeatMs: 50,
      // The first heartbeat proves the training is under way; cancel then.
      onHeartbeat: () => controller.abort(),
    });
    expect(r.exit).toMatchObject({ timedOut: false, cancelled: true, exitCode: null });
    expect(await waitUntilGone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  });

  it('does not start at all when already cancelled', async () => {
    const r = await run(trainerArgv('ok'), { signal: AbortSignal.abort() }).result;
    expect(r.exit).toMatchObject({ exitCode: null, cancelled: true });
    expect(r.outputBytes).toBe(0);
  });

  it('kills background processes left behind when the leader exits', async () => {
    const { argv, viaShell } = parseCommand('sleep 60 </dev/null >/dev/null 2>&1 & echo $!');
    expect(viaShell).toBe(true);
    const r = await run(argv).result;
    expect(r.exit.exitCode).toBe(0);
    const sleeper = Number(r.tail.trim());
    expect(sleeper).toBeGreaterThan(0);
    expect(await waitUntilGone(sleeper)).toBe(true);
  });

  it('streams a flood to disk and keeps only a bounded tail', async () => {
    const bytes = 4 * 1024 * 1024 + 5;
    const { logPath, result } = run(trainerArgv('flood', String(bytes)), { tailBytes: 64 * 1024 });
    const r = await result;
    expect(r.exit.exitCode).toBe(0);
    expect(r.outputBytes).toBe(statSync(logPath).size);
    expect(r.outputBytes).toBeGreaterThan(bytes);
    expect(Buffer.byteLength(r.tail)).toBe(64 * 1024);
    expect(r.tail).toContain('---\nval_bpb:');
  });

  it('caps run.log on disk, keeping its head and tail and saying what was cut', async () => {
    const bytes = 40 * 1024 * 1024;
    const { logPath, result } = run(trainerArgv('flood', String(bytes)), {
      tailBytes: 64 * 1024,
      maxLogBytes: 1024 * 1024,
    });
    const r = await result;
    expect(r.exit.exitCode).toBe(0);
    const log = readFileSync(logPath, 'utf8');
    expect(statSync(logPath).size).toBeLessThan(1024 * 1024);
    expect(log.startsWith('x'.repeat(127))).toBe(true);
    expect(log).toContain('[autoresearch-ci: run.log passed its cap of 1 MiB;');
    expect(log.trimEnd().endsWith(r.tail.trimEnd())).toBe(true);
    expect(r.tail).toContain('---\nval_bpb:');
    expect(r.outputBytes).toBeGreaterThan(bytes);
    expect(r.cutBytes).toBeGreaterThan(bytes - 1024 * 1024);
  });

  it('gives the child nothing but the allowlisted environment', async () => {
    const secrets = {
      GITHUB_TOKEN: 'ghs_TOKEN_SECRET_1',
      'INPUT_GITHUB-TOKEN': 'ghs_INPUT_SECRET_2',
      ACTIONS_RUNTIME_TOKEN: 'RUNTIME_SECRET_3',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'OIDC_SECRET_4',
      SSH_AUTH_SOCK: '/tmp/SSH_SECRET_5.sock',
      GITHUB_OUTPUT: '/tmp/OUTPUT_SECRET_6',
    };
    const { logPath, result } = run(trainerArgv('token_thief'), {
      env: buildChildEnv({ ...process.env, ...secrets }, { offline: true }),
    });
    expect((await result).exit.exitCode).toBe(0);
    const log = readFileSync(logPath, 'utf8');
    expect(log).toContain('ENV HF_HUB_OFFLINE=1');
    for (const [name, value] of Object.entries(secrets)) {
      expect(log).not.toContain(value);
      expect(log).not.toContain(`ENV ${name}=`);
    }
  });

  it('names the program it cannot start', async () => {
    await expect(run(['/nonexistent/uv', 'run', 'train.py']).result).rejects.toThrow(SpawnError);
    await expect(run(['/nonexistent/uv']).result).rejects.toThrow(/cannot start "\/nonexistent\/uv"/);
  });
});

describe('what the training leaves behind', () => {
  it('ends a helper that left the process group and session (setsid) before it can write', async () => {
    const dir = dirs.make();
    const pidFile = path.join(dir, 'helper.pid');
    const target = path.join(dir, 'github_output');
    const r = await execute({
      argv: trainerArgv('escape', pidFile, target),
      cwd: dir,
      env: buildChildEnv(process.env, { offline: true }),
      logPath: path.join(dir, 'run.log'),
      timeoutMs: 30_000,
    });
    expect(r.exit.exitCode).toBe(0);
    const helper = Number(readFileSync(pidFile, 'utf8'));
    expect(r.leftovers).toContain(helper);
    expect(await waitUntilGone(helper)).toBe(true);
    // The helper would have written 1.5 s after it started; nothing arrives.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(() => readFileSync(target, 'utf8')).toThrow(/ENOENT/);
  });
});
