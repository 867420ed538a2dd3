import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireFileLock,
  isProcessAlive,
  LockTimeoutError,
  tryLock,
  withFileLock,
} from '../src/state/file-lock.js';
import { bundleWorker, killWorker, startWorker, type WorkerBundle } from './fixtures/state/harness.js';

let bundle: WorkerBundle;
let root: string;
let lockPath: string;

beforeAll(async () => {
  bundle = await bundleWorker();
});
afterAll(() => bundle.cleanup());
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'arci-lock-'));
  lockPath = path.join(root, 'dir', 'thing.lock');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const NO_SUCH_PID = 2 ** 22 + 1;

function owner(fields: Record<string, unknown>): string {
  return JSON.stringify({
    pid: process.pid,
    hostname: hostname(),
    startedAt: '2025-01-01T00:00:00.000Z',
    token: 'x',
    ...fields,
  });
}

describe('tryLock', () => {
  it('gives the lock to one caller and names the holder to the next', async () => {
    const first = await tryLock(lockPath);
    expect(first.acquired).toBe(true);
    const onDisk = JSON.parse(readFileSync(lockPath, 'utf8'));
    expect(onDisk).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(Number.isNaN(Date.parse(onDisk.startedAt))).toBe(false);

    const second = await tryLock(lockPath);
    expect(second.acquired).toBe(false);
    if (!second.acquired) expect(second.holder?.token).toBe(onDisk.token);

    if (first.acquired) {
      await first.lock.release();
      await first.lock.release();
    }
    expect(existsSync(lockPath)).toBe(false);
    expect((await tryLock(lockPath)).acquired).toBe(true);
  });

  it('release leaves alone a lock that is no longer ours', async () => {
    const attempt = await tryLock(lockPath);
    if (!attempt.acquired) throw new Error('expected the lock');
    const theirs = owner({ token: 'someone-else' });
    writeFileSync(lockPath, theirs);
    await attempt.lock.release();
    expect(readFileSync(lockPath, 'utf8')).toBe(theirs);
  });

  it('takes over a lock whose holder process is dead on this host', async () => {
    mkdirSync(path.dirname(lockPath));
    writeFileSync(lockPath, owner({ pid: NO_SUCH_PID, token: 'dead' }));
    const attempt = await tryLock(lockPath);
    expect(attempt.acquired).toBe(true);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
    expect(existsSync(`${lockPath}.takeover`)).toBe(false);
  });

  it('never takes over a lock from another host', async () => {
    mkdirSync(path.dirname(lockPath));
    writeFileSync(lockPath, owner({ pid: NO_SUCH_PID, hostname: 'some-other-mac' }));
    const error = await acquireFileLock(lockPath, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect((error as Error).message).toContain('some-other-mac');
    expect((error as Error).message).toMatch(/another host/);
    expect(existsSync(lockPath)).toBe(true);
  });

  it('waits on an unreadable lock while it may be being written, and clears it once old', async () => {
    mkdirSync(path.dirname(lockPath));
    writeFileSync(lockPath, '');
    expect((await tryLock(lockPath)).acquired).toBe(false);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath, old, old);
    expect((await tryLock(lockPath)).acquired).toBe(true);
  });

  it('clears a takeover guard left by a dead process', async () => {
    mkdirSync(path.dirname(lockPath));
    writeFileSync(lockPath, owner({ pid: NO_SUCH_PID }));
    writeFileSync(`${lockPath}.takeover`, owner({ pid: NO_SUCH_PID, token: 'guard' }));
    // First attempt clears the dead guard, a later one takes the dead lock over.
    let acquired = false;
    for (let i = 0; i < 3 && !acquired; i++) acquired = (await tryLock(lockPath)).acquired;
    expect(acquired).toBe(true);
    expect(existsSync(`${lockPath}.takeover`)).toBe(false);
  });
});

describe('acquireFileLock', () => {
  it('times out with the lock path, the holder and what to do', async () => {
    const held = await acquireFileLock(lockPath);
    const error = await acquireFileLock(lockPath, { timeoutMs: 80 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    const message = (error as Error).message;
    expect(message).toContain(lockPath);
    expect(message).toContain(`pid ${process.pid}`);
    expect(message).toContain(hostname());
    expect(message).toMatch(/delete/);
    expect((error as LockTimeoutError).holder?.token).toBe(held.owner.token);
    await held.release();
  });

  it('takes over from a holder that was SIGKILLed while holding the lock', async () => {
    const worker = startWorker(bundle.script, ['hold-lock', lockPath]);
    await worker.line('held');
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(worker.child.pid);
    await killWorker(worker);
    const lock = await acquireFileLock(lockPath, { timeoutMs: 5_000 });
    expect(lock.owner.pid).toBe(process.pid);
    await lock.release();
  });

  it('withFileLock releases the lock when the work throws', async () => {
    await expect(
      withFileLock(lockPath, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(lockPath)).toBe(false);
  });
});

describe('isProcessAlive', () => {
  it('tells a live process from one that ended', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(NO_SUCH_PID)).toBe(false);
    expect(isProcessAlive(0)).toBe(false);
    const worker = startWorker(bundle.script, ['hold-lock', lockPath]);
    await worker.line('held');
    expect(isProcessAlive(worker.child.pid!)).toBe(true);
    await killWorker(worker);
    expect(isProcessAlive(worker.child.pid!)).toBe(false);
  });
});
