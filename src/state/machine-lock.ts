/**
 * One training at a time per machine, across runner instances and repositories: two trainings at
 * once would share the GPU and memory and make both measurements worthless. A job that finds the
 * machine busy waits visibly (naming the job it waits for) and wakes as soon as the lock file goes
 * away, watched through the file system rather than by polling fast.
 */
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { ensureStateDir } from './atomic-file.js';
import { type HeldLock, type LockOwner, tryLock } from './file-lock.js';

/** File name of the lock in its directory. */
export const MACHINE_LOCK_FILE = 'machine.lock';

/** Who holds (or wants) the machine. */
export interface MachineLockHolder {
  /** `owner/name` of the repository whose job trains. */
  repo: string;
  /** Workflow run id (or a CLI label). */
  runId: string;
  /** Process whose death frees the lock. */
  pid: number;
  /** Runner name. */
  runner: string;
  /** How long the holder may keep the machine (its runs × hard timeout); waiters wait that long. */
  holdsForMs?: number;
}

/** Options of {@link acquireMachineLock}. */
export interface MachineLockOptions {
  /** Directory of the lock; shared by every runner of the machine. Created (0700) if missing. */
  dir: string;
  holder: MachineLockHolder;
  /** How long to wait for a busy machine before failing. */
  timeoutMs: number;
  /** Receives a human line when waiting starts, then at most once per `noticeIntervalMs`. */
  onWait: (message: string) => void;
  signal?: AbortSignal;
  /** Safety net for missed file system events (default 5 s). */
  fallbackPollMs?: number;
  /** Spacing of repeated wait notices (default 60 s). */
  noticeIntervalMs?: number;
}

/** The machine, held. */
export interface MachineLock {
  /** Frees the machine if the lock is still ours; calling it again does nothing. */
  release(): Promise<void>;
}

/** Raised when the machine stayed busy for the whole allowed wait. */
export class MachineLockTimeoutError extends Error {
  override name = 'MachineLockTimeoutError';
  constructor(
    message: string,
    readonly lockPath: string,
    readonly holder: LockOwner | undefined,
  ) {
    super(message);
  }
}

/**
 * Takes the machine lock, waiting while another job trains. A lock whose holder process is dead
 * is taken over.
 * @throws MachineLockTimeoutError naming the holder after `timeoutMs`
 * @throws the signal's reason when `signal` aborts the wait
 */
export async function acquireMachineLock(options: MachineLockOptions): Promise<MachineLock> {
  const { dir, holder, timeoutMs, onWait, signal } = options;
  const noticeIntervalMs = options.noticeIntervalMs ?? 60_000;
  checkHolder(holder);
  signal?.throwIfAborted();
  await ensureStateDir(dir);
  const lockPath = path.join(dir, MACHINE_LOCK_FILE);
  const facts = {
    pid: holder.pid,
    repo: holder.repo,
    runId: holder.runId,
    runner: holder.runner,
    ...(holder.holdsForMs ? { holdsForMs: holder.holdsForMs } : {}),
  };

  // Watch before the first attempt so a release between a failed attempt and the watch is not missed.
  const waker = new Waker(dir, options.fallbackPollMs ?? 5_000);
  try {
    const started = Date.now();
    let lastNotice: number | undefined;
    for (;;) {
      const attempt = await tryLock(lockPath, facts);
      if (attempt.acquired) return machineLock(attempt.lock);
      const waited = Date.now() - started;
      // A holder that declared a longer series (a baseline of many runs) is waited for to its end.
      const limit = Math.max(timeoutMs, waited + holderEndsIn(attempt.holder));
      if (waited >= limit) {
        throw new MachineLockTimeoutError(
          `gave up after ${formatDuration(waited)} waiting for the machine lock ${lockPath}: another training is still running (${describeHolder(attempt.holder)}), longer than it declared it would. Cancel that run, or raise the protocol's hard timeout or the timeout-seconds input if trainings here really take longer; if its process no longer exists on this machine, delete ${lockPath}`,
          lockPath,
          attempt.holder,
        );
      }
      const now = Date.now();
      if (lastNotice === undefined || now - lastNotice >= noticeIntervalMs) {
        lastNotice = now;
        onWait(
          `waiting for this machine: another training is running (${describeHolder(attempt.holder)}); waited ${formatDuration(waited)} of at most ${formatDuration(limit)}`,
        );
      }
      const untilNotice = lastNotice + noticeIntervalMs - now;
      await waker.wait(Math.max(1, Math.min(limit - waited, untilNotice)), signal);
    }
  } finally {
    waker.close();
  }
}

/** Milliseconds until the holder's declared series ends (plus a minute), 0 when it declared none. */
function holderEndsIn(owner: LockOwner | undefined): number {
  const holds = owner?.['holdsForMs'];
  const since = Date.parse(owner?.startedAt ?? '');
  if (typeof holds !== 'number' || !Number.isFinite(since)) return 0;
  return Math.max(0, since + holds + 60_000 - Date.now());
}

/** Names a machine lock holder for people: `acme/nanogpt run 42 (pid 123, runner mac-1, since …)`. */
export function describeHolder(owner: LockOwner | undefined): string {
  if (!owner) return 'holder unknown: the lock file is being written or is unreadable';
  const repo = typeof owner['repo'] === 'string' ? owner['repo'] : 'an unknown repository';
  const run = typeof owner['runId'] === 'string' ? ` run ${owner['runId']}` : '';
  const runner = typeof owner['runner'] === 'string' ? `, runner ${owner['runner']}` : '';
  return `${repo}${run} (pid ${owner.pid}${runner}, host ${owner.hostname}, since ${owner.startedAt})`;
}

function machineLock(lock: HeldLock): MachineLock {
  return { release: () => lock.release() };
}

function checkHolder(holder: MachineLockHolder): void {
  for (const field of ['repo', 'runId', 'runner'] as const) {
    if (typeof holder[field] !== 'string' || holder[field] === '') {
      throw new TypeError(`acquireMachineLock: holder.${field} must be a non-empty string`);
    }
  }
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) {
    throw new TypeError(`acquireMachineLock: holder.pid must be a positive integer, got ${holder.pid}`);
  }
}

/**
 * Sleeps until something changes in the lock directory, a fallback timer fires, or the wait is
 * aborted. Events arriving while nobody waits are remembered, so none is lost between waits.
 */
class Waker {
  private watcher: FSWatcher | undefined;
  private pending = false;
  private wake: (() => void) | undefined;

  constructor(
    dir: string,
    private readonly fallbackMs: number,
  ) {
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, name) => {
        // Other state files may share the directory; only the lock (and its takeover guard) matter.
        if (name && !String(name).startsWith(MACHINE_LOCK_FILE)) return;
        this.pending = true;
        this.wake?.();
      });
      // A watcher that breaks (directory removed, too many watches) leaves the fallback timer.
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = undefined;
    }
  }

  wait(maxMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.wake = undefined;
        this.pending = false;
      };
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      const timer = setTimeout(
        () => {
          done();
          resolve();
        },
        Math.min(maxMs, this.fallbackMs),
      );
      this.wake = () => {
        done();
        resolve();
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.watcher?.close();
    this.wake = undefined;
  }
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest ? `${minutes}m ${rest}s` : `${minutes}m`;
}
