import { diffComponents } from '../identity/comparability.js';
import type { Report, TrainingRun } from '../model.js';
import { type BaselineEntry, currentBaseline, promoteBaseline } from '../state/baselines.js';
import { figuresOf, meanMetrics } from './figures.js';
import { crashSection, type JobRequest, prepareJob, runWarnings } from './job.js';
import type { Judgement } from './judge-experiment.js';
import { baselineOutlier, OUTLIER_LIMIT } from './policy/baseline-outliers.js';
import { headline } from './report.js';
import { mean, sampleSd } from './statistics.js';

/**
 * Establishes this runner's baseline: `baseline-repeats` runs of the checked-out train.py under the
 * machine lock (one run far from the others is replaced by one more). It is promoted only if every run is ok and the comparability key did not move
 * while they ran; the previous baseline stays in the history. A crashed or incomparable run never
 * becomes a baseline.
 */
export async function establishBaseline(req: JobRequest): Promise<Judgement> {
  const job = await prepareJob(req, 'baseline');
  const { protocol, identity, settings } = job;
  const repeats = req.repeats ?? settings.baselineRepeats;
  const { runs, setAside } = await job.session(async (runOnce) => {
    const runs: TrainingRun[] = [];
    for (let i = 1; i <= repeats; i++) {
      const run = await runOnce(`${i}/${repeats}`);
      runs.push(run);
      if (run.outcome.status === 'crash' || run.summary.primary === null) return { runs };
    }
    // One run far from the others (a background job, a thermal hiccup) would skew mean and σ:
    // it is set aside and replaced by one more run.
    const outlier = baselineOutlier(runs.map((r) => r.summary.primary!));
    if (outlier === undefined) return { runs };
    req.log(`Baseline run ${outlier + 1} sits far from the others; running once more to replace it.`);
    runs.push(await runOnce(`${repeats + 1} (replaces run ${outlier + 1})`));
    return { runs, setAside: outlier };
  });
  const crashed = runs.find((r) => r.outcome.status === 'crash');
  const kept = runs.filter((_, i) => i !== setAside);
  const samples = kept.map((r) => r.summary.primary).filter((v): v is number => v !== null);
  const metrics = meanMetrics(kept.filter((r) => r.outcome.status === 'ok'));
  const previous = await currentBaseline(settings.stateDir, identity.keyHash);

  // The data, harness or machine may change while the runs go on; such samples mix two setups.
  const after = await job.reidentify();
  const moved =
    after.keyHash === identity.keyHash ? [] : diffComponents(identity.components, after.components);

  const base = {
    ...job.base,
    samples,
    figures: figuresOf(protocol.figures, metrics, undefined, identity.hardware.memoryBytes),
    warnings: [
      ...runWarnings(runs),
      ...(setAside === undefined
        ? []
        : [
            `baseline run ${setAside + 1} (${protocol.primary.name} ${runs[setAside]!.summary.primary}) sat more than ${OUTLIER_LIMIT} robust σ from the others and was replaced by one more run; if this happens often, something else is loading the machine`,
          ]),
    ],
  };
  const drift = moved.map((d) => d.explanation);
  let report: Report;
  if (crashed && crashed.outcome.status === 'crash') {
    report = {
      ...base,
      status: 'crash',
      verdict: 'crashed',
      value: null,
      headline: headline({
        kind: 'baseline-crashed',
        run: runs.length,
        of: repeats,
        crash: crashed.outcome,
        hadPrevious: previous !== undefined,
      }),
      crash: crashSection(crashed.outcome),
    };
  } else if (moved.length > 0) {
    report = {
      ...base,
      status: 'discard',
      verdict: 'not-comparable',
      value: mean(samples),
      headline: headline({ kind: 'baseline-moved', drift }),
      notComparable: { drift },
    };
  } else {
    const entry: BaselineEntry = {
      commit: req.commit.sha,
      ref: req.commit.ref,
      date: (req.now?.() ?? new Date()).toISOString(),
      triggeredBy: req.triggeredBy,
      reason: req.reason ?? (previous ? 're-baseline' : 'first baseline on this runner'),
      samples,
      mean: mean(samples),
      sigma: samples.length >= 2 ? sampleSd(samples) : 0,
      n: samples.length,
      trainBlob: job.trainBlob,
      metrics,
      os: identity.hardware.os,
    };
    await promoteBaseline(settings.stateDir, identity.keyHash, { ...identity.components }, entry);
    report = {
      ...base,
      status: 'keep',
      value: entry.mean,
      baseline: { mean: entry.mean, sigma: entry.sigma, n: entry.n, commit: entry.commit, date: entry.date },
      headline: headline({
        kind: 'baseline-established',
        runner: identity.hardware.label,
        metric: protocol.primary.name,
        mean: entry.mean,
        sigma: entry.sigma,
        n: entry.n,
        previous,
      }),
      warnings:
        entry.n < 2
          ? [
              ...base.warnings,
              `A baseline from one run cannot estimate the noise; use ${job.advice.baselineRepeats} ≥ 3 so verdicts are not over-confident.`,
            ]
          : base.warnings,
    };
  }
  const record = await job.record(report, runs);
  return { report, runs, record };
}
