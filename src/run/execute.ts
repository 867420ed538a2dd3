/**
 * Runs one child process safely: in its own process group, output streamed to a log, with a hard
 * timeout and cancellation that take the whole group down (SIGTERM, then SIGKILL after a grace).
 * Everything is driven by stream events and timers, so the action stays idle while training runs.
 */
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { execa } from 'execa';
import type { ProcessExit, Progress } from '../model.js';
import { OutputSink } from './output-sink.js';

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
  /** Minimum time between heartbeats (default 30 s). */
  heartbeatMs?: number;
  /** Receives the latest progress, at most once per `heartbeatMs`. */
  onHeartbeat?: (progress: Progress) => void;
}

/** What {@link execute} observed. */
export interface ExecuteResult {
  exit: ProcessExit;
  /** Last bytes of the combined output. */
  tail: string;
  /** Total bytes the child printed. */
  outputBytes: number;
  lastProgress?: Progress;
}

/** Raised when the program cannot be started at all (missing, not executable, bad cwd). */
export class SpawnError extends Error {
  override name = 'SpawnError';
}

/**
 * Runs `argv` to completion and returns how it ended. The child leads a new process group, and
 * every member of that group is killed when the run ends, times out or is cancelled, so stray
 * grandchildren (data loaders, a shell's pipeline) do not outlive it.
 * @throws SpawnError when the program cannot be started; Error when run.log cannot be written
 */
export async function execute(opts: ExecuteOptions): Promise<ExecuteResult> {
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const sink = await OutputSink.open({
    logPath: opts.logPath,
    ...(opts.tailBytes === undefined ? {} : { tailBytes: opts.tailBytes }),
    ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
    ...(opts.onHeartbeat ? { onHeartbeat: opts.onHeartbeat } : {}),
  });
  const started = performance.now();
  const finish = (exit: Omit<ProcessExit, 'durationMs'>, endedAt: number): ExecuteResult => ({
    exit: { ...exit, durationMs: Math.round(endedAt - started) },
    tail: sink.tail(),
    outputBytes: sink.outputBytes,
    ...(sink.lastProgress ? { lastProgress: sink.lastProgress } : {}),
  });

  if (opts.signal?.aborted) {
    await new Promise<void>((resolve) => sink.end(resolve));
    return finish({ exitCode: null, signal: null, timedOut: false, cancelled: true }, performance.now());
  }

  const [file, ...args] = opts.argv;
  if (file === undefined) throw new SpawnError('cannot start the training: the command is empty');
  const child = execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    reject: false,
    // The group kill below replaces execa's own single-process cleanup and force-kill.
    cleanup: false,
    forceKillAfterDelay: false,
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
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
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
  // The leader is done: whatever is left of its group is stray and must not hold the pipe open.
  child.nodeChildProcess.once('exit', () => {
    leaderEndedAt = performance.now();
    terminate();
  });

  try {
    const [result] = await Promise.all([child, drainInto(sink, [child.stdout, child.stderr])]);
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
  } catch (error) {
    killGroup('SIGKILL');
    await child.catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timeoutTimer);
    clearTimeout(graceTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    process.removeListener('exit', onParentExit);
    // Members that closed their output (so did not keep the run open) die here too.
    killGroup('SIGKILL');
  }
}

/**
 * Feeds both output streams into the sink as they arrive (stdout and stderr interleaved in arrival
 * order), pausing them while the sink is backed up, and ends the sink when both are done.
 */
async function drainInto(sink: OutputSink, streams: Array<Readable | null>): Promise<void> {
  const sources = streams.filter((s): s is Readable => s !== null);
  const resume = (): void => {
    for (const source of sources) source.resume();
  };
  for (const source of sources) {
    source.on('data', (chunk: Buffer) => {
      if (!sink.write(chunk)) {
        for (const s of sources) s.pause();
        sink.once('drain', resume);
      }
    });
  }
  await Promise.all(sources.map((source) => finished(source)));
  await new Promise<void>((resolve, reject) => {
    sink.once('error', reject);
    sink.end(resolve);
  });
}
