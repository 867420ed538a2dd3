import type { ComparabilityComponents, ComponentDiff } from '../identity/comparability.js';
import { diffComponents } from '../identity/comparability.js';
import { isBetter, type Report, statusOf, type TrainingRun, type VerdictKind } from '../model.js';
import type { Advice } from '../settings/advice.js';
import {
  type BaselineEntry,
  currentBaseline,
  latestBaselineAnyKey,
  readBaselines,
} from '../state/baselines.js';
import { bestKept, findScored, type LedgerRecord, readLedger, readReplayLedger } from '../state/ledger.js';
import { type Decision, decideVerdict, shouldStopEarly, type VerdictContext } from './decide.js';
import { figuresOf, meanMetrics, throughputWarnings } from './figures.js';
import { holdResult } from './hold.js';
import { crashSection, type JobRequest, type PreparedJob, prepareJob, runWarnings } from './job.js';
import { baselinesOf, judgeWithLoop, loopReason, loopSigma, loopVerdict } from './judge-loop.js';
import { type Headline, headline, rejectedReport } from './report.js';
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
  const job = await prepareJob(req, 'experiment');
  const { identity, protocol, settings } = job;
  const stateDir = settings.stateDir;

  // An approval re-runs the head on purpose: the earlier (held) result is what it re-examines.
  if (!settings.force && !req.approval) {
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
        dataRoot: protocol.dataSnapshot?.root,
      });
      const harness = drift.find((d) => d.component === 'harness');
      if (harness) return reportHarnessMismatch(job, harness);
    }
  }

  const loop = settings.decision === 'loop';
  // Strict: keep/discard is decided against the branch's best kept result since the current
  // baseline, when it beats the baseline (the loop policy tracks its champion itself).
  const best =
    baseline && !loop
      ? await bestKept(
          stateDir,
          identity.keyHash,
          req.commit.branch,
          protocol.primary.direction,
          undefined,
          baseline.date,
        )
      : undefined;
  const reference =
    best && baseline && isBetter(best.value, baseline.mean, protocol.primary.direction) ? best : undefined;
  const context: VerdictContext | undefined = baseline
    ? {
        baseline,
        reference: reference && { value: reference.value, samples: reference.record.samples },
        direction: protocol.primary.direction,
        confidence: settings.confidence,
        noiseHistory: await noiseHistory(stateDir, identity.components, baseline, reference?.record),
      }
    : undefined;

  const looped =
    context && loop
      ? await judgeWithLoop({
          job,
          req,
          baselines: await baselinesOf(stateDir, identity.keyHash),
          records: (await readReplayLedger(stateDir, identity.keyHash)).records,
          sigma: loopSigma(context),
        })
      : undefined;
  // Without a comparable baseline one run says all there is to say.
  const runs =
    looped?.runs ??
    (await job.runSeries(context ? settings.repeats : 1, (samples) =>
      context ? shouldStopEarly(samples, context) : false,
    ));
  const candidateRuns = looped?.candidateRuns ?? runs;
  const crashed = candidateRuns.find((r) => r.outcome.status === 'crash');
  const samples = candidateRuns.map((r) => r.summary.primary).filter((v): v is number => v !== null);
  const metrics = meanMetrics(candidateRuns.filter((r) => r.outcome.status === 'ok'));
  const value = samples.length > 0 && !crashed ? mean(samples) : null;

  const metric = protocol.primary.name;
  // The one number the judge measures itself: a run far past budget and allowance is not comparable.
  const overrun = crashed ? undefined : runs.find((r) => r.overrun)?.overrun;
  const driftText = [...drift.map((d) => d.explanation), ...(overrun ? [overrun] : [])];
  let verdict: VerdictKind;
  let decision: Decision | undefined;
  let why: Headline;
  if (crashed && crashed.outcome.status === 'crash') {
    verdict = 'crashed';
    why = { kind: 'crashed', crash: crashed.outcome };
  } else if (!context || overrun) {
    verdict = driftText.length > 0 ? 'not-comparable' : 'no-baseline';
    why =
      verdict === 'not-comparable'
        ? { kind: 'not-comparable', metric, value, drift: driftText }
        : { kind: 'no-baseline', metric, value };
  } else {
    decision = decideVerdict({ ...context, candidate: samples, minImprovement: settings.minImprovement });
    verdict = decision.kind;
    why = { kind: 'judged', verdict: decision.kind, reason: decision.reason };
    if (looped?.decision) {
      verdict = loopVerdict(looped.decision, settings.confidence);
      why = { kind: 'judged', verdict, reason: loopReason(looped.decision, protocol.primary.name, decision) };
    }
  }

  const held = await holdResult({
    protocol,
    stateDir,
    keyHash: identity.keyHash,
    trainBlob: job.trainBlob,
    value: verdict === 'crashed' ? null : value,
    guardFindings: req.guardFindings ?? [],
    approval: req.approval,
    bestSeen: reference?.value ?? baseline?.mean,
    sigma: decision?.sigma.value ?? (baseline && baseline.n >= 2 ? baseline.sigma : undefined),
  });

  const warnings = [
    ...(held.released ? [held.released] : []),
    ...osWarning(baseline, identity.hardware.os, job.advice),
    ...runWarnings(runs),
    ...(decision?.warnings ?? []),
    ...(looped?.notes ?? []),
    ...throughputWarnings(metrics, baseline?.metrics),
  ];
  const ramBytes = job.identity.hardware.memoryBytes;
  const report: Report = {
    ...job.base,
    // A held result is recorded as not kept, whatever the verdict: never the branch's reference.
    status: held.hold ? 'discard' : statusOf(verdict),
    verdict,
    headline: held.hold ? heldHeadline(held.hold, headline(why, job.advice)) : headline(why, job.advice),
    hold: held.hold,
    value,
    samples,
    baseline: baseline && baselineView(baseline),
    vsBaseline: decision && {
      delta: decision.vsBaseline.delta,
      deltaSigma: decision.vsBaseline.deltaSigma,
      probabilityBetter: decision.vsBaseline.probabilityBetter,
      sigma: decision.sigma.value,
    },
    vsBest:
      decision && decision.vsReference.against === 'reference' && reference
        ? { value: reference.value, commit: reference.record.commit ?? '', delta: decision.vsReference.delta }
        : undefined,
    decision: looped?.decision,
    figures: figuresOf(protocol.figures, metrics, baseline?.metrics, ramBytes),
    warnings,
    crash: crashed && crashed.outcome.status === 'crash' ? crashSection(crashed.outcome) : undefined,
    notComparable: verdict === 'not-comparable' ? { drift: driftText } : undefined,
    history: await job.history(),
  };
  const record = await job.record(
    report,
    runs,
    decision && {
      sigma: looped ? loopSigma(context!) : decision.sigma.value,
      sigmaSource: decision.sigma.source,
      // A known (floor) σ has infinite degrees of freedom, which JSON cannot hold.
      sigmaDf: Number.isFinite(decision.sigma.df) ? decision.sigma.df : null,
      ...(looped ? { loop: looped.ledger } : {}),
    },
  );
  return { report, runs, record };
}

async function reportDuplicate(job: PreparedJob, earlier: LedgerRecord): Promise<Judgement> {
  // The baseline's own train.py is a null change: nothing to keep.
  const isBaseline = earlier.mode === 'baseline';
  const report: Report = {
    ...job.base,
    status: isBaseline ? 'discard' : earlier.status,
    verdict: isBaseline ? 'within-noise' : earlier.verdict,
    headline: headline(
      isBaseline
        ? { kind: 'duplicate-of-baseline', trainBlob: job.trainBlob, at: earlier.at }
        : {
            kind: 'duplicate',
            trainBlob: job.trainBlob,
            at: earlier.at,
            commit: earlier.commit ?? '',
            status: earlier.status,
          },
      job.advice,
    ),
    value: earlier.value ?? null,
    figures: figuresOf(
      job.protocol.figures,
      earlier.metrics ?? {},
      undefined,
      job.identity.hardware.memoryBytes,
    ),
    history: await job.history(),
  };
  return { report, runs: [], record: earlier };
}

async function reportHarnessMismatch(job: PreparedJob, harness: ComponentDiff): Promise<Judgement> {
  const paths = [...job.protocol.immutablePaths];
  const report = rejectedReport(
    job.base,
    { reason: 'the immutable harness differs from the one the baseline was measured with', paths },
    { kind: 'harness-changed', explanation: harness.explanation, paths },
  );
  const record = await job.record(report, []);
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
  // Only experiments run more than once tell about the noise: their samples hold a comma.
  const { records } = await readLedger(
    stateDir,
    (r) => r.mode === 'experiment' && sameSetup(r.components),
    /"samples":\[[^\]]*,/,
  );
  for (const record of records) {
    // The reference's own repeats are pooled by the decision itself.
    if (reference && record.at === reference.at && record.commit === reference.commit) continue;
    const samples = record.samples;
    if (samples && samples.length >= 2) spreads.push({ sd: sampleSd(samples), n: samples.length });
  }
  return spreads;
}

/** An OS update keeps the comparability key (same hardware) but can shift speed: say so. */
function osWarning(
  baseline: BaselineEntry | undefined,
  os: { name: string; version?: string; major?: string },
  advice: Advice,
): string[] {
  const before = baseline?.os;
  if (!before?.major || !os.major || before.major === os.major) return [];
  return [
    `${os.name} changed from ${before.version ?? before.major} to ${os.version ?? os.major} since the baseline; if the results look shifted, re-baseline (run ${advice.baselineRun})`,
  ];
}

/** A held result's headline: the hold first, plainly, then what the numbers said. */
function heldHeadline(hold: NonNullable<Report['hold']>, judged: string): string {
  const what = hold.kind === 'suspicious' ? 'Held as suspicious' : 'Held for review';
  return `${what} — not kept: ${hold.reasons[0]}. ${hold.release} (Measured: ${judged})`;
}

function baselineView(b: BaselineEntry): NonNullable<Report['baseline']> {
  return { mean: b.mean, sigma: b.sigma, n: b.n, commit: b.commit, date: b.date };
}
