/**
 * The loop policy: decides each experiment for the night, not for itself. Pure and side-effect
 * free (belief in → next step out), so the action, the local CLI and the loop benchmark run the
 * same code.
 *
 * - The champion (the kept code) is known from every run of its lineage, pooled by a Kalman filter
 *   over its level and the machine's drift (level-filter.ts), never from the one run that got kept.
 * - An experiment's effect gets a posterior over a grid, from the filter and a prior over effects
 *   learned from the runner's ledger (effect-prior.ts). It is kept when its expected gain is
 *   positive: a kept null change costs nothing, a missed gain is lost for good.
 * - Before the candidate runs, the champion is re-measured (a control run) when its level is known
 *   worse than `controlVariance`·σ² (after a keep, after drift, after a re-baseline).
 * - The candidate runs again only when that run is worth more than a fresh experiment's run
 *   (value of information), i.e. when the decision is close and a lot rides on it.
 *
 * Values are losses (lower is better) in metric units; time counts the runner's training runs.
 */
import {
  DEFAULT_PRIOR,
  EFFECT_GRID,
  type EffectEvidence,
  type EffectPrior,
  learnPrior,
  posteriorWeights,
  priorShares,
} from './effect-prior.js';
import {
  closeJob,
  collapse,
  type DriftModel,
  diffuseState,
  jobLevelVariance,
  type LevelState,
  observe,
  openJob,
  predict,
  shiftLevel,
} from './level-filter.js';
import { controlWorth, keeps, repeatWorth } from './value-of-information.js';

/** One training run: its loss and when it ran (in runs). */
export interface Run {
  value: number;
  t: number;
}

/** The runs of the job being decided: the candidate's and the champion's control runs. */
export interface JobRuns {
  candidate: readonly Run[];
  controls: readonly Run[];
}

/** The policy's knobs, all chosen with `npm run bench -- loop`. */
export interface LoopSettings {
  /** Noise σ of one training run in a job of its own, metric units (the unit of effects). */
  sigma: number;
  /**
   * Share of σ² that is a per-job offset: runs in one job share it, so back-to-back runs differ by
   * only σ·√(1 − jobShare), and a control run in the candidate's job cancels the offset.
   */
  jobShare: number;
  /** The first this many jobs after a baseline re-measure the champion, to learn `jobShare`. */
  calibrationJobs: number;
  /** Drift model in metric units (see {@link driftFor}). */
  drift: DriftModel;
  /** Re-measure the champion before a candidate when Var(level) > this × σ². */
  controlVariance: number;
  /** At most this many control runs per job. */
  maxControls: number;
  /** At least this many candidate runs (the `repeats` input), unless the candidate is clearly worse. */
  minCandidateRuns: number;
  /** At most this many candidate runs per job. */
  maxCandidateRuns: number;
  /** "Clearly worse": P(worse) at which the remaining minimum runs are skipped (fail-fast). */
  stopConfidence: number;
  /** Run the candidate again when that run is worth more than this × a fresh experiment's run. */
  repeatCost: number;
  /** Keep only when the expected gain exceeds this, in metric units (the min-improvement input). */
  minGain: number;
  /** Keep only when the expected gain exceeds this many σ as well (a margin against null keeps). */
  margin: number;
  /** Keep only when the effect is more likely than this to be a real gain. */
  minProbabilityBetter: number;
  /** The prior over effects before the ledger says otherwise. */
  basePrior: EffectPrior;
  /** Weight of the base prior, in experiments' worth of evidence. */
  pseudoCount: number;
  /**
   * The prior is learned from this many of the runner's most recent experiments: about five
   * nights, plenty for a prior on a 33-point grid, and what an agent proposes today is more like
   * what it proposed this week than last year. It also bounds what a job costs on a long ledger.
   */
  priorMemory: number;
}

/** The defaults, in σ multiples so they hold on any machine. */
export function defaultLoopSettings(sigma: number, minGain = 0): LoopSettings {
  return {
    sigma,
    jobShare: 0,
    calibrationJobs: 0,
    drift: driftFor(sigma),
    controlVariance: 1.5,
    maxControls: 2,
    minCandidateRuns: 1,
    maxCandidateRuns: 3,
    stopConfidence: 0.95,
    repeatCost: 1,
    minGain,
    margin: 0,
    minProbabilityBetter: 0.3,
    basePrior: DEFAULT_PRIOR,
    pseudoCount: 20,
    priorMemory: 500,
  };
}

/** A drift allowance proportional to σ: a steady drift up to ~0.03σ per run, and a slow random walk. */
export function driftFor(sigma: number): DriftModel {
  return { slopeSd: 0.03 * sigma, levelWalkSd: 0.03 * sigma };
}

/** What the policy knows between jobs: the champion's level and the learned prior. */
export interface ChampionBelief {
  state: LevelState;
  /** Evidence of the most recent `priorMemory` experiments judged (feeds the prior). */
  evidence: EffectEvidence[];
  prior: EffectPrior;
  /** Runs that measured the champion's lineage directly (baseline and controls). */
  directRuns: number;
  /**
   * Jobs since the baseline that ran a control, and the sum of their control runs' squared
   * distances from the expected level, in standard deviations (about 1 a run when σ is right).
   */
  controlJobs: number;
  controlSquares: number;
  /** Experiments kept since the baseline. */
  kept: number;
  /** The baseline code's level when it was measured, and the time of its first run. */
  baselineLevel: number;
  baselineTime: number;
}

/** Where the experiment stands: the posterior of its effect and the champion's level. */
export interface Assessment {
  /** Expected effect in σ (positive = better than the champion). */
  expectedGain: number;
  /** Standard deviation of the effect's posterior, in σ. */
  gainSd: number;
  probabilityBetter: number;
  probabilityWorse: number;
  /** The champion's level now (loss units) and its standard deviation. */
  champion: { level: number; sd: number };
  /** Estimated drift in metric units per run, and its standard deviation. */
  drift: { slope: number; sd: number };
  /** What this job's runs say about the effect alone (stored in the ledger to learn the prior). */
  evidence?: EffectEvidence;
  /** The prior the decision used. */
  priorShares: { harm: number; none: number; gain: number };
}

/** What to do next in the job. */
export type Step =
  | { kind: 'run-control'; why: string }
  | { kind: 'run-candidate'; why: string }
  | { kind: 'decide'; keep: boolean; assessment: Assessment };

/** The belief after a baseline: its runs measure the level (and, spread over time, the drift). */
export function startFromBaseline(
  runs: readonly Run[],
  settings: LoopSettings,
  evidence: readonly EffectEvidence[] = [],
): ChampionBelief {
  if (runs.length === 0) throw new RangeError('startFromBaseline: the baseline has no runs');
  const sorted = [...runs].sort((a, b) => a.t - b.t);
  // The baseline's runs are one job: they pin its level down, and the machine's level only to ±τ.
  let state = openJob(
    diffuseState(sorted[0]!.t, sorted[0]!.value, settings.sigma, settings.drift),
    jobVariance(settings),
  );
  for (const run of sorted) {
    state = observe(predict(state, run.t, settings.drift), run.value, 0, runSd(settings)).state;
  }
  const recent = evidence.slice(-settings.priorMemory);
  return {
    state: closeJob(state),
    evidence: recent,
    prior: learnPrior(recent, settings.basePrior, settings.pseudoCount),
    directRuns: runs.length,
    controlJobs: 0,
    controlSquares: 0,
    kept: 0,
    baselineLevel: state.level,
    baselineTime: sorted[0]!.t,
  };
}

/** The next step of a job at time `now` (in runs), given the runs it has made so far. */
export function nextStep(belief: ChampionBelief, job: JobRuns, now: number, settings: LoopSettings): Step {
  if (job.candidate.length === 0) {
    const why = controlReason(belief, job, now, settings);
    return why ? { kind: 'run-control', why } : { kind: 'run-candidate', why: 'first run of the candidate' };
  }
  const parts = componentsOf(belief, job, settings);
  const weights = weightsOf(parts);
  if (job.candidate.length < settings.minCandidateRuns) {
    const worse = parts.reduce((sum, p, i) => sum + (p.effect < 0 ? weights[i]! : 0), 0);
    if (worse < settings.stopConfidence) {
      return {
        kind: 'run-candidate',
        why: `run ${job.candidate.length + 1} of the ${settings.minCandidateRuns} asked for`,
      };
    }
    return decide(belief, job, settings);
  }
  if (job.candidate.length < settings.maxCandidateRuns) {
    const worth = repeatWorth(parts, weights, belief, now, settings);
    if (worth.again > settings.repeatCost * worth.fresh) {
      return {
        kind: 'run-candidate',
        why: `the decision is close: one more run of the candidate is worth ${worth.again.toFixed(3)}σ of expected gain, more than a new experiment's run (${worth.fresh.toFixed(3)}σ)`,
      };
    }
  }
  return decide(belief, job, settings);
}

/** Why the job should run the champion's code before the candidate, or undefined when it need not. */
function controlReason(
  belief: ChampionBelief,
  job: JobRuns,
  now: number,
  settings: LoopSettings,
): string | undefined {
  if (job.controls.length >= settings.maxControls) return undefined;
  if (job.controls.length === 0 && belief.controlJobs < settings.calibrationJobs) {
    return `job ${belief.controlJobs + 1} of the first ${settings.calibrationJobs} after the baseline: a run of the champion's code in a job of its own shows how much separate jobs differ`;
  }
  // Only control runs so far: every possible effect leaves the same belief, so one pass will do.
  const variance = jobLevelVariance(predict(controlFit(belief, job, settings).state, now, settings.drift));
  const sd = `±${(Math.sqrt(variance) / settings.sigma).toFixed(2)}σ`;
  if (variance > settings.controlVariance * settings.sigma ** 2) {
    // Say why when it is the time since its lineage last ran (a new branch on a busy runner).
    const idle = now - 1 - Math.max(belief.state.t, ...job.controls.map((r) => r.t));
    const since =
      idle >= 10
        ? ` (${idle} training runs on this machine since the last run of its code or of a change to it)`
        : '';
    return `the champion's level is known only to ${sd}${since}; one run of the champion's code sharpens it`;
  }
  if (settings.jobShare === 0) return undefined;
  // Where runs in separate jobs differ more than runs in one job, a control in the candidate's own
  // job may sharpen the comparison by more than a fresh experiment's run is worth.
  const worth = controlWorth(belief, variance, settings);
  if (worth.control > settings.repeatCost * worth.fresh) {
    return `runs in separate jobs differ more than runs in one job, so the champion's level in this job is known only to ${sd}; a run of its code here cancels the job's offset`;
  }
  return undefined;
}

/** Noise of a run within its job, metric units. */
export function runSd(settings: LoopSettings): number {
  return settings.sigma * Math.sqrt(1 - settings.jobShare);
}

/** Variance of a job's offset, metric units squared. */
export function jobVariance(settings: LoopSettings): number {
  return settings.jobShare * settings.sigma ** 2;
}

/** The final decision on the runs so far (also used when no run may be added). */
export function decide(
  belief: ChampionBelief,
  job: JobRuns,
  settings: LoopSettings,
): Extract<Step, { kind: 'decide' }> {
  const assessment = assess(belief, job, settings);
  const keep =
    job.candidate.length > 0 && keeps(assessment.expectedGain, assessment.probabilityBetter, settings);
  return { kind: 'decide', keep, assessment };
}

/** The posterior of the candidate's effect and the champion's level after the job's runs. */
export function assess(belief: ChampionBelief, job: JobRuns, settings: LoopSettings): Assessment {
  const parts = componentsOf(belief, job, settings);
  const weights = weightsOf(parts);
  let mean = 0;
  let square = 0;
  let better = 0;
  let worse = 0;
  parts.forEach(({ effect: d }, i) => {
    const w = weights[i]!;
    mean += w * d;
    square += w * d * d;
    if (d > 0) better += w;
    if (d < 0) worse += w;
  });
  const champion = collapse(parts.map((p, i) => ({ weight: weights[i]!, state: p.state })));
  const evidence = evidenceOf(parts);
  return {
    expectedGain: mean,
    gainSd: Math.sqrt(Math.max(0, square - mean * mean)),
    probabilityBetter: better,
    probabilityWorse: worse,
    champion: { level: champion.level, sd: Math.sqrt(champion.pLL) },
    drift: { slope: champion.slope, sd: Math.sqrt(champion.pSS) },
    ...(evidence ? { evidence } : {}),
    priorShares: priorShares(belief.prior),
  };
}

/**
 * The belief after the job's decision: kept, the champion moves by the candidate's effect (each
 * possible effect weighted by its posterior, so a lucky run moves it only as far as it deserves);
 * discarded, the champion stays and the job's runs still sharpen its level and the drift.
 */
export function conclude(
  belief: ChampionBelief,
  job: JobRuns,
  keep: boolean,
  settings: LoopSettings,
): ChampionBelief {
  const parts = componentsOf(belief, job, settings);
  const weights = weightsOf(parts);
  const state = closeJob(
    collapse(
      parts.map((p, i) => ({
        weight: weights[i]!,
        state: keep ? shiftLevel(p.state, -p.effect * settings.sigma) : p.state,
      })),
    ),
  );
  const found = evidenceOf(parts);
  const evidence = found ? [...belief.evidence, found].slice(-settings.priorMemory) : belief.evidence;
  const fit = job.controls.length > 0 ? controlFit(belief, job, settings) : undefined;
  return {
    ...belief,
    state,
    controlJobs: belief.controlJobs + (fit ? 1 : 0),
    controlSquares: belief.controlSquares + (fit?.squares ?? 0),
    evidence,
    prior: found
      ? learnPrior(evidence, settings.basePrior, settings.pseudoCount, belief.prior, 6)
      : belief.prior,
    directRuns: belief.directRuns + job.controls.length,
    kept: belief.kept + (keep ? 1 : 0),
  };
}

/** How likely the job's runs were under the belief (log of their marginal density, over every possible effect). */
export function jobLogEvidence(belief: ChampionBelief, job: JobRuns, settings: LoopSettings): number {
  const parts = componentsOf(belief, job, settings);
  let best = Number.NEGATIVE_INFINITY;
  for (const p of parts) if (p.prior > 0) best = Math.max(best, p.logLik);
  let total = 0;
  let mass = 0;
  for (const p of parts) {
    if (p.prior <= 0) continue;
    total += p.prior * Math.exp(p.logLik - best);
    mass += p.prior;
  }
  return best + Math.log(total / mass);
}

/**
 * The belief run through the job's control runs alone (before the candidate's first run this is
 * the belief whatever the effect), and how they fit it: their log-likelihood and squared
 * distances from the expected level (in standard deviations). They are runs of the champion's
 * code in a job of its own, so how far they fall says whether σ and the job share are right (a
 * candidate's runs cannot: its unknown effect absorbs the difference).
 */
export function controlFit(
  belief: ChampionBelief,
  job: JobRuns,
  settings: LoopSettings,
): { state: LevelState; logLik: number; squares: number } {
  let state = openJob(belief.state, jobVariance(settings));
  let logLik = 0;
  let squares = 0;
  for (const run of [...job.controls].sort((a, b) => a.t - b.t)) {
    const step = observe(predict(state, run.t, settings.drift), run.value, 0, runSd(settings));
    state = step.state;
    logLik += step.logLik;
    squares += step.z * step.z;
  }
  return { state, logLik, squares };
}

/** One possible effect: its prior weight, the filter run through the job's runs under it, and their likelihood. */
export interface Component {
  effect: number;
  prior: number;
  logLik: number;
  state: LevelState;
}

/** Posterior weights of the components. */
export function weightsOf(parts: readonly Component[]): number[] {
  return posteriorWeights(
    parts.map((p) => p.prior),
    parts.map((p) => p.logLik),
  );
}

/**
 * For each possible effect: the filter run through the job's runs, and their likelihood. The grid
 * is the prior's (±4σ), stretched with a flat tail when the runs say the effect lies beyond it:
 * on a quiet machine a real change can be tens of σ, and capping it at 4σ would leave the
 * champion's level far from where the kept code really is.
 */
function componentsOf(belief: ChampionBelief, job: JobRuns, settings: LoopSettings): Component[] {
  const runs = [
    ...job.controls.map((r) => ({ ...r, candidate: false })),
    ...job.candidate.map((r) => ({ ...r, candidate: true })),
  ].sort((a, b) => a.t - b.t);
  const opened = openJob(belief.state, jobVariance(settings));
  const under = (effect: number, prior: number): Component => {
    let state = opened;
    let logLik = 0;
    for (const run of runs) {
      const step = observe(
        predict(state, run.t, settings.drift),
        run.value,
        run.candidate ? -effect * settings.sigma : 0,
        runSd(settings),
      );
      state = step.state;
      logLik += step.logLik;
    }
    return { effect, prior, logLik, state };
  };
  const parts = EFFECT_GRID.map((effect, i) => under(effect, belief.prior[i]!));
  const evidence = evidenceOf(parts);
  if (!evidence) return parts;
  const edge = EFFECT_GRID.at(-1)!;
  // Only when the runs point well beyond the edge: near it, the edge of the grid stands for the
  // tail. The tail shares the edge's prior weight, so it never outweighs the grid.
  if (Math.abs(evidence.z) <= edge + 2 * evidence.se) return parts;
  const reach = Math.abs(evidence.z) + 5 * evidence.se;
  const step = Math.max(0.25, (reach - edge) / 60);
  const sign = evidence.z > 0 ? 1 : -1;
  const points = Math.ceil((reach - edge) / step);
  const tail = belief.prior[sign > 0 ? belief.prior.length - 1 : 0]! / points;
  for (let k = 1; k <= points; k++) parts.push(under(sign * (edge + k * step), tail));
  return parts;
}

/**
 * The job's evidence about the effect alone. The log-likelihood is exactly quadratic in the effect
 * (the model is linear-Gaussian once the effect is fixed), so three grid points give its centre
 * and width.
 */
function evidenceOf(parts: readonly Component[]): EffectEvidence | undefined {
  const at = (d: number) => parts.find((p) => p.effect === d)!.logLik;
  const curvature = at(1) + at(-1) - 2 * at(0);
  if (!(curvature < -1e-12)) return undefined;
  const se = 1 / Math.sqrt(-curvature);
  return { z: ((at(1) - at(-1)) / 2) * se * se, se };
}
