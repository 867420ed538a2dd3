/**
 * The data that flows between the pipeline's stages (settings → event and guard → run → verdict →
 * publish). Kept in one file so every stage agrees on the shapes.
 */

/** Whether lower or higher values of a metric are better. */
export type Direction = 'minimize' | 'maximize';

/** True when `a` is strictly better than `b` in `direction`. */
export function isBetter(a: number, b: number, direction: Direction): boolean {
  return direction === 'minimize' ? a < b : a > b;
}

/** Why a training did not produce a usable result. */
export type CrashKind =
  | 'exception'
  | 'oom'
  | 'timeout'
  | 'diverged'
  | 'missing-metrics'
  | 'tampering'
  | 'cancelled';

/** What the summary block said. */
export interface Summary {
  /** The primary metric's value, `null` when absent, `n/a`, or not a finite number. */
  primary: number | null;
  /** True when the primary value was printed as nan/inf (a diverged run). */
  primaryNonFinite: boolean;
  /** Every numeric metric of the last block, by key (protocol regexes first, then `key: value` lines). */
  metrics: Record<string, number>;
  /** Every `key: value` line of the last block as printed (values trimmed). */
  raw: Record<string, string>;
  /** Whether a `---` summary block was found at all. */
  found: boolean;
}

/** Result of classifying a finished process. */
export type Outcome =
  | { status: 'ok' }
  | {
      status: 'crash';
      kind: CrashKind;
      /** One human line: what went wrong. */
      reason: string;
      /** The relevant lines of the log (traceback, OOM line, last progress). */
      excerpt: string;
      /** A hint for the next attempt, e.g. the protocol's `reduce_batch` OOM policy. */
      hint?: string;
    };

/** Latest progress parsed from a `step N (P%) | ... | remaining: Ss` segment. */
export interface Progress {
  step: number;
  percent: number;
  remainingSeconds?: number;
  loss?: number;
}

/** How the child process ended. */
export interface ProcessExit {
  exitCode: number | null;
  /** Signal that ended the process, e.g. SIGKILL. */
  signal: string | null;
  /** We killed it at the hard timeout. */
  timedOut: boolean;
  /** We killed it because the job was cancelled. */
  cancelled: boolean;
  durationMs: number;
}

/** Which network isolation was really applied. */
export interface SandboxInfo {
  kind: 'sandbox-exec' | 'unshare' | 'none';
  /** Human explanation, e.g. why none was available. */
  detail: string;
}

/** One training run, fully read. */
export interface TrainingRun {
  /** Directory holding run.log for this run. */
  runDir: string;
  logPath: string;
  exit: ProcessExit;
  /** Last bytes of the combined output (bounded). */
  tail: string;
  /** Total bytes the child printed. */
  outputBytes: number;
  lastProgress?: Progress;
  summary: Summary;
  outcome: Outcome;
  /** Non-fatal observations: budget drift, missing sandbox, … */
  warnings: string[];
  sandbox: SandboxInfo;
  /** Paths of runner file-command files the child changed (tampering). */
  tampered: string[];
  /** Set when the measured wall time went far past budget and allowance: the run is not comparable. */
  overrun?: string;
}

/** The verdict of one experiment against its references. */
export type VerdictKind =
  | 'improved'
  | 'regressed'
  | 'within-noise'
  | 'crashed'
  | 'not-comparable'
  | 'no-baseline';

/** One secondary figure of a report: a summary metric as the protocol says to show it. */
export interface Figure {
  /** The summary metric it comes from, e.g. `peak_vram_mb`. */
  metric: string;
  label: string;
  /** The value in the shown unit (the metric times the protocol's scale). */
  value: number;
  /** The metric as printed, for results columns named after it. */
  raw: number;
  unit: string;
  decimals: number;
  role?: 'memory' | 'training-time';
  /** The stored baseline's value (mean of its runs) in the shown unit. */
  baseline?: number;
  /** For memory: the share (0–1) of the runner's RAM. */
  shareOfRam?: number;
}

/** The protocol status a run ends with (the `status` output). */
export type Status = 'keep' | 'discard' | 'crash' | 'rejected' | 'skipped';

/**
 * The status of a judged verdict: `improved` is a keep, `crashed` a crash, and everything else
 * (within noise, regressed, not comparable, no baseline) a discard, because only a credible
 * improvement may move the branch forward.
 */
export function statusOf(verdict: VerdictKind): Status {
  if (verdict === 'improved') return 'keep';
  if (verdict === 'crashed') return 'crash';
  return 'discard';
}

/** The loop policy's decision as the report shows it (metric units; gains positive = better). */
export interface LoopDecisionView {
  rule: 'loop';
  /** The policy's keep or discard. */
  kept: boolean;
  /** The kept code the candidate was judged against, and how well its level is known now. */
  champion: {
    commit: string;
    /** Its level now, drift included, and the standard deviation of that estimate. */
    value: number;
    sd: number;
    /** Control runs of the champion in this job. */
    controlRuns: number;
    /** True when it was kept before the current baseline and is being re-judged against it. */
    carriedOver: boolean;
  };
  /** Expected improvement over the champion (metric units, positive = better) and its uncertainty. */
  expectedGain: number;
  gainSd: number;
  /** The same in units of the run-to-run noise σ. */
  expectedGainSigma: number;
  probabilityBetter: number;
  probabilityWorse: number;
  candidateRuns: number;
  /** Estimated drift of the machine per training run (metric units) and its standard deviation. */
  drift: { perRun: number; sd: number };
  /** What the next job will do first, in plain words. */
  next: string;
  /** Why, in plain words a person and an agent can act on. */
  explanation: string[];
}

/**
 * A result held back from keep: `suspicious` (impossible, or far beyond anything measured here) or
 * `needs-review` (the train.py guard cannot vouch for the measurement path). Recorded as a discard.
 */
export interface Hold {
  kind: 'suspicious' | 'needs-review';
  /** Why, one line each. */
  reasons: string[];
  /** What releases it, said plainly. */
  release: string;
}

/** Everything the publish stage renders (PR comment, job summary, result.json). */
export interface Report {
  /** `experiment` or `baseline`: what this job did. */
  mode: 'experiment' | 'baseline';
  status: Status;
  verdict?: VerdictKind;
  /** One sentence a person reads first. */
  headline: string;
  runner: { name: string; label: string; keyHash?: string; ramBytes?: number };
  commit?: { sha: string; subject: string; branch?: string; trainBlob?: string };
  /** Candidate value (mean of its samples) of the primary metric. */
  value?: number | null;
  samples?: number[];
  primary: { name: string; direction: Direction };
  baseline?: { mean: number; sigma: number; n: number; commit: string; date: string };
  /** Headline comparison: against the runner's stored baseline. */
  vsBaseline?: {
    delta: number;
    deltaSigma: number | null;
    probabilityBetter?: number;
    /** The noise σ the verdict used (pooled), in metric units. */
    sigma?: number;
  };
  /** Keep/discard reference when it is the best kept result of the branch. */
  vsBest?: { value: number; commit: string; delta: number };
  /** How `decision: loop` decided keep or discard, in numbers and in plain words. */
  decision?: LoopDecisionView;
  /** Secondary figures, in the protocol's order and units, each next to the baseline's. */
  figures: Figure[];
  warnings: string[];
  crash?: { kind: CrashKind; reason: string; excerpt: string; hint?: string };
  rejected?: { reason: string; paths: string[] };
  skipped?: { reason: string };
  notComparable?: { drift: string[] };
  /** Set when the result is held (not kept, not a reference) until a maintainer approves it. */
  hold?: Hold;
  /** Earlier experiments of the same PR/branch on this runner, oldest first. */
  history: Array<{ sha: string; subject: string; value: number | null; status: Status }>;
  /** Protocol budget, for the throughput/budget notes. */
  budgetSeconds: number;
}
