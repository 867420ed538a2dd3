/**
 * Runs one child process safely: in its own process group, its output going straight to a log
 * file, with a hard timeout and cancellation that take the whole group down (SIGTERM, then SIGKILL
 * after a grace). The action only waits for the exit event and a few timers, so it stays idle while
 * the training runs, however much the training prints.
 */
import { execa } from 'execa';
import type { ProcessExit, Progress } from '../model.js';
import { OutputSink } from './output-sink.js';
import { endStrayProcesses, RUN_MARKER_VARIABLE } from './stray-processes.js';

/** Default time between SIGTERM and SIGKILL. */
export const DEFAULT_GRACE_MS = 5_000;

/** Options of {@link execute}. */
export interface ExecuteOptions {
  /** Program and arguments, already wrapped by the sandbox; started without a shell. */
  argv: string[];
  cwd: string;
  /** The child's complete environment (nothing is inherited). */
  env: Record<string, string>;
  /** File receiving the combined stdout and stderr. */
  logPath: string;
  /** Hard timeout: the group is terminated after this long. */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL (default 5 s). */
  graceMs?: number;
  /** Aborting it terminates the group; the result then says `cancelled`. */
  signal?: AbortSignal;
  /** Bytes of output tail to return (default 256 KiB). */
  tailBytes?: number;
  /** Cap of run.log on disk (default 64 MiB); the head and the tail are kept. */
  maxLogBytes?: number;
  /** Minimum time between heartbeats (default 30 s). */
  heartbeatMs?: number;
  /** Receives the latest progress, at most once per `heartbeatMs`. */
  onHeartbeat?: (progress: Progress) => void;
  /**
   * Ends what is left of the run after the leader exited, beyond the process group (a sweep of
   * the session and the run's marker by default; every process of the training user with run-as).
   */
  endLeftovers?: (leaderPid: number) => Promise<number[]>;
  /** Start the child as this user and group (the action runs as root and `run-as` is set). */
  uid?: number;
  gid?: number;
}

/** What {@link execute} observed. */
export interface ExecuteResult {
  exit: ProcessExit;
  /** Last bytes of the combined output. */
  tail: string;
  /** Total bytes the child printed. */
  outputBytes: number;
  lastProgress?: Progress;
  /** Bytes cut from the middle of run.log by its cap (0 when none). */
  cutBytes: number;
  /** Pids of processes that outlived the leader outside its group and were ended. */
  leftovers: number[];
}

/** Raised when the program cannot be started at all (missing, not executable, bad cwd). */
export class SpawnError extends Error {
  override name = 'SpawnError';
}

/**
 * Runs `argv` to completion and returns how it ended. The child leads a new process group. At the
 * hard timeout or on abort the group gets SIGTERM, then SIGKILL after `graceMs`; when the leader
 * has exited, whatever is left of the group (data loaders, a shell's background jobs, a grandchild
 * ignoring SIGTERM) is killed at once, so nothing of the run outlives it.
 * @throws SpawnError when the program cannot be started; Error when run.log cannot be written
 */
export async function execute(opts: ExecuteOptions): Promise<ExecuteResult> {
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const [file, ...args] = opts.argv;
  if (file === undefined) throw new SpawnError('cannot start the training: the command is empty');
  const sink = OutputSink.open({
    logPath: opts.logPath,
    ...(opts.tailBytes === undefined ? {} : { tailBytes: opts.tailBytes }),
    ...(opts.maxLogBytes === undefined ? {} : { maxLogBytes: opts.maxLogBytes }),
    ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
    ...(opts.onHeartbeat ? { onHeartbeat: opts.onHeartbeat } : {}),
  });
  const started = performance.now();
  let leftovers: number[] = [];
  // Called after sink.close(), so tail and progress include everything written.
  const finish = (exit: Omit<ProcessExit, 'durationMs'>, endedAt: number): ExecuteResult => ({
    exit: { ...exit, durationMs: Math.round(endedAt - started) },
    tail: sink.tail(),
    outputBytes: sink.outputBytes,
    ...(sink.lastProgress ? { lastProgress: sink.lastProgress } : {}),
    cutBytes: sink.cutBytes,
    leftovers,
  });
  const marker = crypto.randomUUID();

  if (opts.signal?.aborted) {
    sink.close();
    return finish({ exitCode: null, signal: null, timedOut: false, cancelled: true }, performance.now());
  }

  // execa hands a plain descriptor straight to child_process.spawn (it validates any non-negative
  // integer), though its types only list 1 and 2.
  const logFd = sink.fd as unknown as 1;
  const child = execa(file, args, {
    cwd: opts.cwd,
    // The marker lets the sweep below find helpers that left the process group.
    env: { ...opts.env, [RUN_MARKER_VARIABLE]: marker },
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    // Both streams are the log file itself: the kernel writes it, nothing passes through the action.
    stdout: logFd,
    stderr: logFd,
    reject: false,
    // The group kill below replaces execa's own single-process cleanup and force-kill.
    cleanup: false,
    forceKillAfterDelay: false,
    ...(opts.uid === undefined ? {} : { uid: opts.uid }),
    ...(opts.gid === undefined ? {} : { gid: opts.gid }),
  });
  const pid = child.pid;

  let timedOut = false;
  let cancelled = false;
  let leaderEndedAt: number | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const killGroup = (signal: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      // A negative pid addresses the whole process group the child leads.
      process.kill(-pid, signal);
    } catch (error) {
      // EPERM: the group runs as another user (run-as through sudo); its own sweep ends it.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ESRCH' && code !== 'EPERM') throw error;
    }
  };
  const terminate = (): void => {
    if (graceTimer) return;
    killGroup('SIGTERM');
    graceTimer = setTimeout(() => killGroup('SIGKILL'), graceMs);
  };
  const timeoutTimer = setTimeout(() => {
    if (!cancelled) timedOut = true;
    terminate();
  }, opts.timeoutMs);
  const onAbort = (): void => {
    if (!timedOut) cancelled = true;
    terminate();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // If the action itself exits mid-run, the training must not keep the machine busy.
  const onParentExit = (): void => killGroup('SIGKILL');
  process.once('exit', onParentExit);
  child.nodeChildProcess.once('exit', () => {
    leaderEndedAt = performance.now();
  });

  let result: Awaited<typeof child>;
  try {
    result = await child;
  } finally {
    clearTimeout(timeoutTimer);
    clearTimeout(graceTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    process.removeListener('exit', onParentExit);
    // The leader is done: whatever is left of its group is stray (a data loader, a background job).
    killGroup('SIGKILL');
    if (pid !== undefined) {
      leftovers = await (opts.endLeftovers ?? ((leader) => endStrayProcesses(leader, marker)))(pid);
    }
    sink.close();
  }
  if (pid === undefined || (result.failed && result.exitCode === undefined && !result.signal)) {
    throw new SpawnError(
      `cannot start ${JSON.stringify(file)} in ${opts.cwd}: ${result.originalMessage ?? result.shortMessage}. ` +
        'Check that the program is installed and on PATH and that the working directory exists.',
    );
  }
  return finish(
    { exitCode: result.exitCode ?? null, signal: result.signal ?? null, timedOut, cancelled },
    leaderEndedAt ?? performance.now(),
  );
}
