import type { ComparabilityComponents, ComponentDiff } from '../identity/comparability.js';
import { diffComponents } from '../identity/comparability.js';
import type { Report, TrainingRun, VerdictKind } from '../model.js';
import {
  type BaselineEntry,
  currentBaseline,
  latestBaselineAnyKey,
  readBaselines,
} from '../state/baselines.js';
import { bestKept, findScored, type LedgerRecord, readLedger } from '../state/ledger.js';
import { type Decision, decideVerdict, shouldStopEarly, type VerdictContext } from './decide.js';
import { figuresOf, meanMetrics, throughputWarnings } from './figures.js';
import { crashSection, type JobRequest, type PreparedJob, prepareJob, runWarnings } from './job.js';
import { mean, type Spread, sampleSd } from './statistics.js';

/** The result of judging one experiment. */
export interface Judgement {
  report: Report;
  runs: TrainingRun[];
  /** The ledger line written for it. */
  record: LedgerRecord;
}

/**
 * Judges the checked-out experiment: dedup by train.py blob, run it `repeats` times under the
 * machine lock (fail-fast), and decide keep/discard against the best kept result of the branch,
 * reporting the headline comparison against the runner's stored baseline. The ledger gets one line.
 */
export async function judgeExperiment(req: JobRequest): Promise<Judgement> {
  const job = await prepareJob(req);
  const { identity, protocol, settings } = job;
  const stateDir = settings.stateDir;

  if (!settings.force) {
    const earlier = await findScored(stateDir, identity.keyHash, job.trainBlob);
    if (earlier) return reportDuplicate(job, earlier);
  }

  const baseline = await currentBaseline(stateDir, identity.keyHash);
  let drift: ComponentDiff[] = [];
  if (!baseline) {
    const other = await latestBaselineAnyKey(stateDir);
    if (other) {
      drift = diffComponents(other.components, identity.components, {
        harnessPaths: protocol.immutablePaths,
        ...(protocol.dataSnapshot ? { dataRoot: protocol.dataSnapshot.root } : {}),
      });
      const harness = drift.find((d) => d.component === 'harness');
      if (harness) return reportHarnessMismatch(job, harness);
    }
  }

  const best = baseline
    ? await bestKept(stateDir, identity.keyHash, req.commit.branch, protocol.primary.direction)
    : undefined;
  // Keep/discard is decided against the branch's best kept result when it beats the baseline.
  const reference =
    best && baseline && isBetter(best.value, baseline.mean, protocol.primary.direction) ? best : undefined;
  const context: VerdictContext | undefined = baseline
    ? {
        baseline,
        ...(reference ? { reference: { value: reference.value, ...samplesOf(reference.record) } } : {}),
        direction: protocol.primary.direction,
        confidence: settings.confidence,
        noiseHistory: await noiseHistory(stateDir, identity.components, baseline, reference?.record),
      }
    : undefined;

  // Without a comparable baseline one run says all there is to say.
  const runs = await job.runSeries(context ? settings.repeats : 1, (samples) =>
    context ? shouldStopEarly(samples, context) : false,
  );
  const crashed = runs.find((r) => r.outcome.status === 'crash');
  const samples = runs.map((r) => r.summary.primary).filter((v): v is number => v !== null);
  const metrics = meanMetrics(runs.filter((r) => r.outcome.status === 'ok'));
  const value = samples.length > 0 && !crashed ? mean(samples) : null;

  let verdict: VerdictKind;
  let decision: Decision | undefined;
  let headline: string;
  if (crashed && crashed.outcome.status === 'crash') {
    verdict = 'crashed';
    headline = `Crashed (${crashed.outcome.kind}): ${crashed.outcome.reason}`;
  } else if (!context) {
    verdict = drift.length > 0 ? 'not-comparable' : 'no-baseline';
    headline =
      verdict === 'not-comparable'
        ? `${protocol.primary.name} ${fmt(value)} is not comparable with this runner's baseline: ${drift.map((d) => d.explanation).join('; ')}. Re-baseline on this runner (workflow_dispatch) before comparing.`
        : `${protocol.primary.name} ${fmt(value)}; this runner has no baseline yet. Run the workflow with workflow_dispatch to establish one.`;
  } else {
    decision = decideVerdict({ ...context, candidate: samples, minImprovement: settings.minImprovement });
    verdict = decision.kind;
    headline = `${verdictWord(verdict)}: ${decision.reason.replace(/: (improved|regressed|within noise)$/, '')}`;
  }
  const status = crashed ? 'crash' : verdict === 'improved' ? 'keep' : 'discard';

  const warnings = [
    ...osWarning(baseline, identity.hardware.os),
    ...runWarnings(runs),
    ...(decision?.warnings ?? []),
    ...throughputWarnings(metrics, baseline?.metrics),
  ];
  const report: Report = {
    mode: 'experiment',
    status,
    verdict,
    headline,
    runner: job.runnerInfo,
    commit: {
      sha: req.commit.sha,
      subject: req.commit.subject,
      branch: req.commit.branch,
      trainBlob: job.trainBlob,
    },
    value,
    samples,
    primary: { name: protocol.primary.name, direction: protocol.primary.direction },
    ...(baseline ? { baseline: baselineView(baseline) } : {}),
    ...(decision
      ? {
          vsBaseline: {
            delta: decision.vsBaseline.delta,
            deltaSigma: decision.vsBaseline.deltaSigma,
            probabilityBetter: decision.vsBaseline.probabilityBetter,
            sigma: decision.sigma.value,
          },
        }
      : {}),
    ...(decision && decision.vsReference.against === 'reference' && reference
      ? {
          vsBest: {
            value: reference.value,
            commit: reference.record.commit ?? '',
            delta: decision.vsReference.delta,
          },
        }
      : {}),
    figures: figuresOf(metrics, job.identity.hardware.memoryBytes),
    ...(baseline?.metrics
      ? { baselineFigures: figuresOf(baseline.metrics, job.identity.hardware.memoryBytes) }
      : {}),
    warnings,
    ...(crashed && crashed.outcome.status === 'crash' ? { crash: crashSection(crashed.outcome) } : {}),
    ...(verdict === 'not-comparable' ? { notComparable: { drift: drift.map((d) => d.explanation) } } : {}),
    history: await job.history(),
    budgetSeconds: protocol.budgetSeconds,
  };
  const record = await job.record(
    report,
    runs,
    decision
      ? { sigma: decision.sigma.value, sigmaSource: decision.sigma.source, sigmaDf: decision.sigma.df }
      : {},
  );
  return { report, runs, record };
}

async function reportDuplicate(job: PreparedJob, earlier: LedgerRecord): Promise<Judgement> {
  const when = earlier.at.slice(0, 16).replace('T', ' ');
  // The baseline's own train.py is a null change: nothing to keep.
  const isBaseline = earlier.mode === 'baseline';
  const report: Report = {
    mode: 'experiment',
    status: isBaseline ? 'discard' : earlier.status,
    ...(isBaseline
      ? { verdict: 'within-noise' as const }
      : earlier.verdict
        ? { verdict: earlier.verdict }
        : {}),
    headline: isBaseline
      ? `This train.py (blob ${job.trainBlob.slice(0, 12)}) is the one this runner's baseline was measured with at ${when} UTC: nothing changed, so it was not run again (set force: true to re-run it).`
      : `This train.py (blob ${job.trainBlob.slice(0, 12)}) was already scored on this runner at ${when} UTC as commit ${(earlier.commit ?? '').slice(0, 7)}: ${earlier.status}. Not run again; set force: true to re-run it.`,
    runner: job.runnerInfo,
    commit: { ...job.commitView },
    value: typeof earlier.value === 'number' ? earlier.value : null,
    primary: { name: job.protocol.primary.name, direction: job.protocol.primary.direction },
    figures: figuresOf(earlier.metrics ?? {}, job.identity.hardware.memoryBytes),
    warnings: [],
    history: await job.history(),
    budgetSeconds: job.protocol.budgetSeconds,
  };
  return { report, runs: [], record: earlier };
}

async function reportHarnessMismatch(job: PreparedJob, harness: ComponentDiff): Promise<Judgement> {
  const paths = job.protocol.immutablePaths;
  const report: Report = {
    mode: 'experiment',
    status: 'rejected',
    headline: `Rejected: ${harness.explanation}; the immutable harness must be byte-identical to the baseline's. Restore ${paths.join(', ')} or re-baseline on purpose.`,
    rejected: {
      reason: 'the immutable harness differs from the one the baseline was measured with',
      paths: [...paths],
    },
    runner: job.runnerInfo,
    commit: { ...job.commitView },
    primary: { name: job.protocol.primary.name, direction: job.protocol.primary.direction },
    figures: {},
    warnings: [],
    history: [],
    budgetSeconds: job.protocol.budgetSeconds,
  };
  const record = await job.record(report, [], {});
  return { report, runs: [], record };
}

/**
 * More evidence about the same noise: earlier baselines, and experiments run more than once, on the
 * same machine with the same command and budget. Each contributes its spread with n − 1 degrees of
 * freedom, so σ is estimated better as the runner ages (docs/verdict-statistics.md).
 */
async function noiseHistory(
  stateDir: string,
  components: ComparabilityComponents,
  current: BaselineEntry,
  reference: LedgerRecord | undefined,
): Promise<Spread[]> {
  const sameSetup = (c: Record<string, unknown> | undefined) =>
    c?.['hardware'] === components.hardware &&
    c?.['command'] === components.command &&
    c?.['budgetSeconds'] === components.budgetSeconds;
  const spreads: Spread[] = [];
  for (const record of Object.values((await readBaselines(stateDir)).keys)) {
    if (!sameSetup(record.components)) continue;
    for (const entry of [...record.history, record.current]) {
      const isCurrent = entry.date === current.date && entry.commit === current.commit;
      if (!isCurrent && entry.n >= 2) spreads.push({ sd: entry.sigma, n: entry.n });
    }
  }
  const { records } = await readLedger(stateDir, (r) => r.mode === 'experiment' && sameSetup(r.components));
  for (const record of records) {
    // The reference's own repeats are pooled by the decision itself.
    if (reference && record.at === reference.at && record.commit === reference.commit) continue;
    const samples = samplesOf(record).samples;
    if (samples && samples.length >= 2) spreads.push({ sd: sampleSd(samples), n: samples.length });
  }
  return spreads;
}

/** An OS update keeps the comparability key (same hardware) but can shift speed: say so. */
function osWarning(
  baseline: BaselineEntry | undefined,
  os: { name: string; version?: string; major?: string },
): string[] {
  const before = baseline?.os;
  if (!before?.major || !os.major || before.major === os.major) return [];
  return [
    `${os.name} changed from ${before.version ?? before.major} to ${os.version ?? os.major} since the baseline; if the results look shifted, re-baseline (workflow_dispatch)`,
  ];
}

function samplesOf(record: LedgerRecord): { samples?: number[] } {
  const s = record['samples'];
  return Array.isArray(s) && s.every((v) => typeof v === 'number') ? { samples: s as number[] } : {};
}

function baselineView(b: BaselineEntry): NonNullable<Report['baseline']> {
  return { mean: b.mean, sigma: b.sigma, n: b.n, commit: b.commit, date: b.date };
}

function isBetter(a: number, b: number, direction: 'minimize' | 'maximize'): boolean {
  return direction === 'minimize' ? a < b : a > b;
}

function fmt(v: number | null): string {
  return v === null ? 'n/a' : v.toFixed(6);
}

function verdictWord(kind: VerdictKind): string {
  return (
    { improved: 'Improved', regressed: 'Regressed', 'within-noise': 'Within noise' }[kind as string] ?? kind
  );
}
