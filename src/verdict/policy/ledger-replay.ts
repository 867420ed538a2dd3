/**
 * Rebuilds the loop policy's belief about a branch's champion from the runner's ledger: the
 * baselines start it, and every judged experiment of the branch is replayed in order with the
 * decision it got, exactly as the policy concluded it at the time. Pure: records in, belief out.
 *
 * Time counts the runner's training runs under the comparability key since the first baseline
 * replayed (other branches' runs count too: drift belongs to the machine).
 */
import type { LedgerRecord } from '../../state/ledger.js';
import type { EffectEvidence } from './effect-prior.js';
import {
  type ChampionBelief,
  conclude,
  type JobRuns,
  type LoopSettings,
  type Run,
  startFromBaseline,
} from './loop-policy.js';

/** One baseline as stored (values in metric units). */
export interface StoredBaseline {
  samples: readonly number[];
  date: string;
  commit: string;
  trainBlob?: string;
}

/** How one run of a job is written to the ledger (`loop.runs`). */
export interface StoredRun {
  kind: 'candidate' | 'control';
  value: number;
}

/** What the loop policy adds to an experiment's ledger record. */
export interface LoopRecord {
  runs: StoredRun[];
  evidence?: EffectEvidence;
}

/** The code whose runs measure the champion: the last kept experiment, or the baseline's code. */
export interface ChampionCode {
  commit: string;
  trainBlob?: string;
  /** The ledger record that kept it (absent when the champion is the baseline's code). */
  record?: LedgerRecord;
}

/** The belief ready for the next job. */
export interface Replayed {
  belief: ChampionBelief;
  /** Time of the next run. */
  now: number;
  champion: ChampionCode;
  /** Experiments of this branch replayed under the current baseline. */
  judged: number;
  /** True when a kept champion was carried over a re-baseline and is being re-measured. */
  carried: boolean;
}

/** Verdicts whose values are not evidence (nothing compared, or set aside as implausible). */
const NOT_EVIDENCE = new Set(['no-baseline', 'not-comparable', 'suspicious', 'needs-review']);

/** Reads a record's loop runs, or its samples as candidate runs (records judged before the loop policy). */
export function storedRuns(record: LedgerRecord): StoredRun[] {
  const loop = record['loop'] as Partial<LoopRecord> | undefined;
  if (loop && Array.isArray(loop.runs)) {
    return loop.runs.filter(
      (r): r is StoredRun =>
        typeof r?.value === 'number' &&
        Number.isFinite(r.value) &&
        (r.kind === 'candidate' || r.kind === 'control'),
    );
  }
  const samples = record['samples'];
  return Array.isArray(samples)
    ? samples
        .filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
        .map((value) => ({ kind: 'candidate', value }))
    : [];
}

/** Whether a record is a judged experiment the policy learns from (kept or discarded on its values). */
export function isJudgedExperiment(record: LedgerRecord): boolean {
  return (
    record.mode === 'experiment' &&
    (record.status === 'keep' || record.status === 'discard') &&
    !NOT_EVIDENCE.has(String(record.verdict)) &&
    storedRuns(record).some((r) => r.kind === 'candidate')
  );
}

/**
 * Replays the branch under every baseline of the key, oldest first. A branch that kept something
 * before a re-baseline carries its champion over (its advantage over the old baseline, with its
 * uncertainty widened), so the next job re-measures it instead of trusting a stale number.
 * @param baselines the key's baselines, oldest first (the last is the current one)
 * @param records the key's ledger records, oldest first
 */
export function replayBranch(opts: {
  baselines: readonly StoredBaseline[];
  records: readonly LedgerRecord[];
  branch: string;
  direction: 'minimize' | 'maximize';
  settings: LoopSettings;
}): Replayed {
  const { settings, branch } = opts;
  const loss = (v: number) => (opts.direction === 'minimize' ? v : -v);
  const baselines = [...opts.baselines].sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
  if (baselines.length === 0) throw new RangeError('replayBranch: no baseline to start from');
  // Evidence from other branches teaches the prior; this branch's own is recomputed as it replays.
  const outside = opts.records.flatMap((r) => {
    const evidence = (r['loop'] as Partial<LoopRecord> | undefined)?.evidence;
    return r.branch !== branch && isJudgedExperiment(r) && evidence && evidence.se > 0 ? [evidence] : [];
  });
  // Each record's time, read once: every baseline's window is looked up in all of them.
  const times = opts.records.map((r) => Date.parse(r.at));
  let t = 0;
  let belief: ChampionBelief | undefined;
  let champion: ChampionCode = codeOf(baselines.at(-1)!);
  let judged = 0;
  let carried = false;
  for (const [k, baseline] of baselines.entries()) {
    const from = Date.parse(baseline.date);
    const until = k + 1 < baselines.length ? Date.parse(baselines[k + 1]!.date) : Number.POSITIVE_INFINITY;
    const runs: Run[] = baseline.samples.map((v) => ({ value: loss(v), t: t++ }));
    const fresh = startFromBaseline(runs, settings, belief?.evidence ?? outside);
    carried = belief !== undefined && belief.kept > 0;
    if (belief && carried) {
      belief = carryOver(belief, fresh, settings);
    } else {
      belief = fresh;
      champion = codeOf(baseline);
    }
    judged = 0;
    for (const [i, record] of opts.records.entries()) {
      const at = times[i]!;
      if (at < from || at >= until || record.mode !== 'experiment') continue;
      const stored = storedRuns(record);
      const job: { candidate: Run[]; controls: Run[] } = { candidate: [], controls: [] };
      for (const run of stored)
        (run.kind === 'control' ? job.controls : job.candidate).push({ value: loss(run.value), t: t++ });
      if (record.branch !== branch || !isJudgedExperiment(record)) continue;
      const keep = record.status === 'keep';
      belief = conclude(belief, job as JobRuns, keep, settings);
      judged++;
      carried = false;
      if (keep) {
        champion = { commit: record.commit ?? '', trainBlob: record.trainBlob, record };
      }
    }
  }
  return { belief: belief!, now: t, champion, judged, carried };
}

/**
 * The champion's belief carried over a re-baseline: the new baseline fixes the machine's level, and
 * the champion keeps its estimated advantage over the old baseline with its uncertainty plus 2σ²
 * (a re-baseline usually means the machine changed), so the next job re-measures it before judging
 * anything against it.
 */
function carryOver(
  previous: ChampionBelief,
  newBaseline: ChampionBelief,
  settings: LoopSettings,
): ChampionBelief {
  // The old baseline code's level at the champion's last time, drift included.
  const oldBaseline =
    previous.baselineLevel + previous.state.slope * (previous.state.t - previous.baselineTime);
  const advantage = previous.state.level - oldBaseline;
  return {
    ...newBaseline,
    state: {
      ...newBaseline.state,
      level: newBaseline.state.level + advantage,
      pLL: newBaseline.state.pLL + previous.state.pLL + 2 * settings.sigma ** 2,
    },
    evidence: previous.evidence,
    prior: previous.prior,
    kept: previous.kept,
  };
}

function codeOf(baseline: StoredBaseline): ChampionCode {
  return { commit: baseline.commit, ...(baseline.trainBlob ? { trainBlob: baseline.trainBlob } : {}) };
}
