import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireMachineLock,
  type MachineLockHolder,
  type MachineLockOptions,
  MachineLockTimeoutError,
} from '../src/state/machine-lock.js';
import { bundleWorker, killWorker, startWorker, type WorkerBundle } from './fixtures/state/harness.js';

let bundle: WorkerBundle;
let root: string;
let dir: string;

beforeAll(async () => {
  bundle = await bundleWorker();
});
afterAll(() => bundle.cleanup());
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'arci-machine-'));
  dir = path.join(root, 'locks');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const holderA: MachineLockHolder = { repo: 'acme/nanogpt', runId: '101', pid: process.pid, runner: 'mac-1' };
const holderB: MachineLockHolder = {
  repo: 'other/speedrun',
  runId: '202',
  pid: process.pid,
  runner: 'mac-2',
};

function options(holder: MachineLockHolder, extra: Partial<MachineLockOptions> = {}): MachineLockOptions {
  return { dir, holder, timeoutMs: 30_000, onWait: () => {}, ...extra };
}

/** Resolves on the first onWait call; the messages list keeps every call. */
function waitNotices(): { messages: string[]; onWait: (m: string) => void; first: Promise<string> } {
  const messages: string[] = [];
  let resolveFirst: (m: string) => void = () => {};
  const first = new Promise<string>((resolve) => {
    resolveFirst = resolve;
  });
  return {
    messages,
    first,
    onWait: (m) => {
      messages.push(m);
      resolveFirst(m);
    },
  };
}

const lockFile = (): string => path.join(dir, 'machine.lock');

describe('machine lock', () => {
  it('is taken at once when the machine is free, and records the holder', async () => {
    const notices = waitNotices();
    const lock = await acquireMachineLock(options(holderA, { onWait: notices.onWait }));
    expect(notices.messages).toEqual([]);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({
      repo: 'acme/nanogpt',
      runId: '101',
      runner: 'mac-1',
      pid: process.pid,
    });
    await lock.release();
    await lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('makes a second job wait, naming the holder, and wakes it on release without the fallback timer', async () => {
    const first = await acquireMachineLock(options(holderA));
    const notices = waitNotices();
    let acquired = false;
    // A fallback far longer than the test's timeout: only the directory watch can wake the waiter.
    const second = acquireMachineLock(
      options(holderB, { onWait: notices.onWait, fallbackPollMs: 600_000 }),
    ).then((lock) => {
      acquired = true;
      return lock;
    });
    const message = await notices.first;
    expect(message).toContain('acme/nanogpt run 101');
    expect(message).toContain(`pid ${process.pid}`);
    expect(message).toContain('runner mac-1');
    expect(acquired).toBe(false);

    await first.release();
    const lock = await second;
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({
      repo: 'other/speedrun',
      runId: '202',
    });
    expect(notices.messages).toHaveLength(1);
    await lock.release();
  }, 20_000);

  it('waits for a job in another process and gets the machine once that job releases it', async () => {
    const worker = startWorker(bundle.script, ['machine', dir, 'acme/nanogpt', '77']);
    try {
      await worker.line('acquired');
      const notices = waitNotices();
      const waiting = acquireMachineLock(
        options(holderB, { onWait: notices.onWait, fallbackPollMs: 600_000 }),
      );
      const message = await notices.first;
      expect(message).toContain(`acme/nanogpt run 77 (pid ${worker.child.pid}, runner worker`);
      worker.child.stdin!.write('release\n');
      const lock = await waiting;
      await worker.line('released');
      expect(JSON.parse(readFileSync(lockFile(), 'utf8')).repo).toBe('other/speedrun');
      await lock.release();
    } finally {
      await killWorker(worker);
    }
  }, 20_000);

  it('takes over the lock of a holder that was SIGKILLed', async () => {
    const worker = startWorker(bundle.script, ['machine', dir, 'acme/nanogpt', '88']);
    await worker.line('acquired');
    await killWorker(worker);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(worker.child.pid);

    const notices = waitNotices();
    const lock = await acquireMachineLock(options(holderB, { onWait: notices.onWait, timeoutMs: 5_000 }));
    expect(notices.messages).toEqual([]);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({
      repo: 'other/speedrun',
      pid: process.pid,
    });
    await lock.release();
  });

  it('gives up after the timeout with an error naming the holder, the wait and the lock file', async () => {
    const first = await acquireMachineLock(options(holderA));
    const notices = waitNotices();
    const error = await acquireMachineLock(
      options(holderB, { onWait: notices.onWait, timeoutMs: 300 }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MachineLockTimeoutError);
    const message = (error as Error).message;
    expect(message).toMatch(/gave up after 3\d\dms waiting for the machine lock/);
    // It names only inputs that exist.
    expect(message).not.toMatch(/wait timeout/);
    expect(message).toContain('timeout-seconds input');
    expect(message).toContain(lockFile());
    expect(message).toContain(`acme/nanogpt run 101 (pid ${process.pid}, runner mac-1`);
    expect(message).toMatch(/Cancel that run/);
    expect((error as MachineLockTimeoutError).holder?.['repo']).toBe('acme/nanogpt');
    expect(notices.messages).toHaveLength(1);
    // The loser left the holder's lock alone.
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).repo).toBe('acme/nanogpt');
    await first.release();
  });

  it('waits for as long as the holder declared its series may take (a long baseline)', async () => {
    const first = await acquireMachineLock(options({ ...holderA, holdsForMs: 1_000 }));
    setTimeout(() => void first.release(), 800);
    const started = Date.now();
    // Its own floor is 300 ms; the holder said it may need a second (plus a minute of grace).
    const lock = await acquireMachineLock(options(holderB, { timeoutMs: 300, fallbackPollMs: 50 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    await lock.release();
  });

  it('repeats the wait notice no more often than the notice interval, however often it wakes', async () => {
    const first = await acquireMachineLock(options(holderA));
    const notices = waitNotices();
    // Wakes every 10 ms for ~400 ms; with the default 60 s interval only the first notice is due.
    await acquireMachineLock(
      options(holderB, { onWait: notices.onWait, timeoutMs: 400, fallbackPollMs: 10 }),
    ).catch(() => {});
    expect(notices.messages).toHaveLength(1);
    await first.release();
  });

  it('stops waiting when aborted, without taking the lock', async () => {
    const first = await acquireMachineLock(options(holderA));
    const controller = new AbortController();
    const notices = waitNotices();
    const waiting = acquireMachineLock(
      options(holderB, { onWait: notices.onWait, signal: controller.signal }),
    );
    await notices.first;
    controller.abort(new Error('job cancelled'));
    await expect(waiting).rejects.toThrow('job cancelled');
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).repo).toBe('acme/nanogpt');
    await first.release();
    expect(existsSync(lockFile())).toBe(false);

    await expect(
      acquireMachineLock(options(holderB, { signal: AbortSignal.abort(new Error('gone')) })),
    ).rejects.toThrow('gone');
  });

  it('release only removes the lock while it is still ours', async () => {
    const lock = await acquireMachineLock(options(holderA));
    const someoneElse = JSON.stringify({ ...holderB, hostname: 'h', startedAt: 'now', token: 'theirs' });
    writeFileSync(lockFile(), someoneElse);
    await lock.release();
    expect(readFileSync(lockFile(), 'utf8')).toBe(someoneElse);
  });

  it('rejects a holder with a missing field', async () => {
    await expect(acquireMachineLock(options({ ...holderA, repo: '' }))).rejects.toThrow(/holder\.repo/);
    await expect(acquireMachineLock(options({ ...holderA, pid: 0 }))).rejects.toThrow(/holder\.pid/);
  });
});
