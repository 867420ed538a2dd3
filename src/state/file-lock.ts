/**
 * Exclusive lock files shared by every process on the machine (several runner instances and the
 * local CLI). A lock is a file created with O_EXCL that names its owner; a lock whose owner process
 * is gone (on this host) is taken over, so a crashed job never blocks the machine for good.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a lock file holds, so that others can name the holder and tell whether it is stale. */
export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Random per acquisition: tells our lock apart from a later one at the same path. */
  token: string;
  /** Extra facts for messages (the machine lock adds repo, run and runner). */
  [key: string]: unknown;
}

/** A lock this process holds. */
export interface HeldLock {
  path: string;
  owner: LockOwner;
  /** Removes the lock file if it is still ours; calling it again does nothing. */
  release(): Promise<void>;
}

/** Result of one attempt: either the lock, or who holds it (undefined when unreadable or racing). */
export type LockAttempt =
  | { acquired: true; lock: HeldLock }
  | { acquired: false; holder: LockOwner | undefined };

/** Raised when a lock could not be taken within the allowed wait. */
export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
  constructor(
    message: string,
    readonly lockPath: string,
    readonly holder: LockOwner | undefined,
  ) {
    super(message);
  }
}

/** Options of {@link acquireFileLock}. */
export interface AcquireOptions {
  /** How long to wait for a busy lock before failing (default 30 s: state updates take milliseconds). */
  timeoutMs?: number;
  /** Extra owner facts written into the lock file. */
  extra?: Record<string, unknown>;
}

/**
 * A lock file that exists but cannot be parsed is normally one being written right now (created, not
 * yet filled). Only after this long is it treated as left behind by a process killed in that gap.
 */
const UNREADABLE_GRACE_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Whether a process with this pid exists on this host. A process killed but not yet reaped by its
 * parent (a zombie) still answers signal 0, yet holds nothing, so it counts as dead.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no procfs (macOS): signal 0 is the best answer available
  }
}

/** Describes a lock holder for messages: `pid 123 on host mac-1 since 2025-01-01T00:00:00.000Z`. */
export function describeOwner(owner: LockOwner | undefined): string {
  if (!owner) return 'an unidentified process (the lock file is empty or unreadable)';
  return `pid ${owner.pid} on host ${owner.hostname} since ${owner.startedAt}`;
}

/**
 * Tries once to take the lock at `lockPath`, taking over a stale one. Never waits.
 * @param extra owner facts to store; `pid` may be given to name another process as the holder
 */
export async function tryLock(lockPath: string, extra: Record<string, unknown> = {}): Promise<LockAttempt> {
  await mkdir(path.dirname(lockPath), { recursive: true, mode: 0o700 });
  // A few rounds: the holder may release, or a stale lock be cleared, between our steps.
  for (let round = 0; round < 3; round++) {
    const owner = newOwner(extra);
    if (await createExclusive(lockPath, owner)) return { acquired: true, lock: heldLock(lockPath, owner) };
    const seen = await readLock(lockPath);
    if (seen.kind === 'missing') continue;
    if (!isStale(seen)) return { acquired: false, holder: seen.owner };
    if (!(await removeStale(lockPath, seen.raw))) return { acquired: false, holder: seen.owner };
  }
  return { acquired: false, holder: undefined };
}

/**
 * Waits (polling with a short, growing, jittered delay) until the lock is ours.
 * @throws LockTimeoutError naming the holder when `timeoutMs` passes
 */
export async function acquireFileLock(lockPath: string, options: AcquireOptions = {}): Promise<HeldLock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const attempt = await tryLock(lockPath, options.extra);
    if (attempt.acquired) return attempt.lock;
    const left = deadline - Date.now();
    if (left <= 0) {
      const holder = attempt.holder;
      const remedy =
        holder && holder.hostname !== hostname()
          ? `it was taken on another host, so its process cannot be checked from here; if that process is gone, delete ${lockPath}`
          : `if that process is stuck, stop it; if it no longer exists, delete ${lockPath}`;
      throw new LockTimeoutError(
        `timed out after ${timeoutMs} ms waiting for the lock ${lockPath}, held by ${describeOwner(holder)}; ${remedy}`,
        lockPath,
        holder,
      );
    }
    // Jitter keeps several waiters from retrying in lockstep.
    await sleep(Math.min(left, delay * (0.5 + Math.random())));
    delay = Math.min(delay * 2, 100);
  }
}

/** Runs `fn` while holding the lock at `lockPath`, releasing it however `fn` ends. */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T> | T,
  options: AcquireOptions = {},
): Promise<T> {
  const lock = await acquireFileLock(lockPath, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Reads the owner recorded in a lock file; undefined when there is no lock or it is unreadable. */
export async function readLockOwner(lockPath: string): Promise<LockOwner | undefined> {
  const seen = await readLock(lockPath);
  return seen.kind === 'owner' ? seen.owner : undefined;
}

function newOwner(extra: Record<string, unknown>): LockOwner {
  return {
    ...extra,
    pid: typeof extra['pid'] === 'number' ? extra['pid'] : process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
}

/** O_EXCL create: exactly one process succeeds while the file exists. */
async function createExclusive(file: string, owner: LockOwner): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } catch (error) {
    await handle.close();
    await unlink(file).catch(() => {});
    throw error;
  }
  await handle.close();
  return true;
}

type SeenLock =
  | { kind: 'missing' }
  | { kind: 'owner'; owner: LockOwner; raw: string; mtimeMs: number }
  | { kind: 'unreadable'; owner: undefined; raw: string; mtimeMs: number };

async function readLock(file: string): Promise<SeenLock> {
  let raw: string;
  let mtimeMs: number;
  try {
    raw = await readFile(file, 'utf8');
    mtimeMs = (await stat(file)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  try {
    const parsed = JSON.parse(raw) as Partial<LockOwner>;
    if (
      typeof parsed.pid === 'number' &&
      typeof parsed.hostname === 'string' &&
      typeof parsed.startedAt === 'string' &&
      typeof parsed.token === 'string'
    ) {
      return { kind: 'owner', owner: parsed as LockOwner, raw, mtimeMs };
    }
  } catch {
    // fall through: unreadable
  }
  return { kind: 'unreadable', owner: undefined, raw, mtimeMs };
}

function isStale(seen: Exclude<SeenLock, { kind: 'missing' }>): boolean {
  if (seen.kind === 'unreadable') return Date.now() - seen.mtimeMs > UNREADABLE_GRACE_MS;
  // A holder on another host (a shared network home) cannot be checked: never take it over.
  return seen.owner.hostname === hostname() && !isProcessAlive(seen.owner.pid);
}

/**
 * Deletes a stale lock, but only the exact one judged stale. Without the guard, two waiters could
 * both judge it stale, one delete it and take a fresh lock, and the other delete that fresh lock.
 * The guard is held for microseconds; a guard left by a killed process is cleared the same way.
 * @returns whether the caller may try to create the lock again right away
 */
async function removeStale(lockPath: string, staleRaw: string): Promise<boolean> {
  const guard = `${lockPath}.takeover`;
  if (!(await createExclusive(guard, newOwner({})))) {
    const other = await readLock(guard);
    if (other.kind !== 'missing' && isStale(other)) await unlinkIfExists(guard);
    return false;
  }
  try {
    const again = await readLock(lockPath);
    if (again.kind !== 'missing' && again.raw === staleRaw) await unlinkIfExists(lockPath);
    return true;
  } finally {
    await unlinkIfExists(guard);
  }
}

function heldLock(lockPath: string, owner: LockOwner): HeldLock {
  let released = false;
  return {
    path: lockPath,
    owner,
    async release() {
      if (released) return;
      released = true;
      // Only ours: if we were judged dead and taken over, the file now belongs to someone else.
      const seen = await readLock(lockPath);
      if (seen.kind === 'owner' && seen.owner.token === owner.token) await unlinkIfExists(lockPath);
    },
  };
}

async function unlinkIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
