import { diffComponents } from '../identity/comparability.js';
import type { Report } from '../model.js';
import { type BaselineEntry, currentBaseline, promoteBaseline } from '../state/baselines.js';
import { figuresOf, meanMetrics } from './figures.js';
import { crashSection, type JobRequest, prepareJob, runWarnings } from './job.js';
import type { Judgement } from './judge-experiment.js';
import { mean, sampleSd } from './statistics.js';

/**
 * Establishes this runner's baseline: `baseline-repeats` runs of the checked-out train.py under the
 * machine lock. It is promoted only if every run is ok and the comparability key did not move
 * while they ran; the previous baseline stays in the history. A crashed or incomparable run never
 * becomes a baseline.
 */
export async function establishBaseline(req: JobRequest): Promise<Judgement> {
  const job = await prepareJob(req);
  const { protocol, identity, settings } = job;
  const repeats = req.repeats ?? settings.baselineRepeats;
  const runs = await job.runSeries(repeats);
  const crashed = runs.find((r) => r.outcome.status === 'crash');
  const samples = runs.map((r) => r.summary.primary).filter((v): v is number => v !== null);
  const metrics = meanMetrics(runs.filter((r) => r.outcome.status === 'ok'));
  const previous = await currentBaseline(settings.stateDir, identity.keyHash);

  // The data, harness or machine may change while the runs go on; such samples mix two setups.
  const after = await job.reidentify();
  const moved =
    after.keyHash === identity.keyHash ? [] : diffComponents(identity.components, after.components);

  const base = {
    mode: 'baseline' as const,
    runner: job.runnerInfo,
    commit: job.commitView,
    samples,
    primary: { name: protocol.primary.name, direction: protocol.primary.direction },
    figures: figuresOf(metrics, identity.hardware.memoryBytes),
    warnings: runWarnings(runs),
    history: [],
    budgetSeconds: protocol.budgetSeconds,
  };
  let report: Report;
  if (crashed && crashed.outcome.status === 'crash') {
    report = {
      ...base,
      status: 'crash',
      verdict: 'crashed',
      value: null,
      headline: `Baseline not established: run ${runs.length}/${repeats} crashed (${crashed.outcome.kind}): ${crashed.outcome.reason}. ${previous ? 'The previous baseline stays in force.' : 'This runner still has no baseline.'}`,
      crash: crashSection(crashed.outcome),
    };
  } else if (moved.length > 0) {
    report = {
      ...base,
      status: 'discard',
      verdict: 'not-comparable',
      value: mean(samples),
      headline: `Baseline not established: the setup changed while the runs went on (${moved.map((d) => d.explanation).join('; ')}). Run the baseline again on a quiet machine.`,
      notComparable: { drift: moved.map((d) => d.explanation) },
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
    const sigmaText = entry.n >= 2 ? `σ ${entry.sigma.toFixed(4)}` : 'σ unknown from a single run';
    report = {
      ...base,
      status: 'keep',
      value: entry.mean,
      baseline: { mean: entry.mean, sigma: entry.sigma, n: entry.n, commit: entry.commit, date: entry.date },
      headline: `Baseline established on ${identity.hardware.label}: ${protocol.primary.name} ${entry.mean.toFixed(6)} (${sigmaText}, n=${entry.n})${previous ? `, replacing ${previous.mean.toFixed(6)} (n=${previous.n})` : ''}.`,
      ...(entry.n < 2
        ? {
            warnings: [
              ...base.warnings,
              'A baseline from one run cannot estimate the noise; use baseline-repeats ≥ 3 so verdicts are not over-confident.',
            ],
          }
        : {}),
    };
  }
  const record = await job.record(report, runs, {});
  return { report, runs, record };
}
