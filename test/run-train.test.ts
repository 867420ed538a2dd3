import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpawnError } from '../src/run/execute.js';
import { type RunTrainingOptions, runTraining } from '../src/run/train.js';
import { builtinProtocol } from '../src/settings/protocol.js';
import { nativeSandboxKind } from './helpers/platform.js';
import { tempDirs, trainerCommand, waitUntilGone } from './helpers/trainers.js';

/** The wall-clock check on the fixtures, which report 302.4 s of training after a fraction of one. */
const REPORTED_TIME_UNTRUE =
  /^train\.py reports training_seconds 302\.4 s, but the process ran only \d+\.\d s: the reported time cannot be true$/;

const dirs = tempDirs();
afterEach(() => dirs.cleanup());
const protocol = builtinProtocol();

/** What the runner would parse as a workflow command in a job-log line. */
const WORKFLOW_COMMAND = /(^|[\r\n])\s*(::|##\[)/;

async function train(command: string, extra: Partial<RunTrainingOptions> = {}) {
  const cwd = dirs.make();
  const lines: string[] = [];
  const run = await runTraining({
    protocol,
    command,
    cwd,
    runDir: path.join(cwd, 'runs', '1'),
    timeoutSeconds: 60,
    offline: true,
    parentEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
    log: (line) => lines.push(line),
    ...extra,
  });
  return { run, lines, cwd };
}

describe('runTraining', () => {
  it('reads val_bpb from a normal run, inside the network sandbox', async () => {
    const { run, lines } = await train(trainerCommand('ok'));
    expect(run.outcome).toEqual({ status: 'ok' });
    expect(run.summary.primary).toBe(1.807902);
    expect(run.summary.metrics['peak_vram_mb']).toBe(21196.8);
    expect(run.sandbox.kind).toBe(nativeSandboxKind());
    // The fixture prints a real run's summary in a fraction of a second: the measured clock says so.
    expect(run.warnings).toEqual([expect.stringMatching(REPORTED_TIME_UNTRUE)]);
    expect(run.tampered).toEqual([]);
    expect(run.lastProgress?.step).toBe(39);
    expect(run.logPath).toBe(path.join(run.runDir, 'run.log'));
    expect(readFileSync(run.logPath, 'utf8')).toBe(run.tail);
    expect(lines.at(-1)).toMatch(/exit code 0/);
  });

  it('classifies a Python exception', async () => {
    const { run } = await train(trainerCommand('crash'));
    expect(run.outcome).toMatchObject({ status: 'crash', kind: 'exception' });
    if (run.outcome.status === 'crash') expect(run.outcome.reason).toContain('ValueError: [matmul]');
  });

  it('classifies a Metal out-of-memory abort and suggests the protocol OOM policy', async () => {
    const { run } = await train(trainerCommand('oom'));
    expect(run.exit.signal).toBe('SIGABRT');
    expect(run.outcome).toMatchObject({
      status: 'crash',
      kind: 'oom',
      hint: expect.stringMatching(/batch/i),
    });
  });

  it('classifies a diverged run', async () => {
    const { run } = await train(trainerCommand('diverged'));
    expect(run.outcome).toMatchObject({ status: 'crash', kind: 'diverged' });
  });

  it('stops a hung run at the hard timeout, grandchild included', async () => {
    const pidFile = path.join(dirs.make(), 'grandchild.pid');
    const { run } = await train(trainerCommand('hang', pidFile), { timeoutSeconds: 1.5, graceMs: 1000 });
    expect(run.exit.timedOut).toBe(true);
    expect(run.outcome).toMatchObject({ status: 'crash', kind: 'timeout' });
    expect(await waitUntilGone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  });

  it('heartbeats into the log and cancels on abort', async () => {
    const pidFile = path.join(dirs.make(), 'grandchild.pid');
    const controller = new AbortController();
    const heartbeats: string[] = [];
    const { run } = await train(trainerCommand('hang', pidFile), {
      signal: controller.signal,
      heartbeatMs: 50,
      graceMs: 500,
      log: (line) => {
        if (line.startsWith('training: ')) {
          heartbeats.push(line);
          controller.abort();
        }
      },
    });
    // The last complete progress segment: the one still being written is not read yet.
    expect(heartbeats[0]).toMatch(/^training: step 1 \(66\.7%\), loss 8\.94, 100 s remaining$/);
    expect(run.exit.cancelled).toBe(true);
    expect(run.outcome).toMatchObject({ status: 'crash', kind: 'cancelled' });
    expect(await waitUntilGone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  });

  it('takes the last summary block, not a fake early one', async () => {
    const { run } = await train(trainerCommand('fake_summary'));
    expect(run.outcome.status).toBe('ok');
    expect(run.summary.primary).toBe(1.912345);
    expect(readFileSync(run.logPath, 'utf8')).toContain('val_bpb:          0.000001');
  });

  it('fails a run that wrote to a runner file-command file as tampering', async () => {
    const runnerTemp = dirs.make();
    const output = path.join(runnerTemp, 'set_output');
    writeFileSync(output, '');
    const { run } = await train(trainerCommand('tamper', output), {
      parentEnv: { PATH: process.env['PATH'], GITHUB_OUTPUT: output },
    });
    expect(run.tampered).toEqual([output]);
    expect(run.outcome).toMatchObject({ status: 'crash', kind: 'tampering' });
  });

  it('keeps the runner secrets away from the training', async () => {
    const secrets = {
      GITHUB_TOKEN: 'ghs_TOKEN_SECRET_1',
      'INPUT_GITHUB-TOKEN': 'ghs_INPUT_SECRET_2',
      ACTIONS_RUNTIME_TOKEN: 'RUNTIME_SECRET_3',
      ACTIONS_RESULTS_URL: 'https://RESULTS_SECRET_4',
      SSH_AUTH_SOCK: '/tmp/SSH_SECRET_5.sock',
      GITHUB_ENV: path.join(dirs.make(), 'ENV_SECRET_6'),
    };
    const { run } = await train(trainerCommand('token_thief'), {
      parentEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...secrets },
    });
    expect(run.outcome.status).toBe('ok');
    const log = readFileSync(run.logPath, 'utf8');
    expect(log).toMatch(/^ENV PATH=/m);
    for (const value of Object.values(secrets)) expect(log).not.toContain(value);
  });

  it('keeps workflow commands the training prints out of the job log', async () => {
    const { run, lines } = await train(trainerCommand('inject'), { heartbeatMs: 10 });
    expect(run.outcome.status).toBe('ok');
    // They are in run.log, as printed …
    expect(readFileSync(run.logPath, 'utf8')).toContain('::set-output name=status::keep');
    // … and nothing the action logged can be read as one.
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toMatch(WORKFLOW_COMMAND);
  });

  it('neutralises a multi-line protocol command before logging it', async () => {
    const { run, lines } = await train('true\n::set-output name=status::keep');
    expect(run.outcome).toMatchObject({ status: 'crash', kind: 'exception' });
    expect(lines[0]).toContain('\n:\u200B:set-output name=status::keep');
    for (const line of lines) expect(line).not.toMatch(WORKFLOW_COMMAND);
  });

  it('names the program it cannot start', async () => {
    await expect(train('/nonexistent/uv run train.py')).rejects.toThrow(SpawnError);
  });

  it('streams a flood to run.log and keeps a bounded tail', async () => {
    const bytes = 3 * 1024 * 1024;
    const { run } = await train(trainerCommand('flood', String(bytes)));
    expect(run.outcome.status).toBe('ok');
    expect(run.outputBytes).toBeGreaterThan(bytes);
    expect(Buffer.byteLength(run.tail)).toBe(256 * 1024);
    expect(run.summary.primary).toBe(1.807902);
  });

  it('warns when the run was not isolated although offline was asked for', async () => {
    const { run, lines } = await train(trainerCommand('ok'), {
      sandbox: { wrap: (argv) => argv, info: { kind: 'none', detail: 'unshare -rn failed: NOT isolated' } },
    });
    expect(run.sandbox.kind).toBe('none');
    expect(run.warnings).toEqual([
      'the training ran without network isolation: unshare -rn failed: NOT isolated',
      expect.stringMatching(REPORTED_TIME_UNTRUE),
    ]);
    // The caller made the plan, so the caller announces it (once per job); the run does not repeat it.
    expect(lines.filter((l) => l.includes('without network isolation'))).toEqual([]);
  });

  it('warns when the training time drifted from the budget', async () => {
    const fast = builtinProtocol();
    fast.budgetSeconds = 60;
    const { run } = await train(trainerCommand('ok'), { protocol: fast });
    expect(run.warnings.join('\n')).toMatch(/training_seconds is 302.4 s but the protocol's budget is 60 s/);
  });
});
