import path from 'node:path';
import type { TrainingRun } from '../model.js';
import type { Protocol } from '../settings/protocol.js';
import { acquireMachineLock, type MachineLockHolder } from '../state/machine-lock.js';
import type { RunAsPlan } from './run-as.js';
import type { SandboxPlan } from './sandbox.js';
import { runTraining } from './train.js';

/** What {@link runSeries} needs. */
export interface SeriesOptions {
  protocol: Protocol;
  command: string;
  /** Checkout root; the protocol's cwd is resolved against it. */
  workdir: string;
  /** Each run gets `<runsDir>/run-<i>` for its run.log. */
  runsDir: string;
  stateDir: string;
  timeoutSeconds: number;
  offline: boolean;
  /** At most this many runs. */
  runs: number;
  /** After each ok run: return true to stop early (fail-fast). */
  stopAfter?: (samples: number[]) => boolean;
  holder: MachineLockHolder;
  parentEnv: NodeJS.ProcessEnv;
  sandbox: SandboxPlan;
  runAs?: RunAsPlan;
  signal?: AbortSignal;
  log: (line: string) => void;
  heartbeatMs?: number;
  graceMs?: number;
}

/** Runs one training in the session; `label` (e.g. `2/3`, `3 (control: champion abc1234)`) goes in its log line. */
export type RunOnce = (label: string) => Promise<TrainingRun>;

/**
 * Holds the machine lock for the whole of `body`, which may run the training as often as it
 * decides (a candidate, then a control run of the champion, then the candidate again…): no other
 * training shares the machine between those runs, so they measure the same conditions.
 */
export async function withTrainingSession<T>(
  opts: Omit<SeriesOptions, 'runs' | 'stopAfter'> & { runs?: number },
  body: (runOnce: RunOnce) => Promise<T>,
): Promise<T> {
  const lock = await acquireMachineLock({
    dir: opts.stateDir,
    // Waiters wait as long as this series may take (a baseline of many runs included).
    holder: { ...opts.holder, holdsForMs: (opts.runs ?? 1) * opts.timeoutSeconds * 1000 },
    // At least the hard timeout twice over (a queue of one); longer when the holder declared more.
    timeoutMs: opts.timeoutSeconds * 2 * 1000,
    onWait: opts.log,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  let count = 0;
  const runOnce: RunOnce = (label) => {
    count++;
    opts.log(`Training run ${label}: ${opts.command}`);
    return runTraining({
      protocol: opts.protocol,
      command: opts.command,
      cwd: path.resolve(opts.workdir, opts.protocol.cwd),
      runDir: path.join(opts.runsDir, `run-${count}`),
      timeoutSeconds: opts.timeoutSeconds,
      offline: opts.offline,
      parentEnv: opts.parentEnv,
      sandbox: opts.sandbox,
      ...(opts.runAs ? { runAs: opts.runAs } : {}),
      log: opts.log,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
      ...(opts.graceMs ? { graceMs: opts.graceMs } : {}),
    });
  };
  try {
    return await body(runOnce);
  } finally {
    await lock.release();
  }
}

/**
 * Runs the training up to `runs` times while holding the machine lock, so no other training shares
 * the machine. Stops at the first crash (a crashed candidate needs no more evidence) or when
 * `stopAfter` says so.
 */
export async function runSeries(opts: SeriesOptions): Promise<TrainingRun[]> {
  return withTrainingSession(opts, async (runOnce) => {
    const runs: TrainingRun[] = [];
    for (let i = 1; i <= opts.runs; i++) {
      const run = await runOnce(`${i}/${opts.runs}`);
      runs.push(run);
      if (run.outcome.status === 'crash') break;
      const samples = runs.map((r) => r.summary.primary).filter((v): v is number => v !== null);
      if (i < opts.runs && opts.stopAfter?.(samples)) {
        opts.log(`Stopping after ${i} run(s): the candidate is already clearly worse than the reference.`);
        break;
      }
    }
    return runs;
  });
}
