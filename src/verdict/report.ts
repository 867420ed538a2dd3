/**
 * Building reports: one base per job (who ran what, under which protocol), one factory per way a
 * job ends without a judged value, and one function for every headline, so the seven ways a job
 * can end read alike and no headline is made by editing another sentence.
 */
import type { CrashKind, Report } from '../model.js';
import { ACTION_ADVICE, type Advice } from '../settings/advice.js';
import type { Protocol } from '../settings/protocol.js';

/** The fields every report of a job shares; the ending adds status, headline and its section. */
export type BaseReport = Omit<Report, 'status' | 'headline'>;

/** Who ran what: the part of the base that differs between jobs. */
export interface ReportSubject {
  mode: Report['mode'];
  runner: Report['runner'];
  commit?: Report['commit'];
}

/** The base report of a job: no figures, warnings or history yet. */
export function baseReport(
  protocol: Pick<Protocol, 'primary' | 'budgetSeconds'>,
  subject: ReportSubject,
): BaseReport {
  return {
    ...subject,
    primary: { name: protocol.primary.name, direction: protocol.primary.direction },
    figures: [],
    warnings: [],
    history: [],
    budgetSeconds: protocol.budgetSeconds,
  };
}

/** A job that ran nothing by choice (no trigger, untrusted actor, no token). */
export function skippedReport(base: BaseReport, reason: string): Report {
  return { ...base, status: 'skipped', headline: headline({ kind: 'skipped', reason }), skipped: { reason } };
}

/** A job refused before anything ran: the commit breaks the protocol. */
export function rejectedReport(
  base: BaseReport,
  rejected: NonNullable<Report['rejected']>,
  why: Headline = { kind: 'rejected', reason: rejected.reason },
): Report {
  return { ...base, status: 'rejected', headline: headline(why), rejected };
}

/** Every way a job can end, with what its headline needs. */
export type Headline =
  | { kind: 'skipped'; reason: string }
  | { kind: 'rejected'; reason: string }
  | { kind: 'harness-changed'; explanation: string; paths: readonly string[] }
  | { kind: 'duplicate-of-baseline'; trainBlob: string; at: string }
  | { kind: 'duplicate'; trainBlob: string; at: string; commit: string; status: string }
  | { kind: 'crashed'; crash: { kind: CrashKind; reason: string } }
  | { kind: 'no-baseline'; metric: string; value: number | null }
  | { kind: 'not-comparable'; metric: string; value: number | null; drift: readonly string[] }
  | { kind: 'judged'; verdict: 'improved' | 'regressed' | 'within-noise'; reason: string }
  | {
      kind: 'baseline-crashed';
      run: number;
      of: number;
      crash: { kind: CrashKind; reason: string };
      hadPrevious: boolean;
    }
  | { kind: 'baseline-moved'; drift: readonly string[] }
  | {
      kind: 'baseline-established';
      runner: string;
      metric: string;
      mean: number;
      sigma: number;
      n: number;
      previous?: { mean: number; n: number };
    };

const VERDICT_WORD = {
  improved: 'Improved',
  regressed: 'Regressed',
  'within-noise': 'Within noise',
} as const;

/**
 * The one sentence a person reads first, for every way a job ends.
 * @param advice the words for what to do (the action's or the CLI's)
 */
export function headline(h: Headline, advice: Advice = ACTION_ADVICE): string {
  switch (h.kind) {
    case 'skipped':
      return `Skipped: ${h.reason}`;
    case 'rejected':
      return `Rejected: ${h.reason}. Nothing was run.`;
    case 'harness-changed':
      return `Rejected: ${h.explanation}; the immutable harness must be byte-identical to the baseline's. Restore ${h.paths.join(', ')} or re-baseline on purpose.`;
    case 'duplicate-of-baseline':
      return `This train.py (blob ${h.trainBlob.slice(0, 12)}) is the one this runner's baseline was measured with at ${when(h.at)} UTC: nothing changed, so it was not run again (${advice.force} to re-run it).`;
    case 'duplicate':
      return `This train.py (blob ${h.trainBlob.slice(0, 12)}) was already scored on this runner at ${when(h.at)} UTC as commit ${h.commit.slice(0, 7)}: ${h.status}. Not run again; ${advice.force} to re-run it.`;
    case 'crashed':
      return `Crashed (${h.crash.kind}): ${h.crash.reason}`;
    case 'no-baseline':
      return `${h.metric} ${value(h.value)}; this runner has no baseline yet. Run ${advice.baselineRun} to establish one.`;
    case 'not-comparable':
      return `${h.metric} ${value(h.value)} is not comparable with this runner's baseline: ${h.drift.join('; ')}. Re-baseline on this runner (run ${advice.baselineRun}) before comparing.`;
    case 'judged':
      return `${VERDICT_WORD[h.verdict]}: ${h.reason}`;
    case 'baseline-crashed':
      return `Baseline not established: run ${h.run}/${h.of} crashed (${h.crash.kind}): ${h.crash.reason}. ${h.hadPrevious ? 'The previous baseline stays in force.' : 'This runner still has no baseline.'}`;
    case 'baseline-moved':
      return `Baseline not established: the setup changed while the runs went on (${h.drift.join('; ')}). Run the baseline again on a quiet machine.`;
    case 'baseline-established': {
      const sigma = h.n >= 2 ? `σ ${h.sigma.toFixed(4)}` : 'σ unknown from a single run';
      const replacing = h.previous ? `, replacing ${value(h.previous.mean)} (n=${h.previous.n})` : '';
      return `Baseline established on ${h.runner}: ${h.metric} ${value(h.mean)} (${sigma}, n=${h.n})${replacing}.`;
    }
  }
}

function when(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

function value(v: number | null): string {
  return v === null ? 'n/a' : v.toFixed(6);
}
