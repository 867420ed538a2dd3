/**
 * The data that flows between the pipeline's stages (settings → event and guard → run → verdict →
 * publish). Kept in one file so every stage agrees on the shapes.
 */

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
}
