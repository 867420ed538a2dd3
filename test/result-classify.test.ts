import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type Options } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { Outcome, ProcessExit } from '../src/model.js';
import { classifyOutcome, MAX_EXCERPT_CHARS, MAX_EXCERPT_LINES, oomHint } from '../src/result/classify.js';
import { parseSummary } from '../src/result/summary.js';
import { builtinProtocol, type Protocol } from '../src/settings/protocol.js';

const protocol = builtinProtocol();
const dir = mkdtempSync(path.join(tmpdir(), 'result-classify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasPython = (() => {
  try {
    execFileSync('python3', ['-c', 'pass'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const progress = (step: number, loss = 3.1) =>
  `\rstep ${String(step).padStart(5, '0')} (${(step / 10).toFixed(1)}%) | loss: ${loss.toFixed(6)} | remaining: 10s    `;
const SUMMARY = '---\nval_bpb:          1.800000\ntraining_seconds: 300.1\n';

function exitWith(fields: Partial<ProcessExit>): ProcessExit {
  return { exitCode: 0, signal: null, timedOut: false, cancelled: false, durationMs: 1000, ...fields };
}

function classify(
  tail: string,
  exit: ProcessExit,
  options: { tampered?: string[]; protocol?: Protocol } = {},
) {
  const p = options.protocol ?? protocol;
  return classifyOutcome({
    exit,
    tail,
    summary: parseSummary(tail, p),
    protocol: p,
    tampered: options.tampered ?? [],
  });
}

/** Runs a real child and reads its combined output and ending the way the runner does. */
async function run(
  file: string,
  args: string[],
  options: Options = {},
): Promise<{ exit: ProcessExit; tail: string }> {
  const result = await execa(file, args, { all: true, reject: false, stripFinalNewline: false, ...options });
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

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, body);
  return file;
}

function expectCrash(outcome: Outcome, kind: string) {
  expect(outcome.status).toBe('crash');
  if (outcome.status !== 'crash') throw new Error('unreachable');
  expect(outcome.kind).toBe(kind);
  expect(outcome.reason).not.toContain('\n');
  expect(outcome.excerpt.split('\n').length).toBeLessThanOrEqual(MAX_EXCERPT_LINES);
  expect(outcome.excerpt.length).toBeLessThanOrEqual(MAX_EXCERPT_CHARS);
  return outcome;
}

describe('classifyOutcome priority', () => {
  it('is ok for a clean exit with the primary metric', () => {
    expect(classify(`${progress(1)}\n${SUMMARY}`, exitWith({}))).toEqual({ status: 'ok' });
  });

  it('puts tampering first, even over a good result', () => {
    const tampered = ['/runner/_work/_temp/_runner_file_commands/set_output_1', '/runner/env'];
    const o = expectCrash(classify(SUMMARY, exitWith({}), { tampered }), 'tampering');
    expect(o.reason).toContain('2 runner file(s)');
    expect(o.excerpt).toBe(tampered.join('\n'));
  });

  it('puts cancelled before timeout, and timeout before an OOM message', () => {
    const tail = `${progress(3)}\nkIOGPUCommandBufferCallbackErrorOutOfMemory\n`;
    const both = exitWith({
      exitCode: null,
      signal: 'SIGTERM',
      timedOut: true,
      cancelled: true,
      durationMs: 61_000,
    });
    const cancelled = expectCrash(classify(tail, both), 'cancelled');
    expect(cancelled.reason).toContain('61 s');
    const timeout = expectCrash(classify(tail, { ...both, cancelled: false }), 'timeout');
    expect(timeout.reason).toContain(`${protocol.hardTimeoutSeconds} s`);
    expect(timeout.hint).toContain(`${protocol.budgetSeconds} s`);
  });

  it('trusts a clean exit with a metric over an OOM the script recovered from', () => {
    const tail = `RuntimeError: [metal::malloc] Attempting to allocate 9 GB\nretrying with batch 8\n${SUMMARY}`;
    expect(classify(tail, exitWith({}))).toEqual({ status: 'ok' });
  });
});

describe('out of memory', () => {
  it.each([
    '[metal::malloc] Attempting to allocate 34359738368 bytes which is greater than the maximum allowed buffer size',
    'Error: command buffer failed (kIOGPUCommandBufferCallbackErrorOutOfMemory)',
    'libc++abi: terminating: [METAL] Command buffer execution failed: Insufficient Memory',
    'MemoryError',
    'torch.OutOfMemoryError: MPS backend out of memory (MPS allocated: 17 GB)',
  ])('recognises %s', (line) => {
    const o = expectCrash(
      classify(`${progress(1)}${progress(2)}${line}\n`, exitWith({ exitCode: 1 })),
      'oom',
    );
    expect(o.reason).toContain(line.slice(0, 40));
    expect(o.hint).toBe(oomHint('reduce_batch'));
    expect(o.hint).toMatch(/reduce the batch size/i);
  });

  it("uses the protocol's OOM policy for the hint", () => {
    const custom = { ...protocol, oomPolicy: 'skip_experiment' };
    const o = expectCrash(
      classify('Insufficient Memory\n', exitWith({ exitCode: 1 }), { protocol: custom }),
      'oom',
    );
    expect(o.hint).toContain('skip_experiment');
  });

  it('calls a SIGKILL the action did not send an OOM (real child)', async () => {
    const file = script(
      'killed.sh',
      `printf 'step 00001 | loss: 3.0    \\rstep 00002 | loss: 2.9    '\nkill -KILL $$\n`,
    );
    const { exit, tail } = await run('sh', [file]);
    expect(exit.signal).toBe('SIGKILL');
    const o = expectCrash(classify(tail, exit), 'oom');
    expect(o.reason).toContain('SIGKILL');
    expect(o.excerpt).toBe('step 00002 | loss: 2.9');
  });

  it('reads exit code 137 from a wrapper as SIGKILL', () => {
    expectCrash(classify(progress(5), exitWith({ exitCode: 137 })), 'oom');
  });

  it.runIf(hasPython)('reads a real Python metal::malloc traceback as OOM', async () => {
    const file = script(
      'malloc.py',
      'def alloc():\n    raise RuntimeError("[metal::malloc] Attempting to allocate 40000000000 bytes")\nalloc()\n',
    );
    const { exit, tail } = await run('python3', [file]);
    const o = expectCrash(classify(tail, exit), 'oom');
    expect(o.reason).toBe('RuntimeError: [metal::malloc] Attempting to allocate 40000000000 bytes');
    expect(o.excerpt.split('\n')[0]).toBe('Traceback (most recent call last):');
  });
});

describe('diverged', () => {
  it('sees FAIL printed after the padding of the last progress segment (real child)', async () => {
    const data = script('fail.out', `${progress(1, 120)}${progress(2, 150)}`);
    const { exit, tail } = await run('sh', ['-c', 'cat "$1"; echo FAIL; exit 1', 'sh', data]);
    expect(exit.exitCode).toBe(1);
    const o = expectCrash(classify(tail, exit), 'diverged');
    expect(o.reason).toContain('step 2 (loss 150.000000)');
    expect(o.excerpt.split('\n').at(-1)).toMatch(/^step 00002 .*\s+FAIL$/);
  });

  it('sees FAIL as a segment of its own', () => {
    expectCrash(classify(`${progress(1)}\rFAIL\r\n`, exitWith({ exitCode: 1 })), 'diverged');
  });

  it('does not take FAIL inside other text for divergence', () => {
    const o = classify(`tests: FAILED\nstatus FAIL!\n`, exitWith({ exitCode: 2 }));
    expectCrash(o, 'exception');
  });

  it('calls a nan primary diverged even after a clean exit', () => {
    const o = expectCrash(classify('---\nval_bpb: nan\n', exitWith({})), 'diverged');
    expect(o.reason).toContain('val_bpb was nan');
  });
});

describe('exceptions', () => {
  it.runIf(hasPython)('takes the last line of a real Python traceback as the reason', async () => {
    const file = script(
      'crash.py',
      [
        'import sys',
        'print("Time budget: 300s", flush=True)',
        'sys.stdout.write("\\rstep 00001 | loss: 3.0    "); sys.stdout.flush()',
        'def matmul(a, b):',
        '    raise ValueError(f"[matmul] Last dimension of first input with shape {a} must match {b}.")',
        'matmul((16, 2048, 384), (512, 384))',
      ].join('\n'),
    );
    const { exit, tail } = await run('python3', [file]);
    expect(exit.exitCode).toBe(1);
    const o = expectCrash(classify(tail, exit), 'exception');
    expect(o.reason).toBe(
      'ValueError: [matmul] Last dimension of first input with shape (16, 2048, 384) must match (512, 384).',
    );
    const lines = o.excerpt.split('\n');
    expect(lines[0]).toBe('Traceback (most recent call last):');
    expect(lines).toContain('    matmul((16, 2048, 384), (512, 384))');
    expect(lines.at(-1)).toBe(o.reason);
  });

  it.runIf(hasPython)('bounds the excerpt of a deep traceback and keeps its end', async () => {
    const file = script('deep.py', 'def f(n):\n    return f(n - 1) if n else 1 / 0\nf(60)\n');
    const { exit, tail } = await run('python3', [file]);
    const o = expectCrash(classify(tail, exit), 'exception');
    expect(o.reason).toBe('ZeroDivisionError: division by zero');
    expect(o.excerpt.split('\n').length).toBeLessThanOrEqual(MAX_EXCERPT_LINES);
    expect(o.excerpt.endsWith('ZeroDivisionError: division by zero')).toBe(true);
  });

  it('names the exit code when there is no traceback', () => {
    const o = expectCrash(classify(`${progress(9)}\n`, exitWith({ exitCode: 3 })), 'exception');
    expect(o.reason).toBe('`uv run train.py` exited with code 3 without a Python traceback');
    expect(o.excerpt).toBe('step 00009 (0.9%) | loss: 3.100000 | remaining: 10s');
  });

  it('names the signal when another signal ended it (real child)', async () => {
    const { exit, tail } = await run('sh', ['-c', 'echo starting; kill -TERM $$']);
    const o = expectCrash(classify(tail, exit), 'exception');
    expect(o.reason).toContain('killed by SIGTERM');
    expect(o.excerpt).toBe('starting');
  });

  it('keeps only the last progress segment of a huge progress line in the excerpt', () => {
    const tail = Array.from({ length: 20_000 }, (_, i) => progress(i)).join('');
    const o = expectCrash(classify(tail, exitWith({ exitCode: 1 })), 'exception');
    expect(o.excerpt).toBe(progress(19_999).replace('\r', '').trimEnd());
  });
});

describe('missing metrics', () => {
  it('reports a clean exit without a summary block', () => {
    const o = expectCrash(classify('Training completed\n', exitWith({})), 'missing-metrics');
    expect(o.reason).toContain('no "---" summary block');
    expect(o.hint).toContain(protocol.primary.pattern.source);
  });

  it('says the summary must come last when more output than the tail holds follows it', () => {
    const tail = 'x'.repeat(256 * 1024);
    const o = expectCrash(
      classifyOutcome({
        exit: exitWith({}),
        tail,
        summary: parseSummary(tail, protocol),
        protocol,
        tampered: [],
        outputBytes: 300 * 1024 + 40,
      }),
      'missing-metrics',
    );
    expect(o.reason).toBe(
      'the run exited with code 0, but the last 256 KiB of its output hold no "---" summary block, so val_bpb is missing: the summary must be the last thing train.py prints',
    );
  });

  it('reports a primary printed as n/a', () => {
    const o = expectCrash(classify('---\nval_bpb: n/a\n', exitWith({})), 'missing-metrics');
    expect(o.reason).toBe('val_bpb was "n/a" in the summary block, not a number');
  });

  it('lists the keys of a block without the primary', () => {
    const o = expectCrash(classify('---\nloss: 2\nsteps: 4\n', exitWith({})), 'missing-metrics');
    expect(o.reason).toBe('the summary block has no val_bpb line (it has loss, steps)');
  });
});

describe('real cancellation and timeout', () => {
  it('classifies a child stopped by the timeout as timeout', async () => {
    const file = script('slow.sh', `printf 'Starting final eval...\\n'\nexec sleep 30\n`);
    const { exit, tail } = await run('sh', [file], { timeout: 300 });
    expect(exit.timedOut).toBe(true);
    const o = expectCrash(classify(tail, exit), 'timeout');
    expect(o.reason).toContain('before printing its summary');
    expect(o.excerpt).toBe('Starting final eval...');
  });

  it('classifies a child stopped by cancellation as cancelled', async () => {
    const controller = new AbortController();
    const file = script('cancel.sh', `printf 'step 00001\\n'\nexec sleep 30\n`);
    const running = run('sh', [file], { cancelSignal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const { exit, tail } = await running;
    expect(exit.cancelled).toBe(true);
    expectCrash(classify(tail, exit), 'cancelled');
  });
});
