import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { ProcessExit } from '../src/model.js';
import { budgetWarnings } from '../src/result/budget.js';
import { classifyOutcome } from '../src/result/classify.js';
import { parseSummary } from '../src/result/summary.js';
import { builtinProtocol } from '../src/settings/protocol.js';

const logs = path.resolve(import.meta.dirname, 'fixtures/logs');
const protocol = builtinProtocol();

/**
 * How each logged run really ended, as a shell command run after the log is replayed: train.py
 * exits 1 after FAIL or a traceback, Metal aborts (SIGABRT) on OOM, the runner's hard timeout
 * stops a run in its final eval.
 */
const endings: Record<string, { end: string; timeout?: boolean }> = {
  'ok.log': { end: 'exit 0' },
  'crash-traceback.log': { end: 'exit 1' },
  'diverged.log': { end: 'exit 1' },
  // No core file: the abort must end the process, not fill the disk.
  'oom-metal.log': { end: 'ulimit -c 0; kill -ABRT $$' },
  'timeout-during-eval.log': { end: 'exec sleep 30', timeout: true },
  'hostile-fake-summary.log': { end: 'exit 0' },
  'crlf-partial.log': { end: 'exit 0' },
  'protocol-example.log': { end: 'exit 0' },
};

/** Replays a log through a real process that ends the way the logged run did. */
async function replay(name: string): Promise<{ exit: ProcessExit; tail: string }> {
  const ending = endings[name];
  if (!ending) throw new Error(`no ending for fixture ${name}: add it to 'endings'`);
  const result = await execa('sh', ['-c', `cat "$1"; ${ending.end}`, 'sh', path.join(logs, name)], {
    all: true,
    reject: false,
    stripFinalNewline: false,
    ...(ending.timeout ? { timeout: 500 } : {}),
  });
  return {
    tail: String(result.all ?? ''),
    exit: {
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      timedOut: result.timedOut,
      cancelled: result.isCanceled,
      durationMs: result.durationMs,
    },
  };
}

async function judge(name: string) {
  const { exit, tail } = await replay(name);
  expect(tail).toBe(readFileSync(path.join(logs, name), 'utf8'));
  const summary = parseSummary(tail, protocol);
  const outcome = classifyOutcome({ exit, tail, summary, protocol, tampered: [] });
  return { exit, summary, outcome, warnings: budgetWarnings(summary, protocol) };
}

describe('fixture logs', () => {
  it('has an expected ending for every fixture', () => {
    expect(readdirSync(logs).sort()).toEqual(Object.keys(endings).sort());
  });

  it('ok.log: a normal run', async () => {
    const { exit, summary, outcome, warnings } = await judge('ok.log');
    expect(exit.exitCode).toBe(0);
    expect(summary).toMatchObject({ found: true, primary: 1.807902, primaryNonFinite: false });
    expect(summary.metrics).toMatchObject({
      peak_vram_mb: 21196.8,
      training_seconds: 302.4,
      num_steps: 1320,
    });
    expect(outcome).toEqual({ status: 'ok' });
    expect(warnings).toEqual([]);
  });

  it('crash-traceback.log: the ValueError is the reason', async () => {
    const { exit, summary, outcome } = await judge('crash-traceback.log');
    expect(exit.exitCode).toBe(1);
    expect(summary.found).toBe(false);
    expect(outcome).toMatchObject({
      status: 'crash',
      kind: 'exception',
      reason:
        'ValueError: [matmul] Last dimension of first input with shape (16,2048,384) must match second to last dimension of second input with shape (512,384).',
    });
    if (outcome.status !== 'crash') throw new Error('unreachable');
    expect(outcome.excerpt.split('\n')).toHaveLength(6);
    expect(outcome.excerpt).toMatch(
      /^Traceback \(most recent call last\):\n {2}File ".*train\.py", line 452/,
    );
  });

  it('diverged.log: FAIL after the last progress segment', async () => {
    const { summary, outcome } = await judge('diverged.log');
    expect(summary.found).toBe(false);
    expect(outcome).toMatchObject({ status: 'crash', kind: 'diverged' });
    if (outcome.status !== 'crash') throw new Error('unreachable');
    expect(outcome.reason).toContain('step 11 (loss 141.424390)');
    expect(outcome.excerpt.split('\n')).toHaveLength(4);
    expect(outcome.excerpt.endsWith('FAIL')).toBe(true);
  });

  it('oom-metal.log: a Metal abort without traceback', async () => {
    const { exit, outcome } = await judge('oom-metal.log');
    expect(exit.signal).toBe('SIGABRT');
    expect(outcome).toMatchObject({ status: 'crash', kind: 'oom' });
    if (outcome.status !== 'crash') throw new Error('unreachable');
    expect(outcome.reason).toContain('Insufficient Memory');
    expect(outcome.excerpt.split('\n').at(-1)).toContain('kIOGPUCommandBufferCallbackErrorOutOfMemory');
    expect(outcome.hint).toMatch(/batch size/);
  });

  it('timeout-during-eval.log: stopped by the hard timeout in the final eval', async () => {
    const { exit, summary, outcome } = await judge('timeout-during-eval.log');
    expect(exit.timedOut).toBe(true);
    expect(summary.found).toBe(false);
    expect(outcome).toMatchObject({ status: 'crash', kind: 'timeout' });
    if (outcome.status !== 'crash') throw new Error('unreachable');
    expect(outcome.excerpt.split('\n').slice(-4)).toEqual([
      'step 00899 (69.0%) | loss: 3.164807 | lrm: 1.00 | dt: 230ms | tok/sec: 284,939 | epoch: 1 | remaining: 93s',
      'Training completed in 206.9s',
      'Starting final eval...',
      'Final eval batch size: 256',
    ]);
  });

  it('hostile-fake-summary.log: the real last block wins over the fake one', async () => {
    const { summary, outcome } = await judge('hostile-fake-summary.log');
    expect(summary.primary).toBe(1.912345);
    expect(summary.metrics.peak_vram_mb).toBe(20480);
    expect(outcome).toEqual({ status: 'ok' });
  });

  it('crlf-partial.log: CRLF line ends and only some keys', async () => {
    const { summary, outcome, warnings } = await judge('crlf-partial.log');
    expect(summary.raw).toEqual({
      val_bpb: '2.534000',
      training_seconds: '312.4',
      total_seconds: '405.7',
      peak_vram_mb: '27528.9',
    });
    expect(summary.primary).toBe(2.534);
    expect(outcome).toEqual({ status: 'ok' });
    expect(warnings).toEqual([]);
  });

  it("protocol-example.log: the protocol's own example", async () => {
    const { summary, outcome } = await judge('protocol-example.log');
    expect(summary.metrics).toEqual({
      val_bpb: 2.534,
      training_seconds: 312.4,
      total_seconds: 405.7,
      peak_vram_mb: 27528.9,
      mfu_percent: 0,
      total_tokens_M: 39.8,
      num_steps: 46,
      num_params_M: 50.3,
      depth: 8,
    });
    expect(outcome).toEqual({ status: 'ok' });
  });
});
