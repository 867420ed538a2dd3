/**
 * What the machine measures the kept code (the champion) at, right now: a Kalman filter over the
 * champion's level, the machine's drift per run and the offset of the job in progress. Every run of the champion's lineage
 * is an observation of that level (a candidate's runs are, once shifted by its effect), so the
 * estimate pools all of them instead of trusting the one lucky run that got kept, and a machine
 * that slowly speeds up or slows down shows up as a slope rather than as keeps or misses.
 *
 * Values are losses (lower is better) in metric units; time counts training runs.
 */

/**
 * The filter's belief: level and slope at time `t`, and the offset shared by the runs of the job
 * in progress, with their covariance. Runs in one job share machine state (back-to-back runs
 * differ less than runs in separate jobs), so a control run in the candidate's own job cancels
 * that offset; between jobs the offset is forgotten (see {@link openJob}, {@link closeJob}).
 */
export interface LevelState {
  /** Time (in runs) the belief refers to. */
  t: number;
  /** Expected level of the champion at `t`. */
  level: number;
  /** Expected drift of the machine, in metric units per run. */
  slope: number;
  /** Expected offset of the job in progress (0 between jobs). */
  offset: number;
  /** Variance of the level. */
  pLL: number;
  /** Covariance of level and slope. */
  pLS: number;
  /** Variance of the slope. */
  pSS: number;
  /** Variance of the job's offset, and its covariances with level and slope (0 between jobs). */
  pOO: number;
  pLO: number;
  pSO: number;
}

/** How the machine may drift. */
export interface DriftModel {
  /** Prior standard deviation of a steady drift, metric units per run (0: no drift is modelled). */
  slopeSd: number;
  /** Standard deviation of the level's random walk per run (irregular load changes). */
  levelWalkSd: number;
}

const NO_JOB = { offset: 0, pOO: 0, pLO: 0, pSO: 0 };

/** A state that knows nothing yet except the drift prior (the first observation sets the level). */
export function diffuseState(t: number, firstValue: number, sigma: number, drift: DriftModel): LevelState {
  return {
    t,
    level: firstValue,
    slope: 0,
    pLL: (100 * sigma) ** 2,
    pLS: 0,
    pSS: drift.slopeSd ** 2,
    ...NO_JOB,
  };
}

/** Starts a job: its runs will share a fresh offset of variance `jobVariance` (0: no per-job offset). */
export function openJob(s: LevelState, jobVariance: number): LevelState {
  return { ...s, ...NO_JOB, pOO: jobVariance };
}

/** Ends a job: its offset is forgotten, and what its runs said about the level and slope stays. */
export function closeJob(s: LevelState): LevelState {
  return { ...s, ...NO_JOB };
}

/** Variance of what the next run of the champion's code in this job would measure, noise aside. */
export function jobLevelVariance(s: LevelState): number {
  return s.pLL + 2 * s.pLO + s.pOO;
}

/** Moves the belief forward to time `t` (never backwards: a later time only adds uncertainty). */
export function predict(s: LevelState, t: number, drift: DriftModel): LevelState {
  const dt = Math.max(0, t - s.t);
  if (dt === 0) return s;
  const pLL = s.pLL + 2 * dt * s.pLS + dt * dt * s.pSS + dt * drift.levelWalkSd ** 2;
  return {
    ...s,
    t: Math.max(t, s.t),
    level: s.level + dt * s.slope,
    pLL,
    pLS: s.pLS + dt * s.pSS,
    pLO: s.pLO + dt * s.pSO,
  };
}

/**
 * Conditions the belief on one run observed at the state's time: `value = level + job offset +
 * shift + noise` (shift 0 for the champion itself, the candidate's effect for a candidate run;
 * `sigma` is the noise of a run within its job). Returns the new belief, the log-likelihood of
 * the value, and how many standard deviations it fell from where the belief expected it.
 */
export function observe(
  s: LevelState,
  value: number,
  shift: number,
  sigma: number,
): { state: LevelState; logLik: number; z: number } {
  const innovation = value - (s.level + s.offset + shift);
  const variance = jobLevelVariance(s) + sigma * sigma;
  // Gain = P·H'/S with H = [1, 0, 1] (level and offset are seen together).
  const kL = (s.pLL + s.pLO) / variance;
  const kS = (s.pLS + s.pSO) / variance;
  const kO = (s.pLO + s.pOO) / variance;
  return {
    state: {
      t: s.t,
      level: s.level + kL * innovation,
      slope: s.slope + kS * innovation,
      offset: s.offset + kO * innovation,
      pLL: s.pLL - kL * kL * variance,
      pLS: s.pLS - kL * kS * variance,
      pSS: s.pSS - kS * kS * variance,
      pOO: s.pOO - kO * kO * variance,
      pLO: s.pLO - kL * kO * variance,
      pSO: s.pSO - kS * kO * variance,
    },
    logLik: -0.5 * (Math.log(2 * Math.PI * variance) + (innovation * innovation) / variance),
    z: innovation / Math.sqrt(variance),
  };
}

/** Shifts the level by `amount` (a kept effect), leaving the slope as it is. */
export function shiftLevel(s: LevelState, amount: number): LevelState {
  return { ...s, level: s.level + amount };
}

const MEANS = ['level', 'slope', 'offset'] as const;
const COVARIANCES = [
  ['pLL', 'level', 'level'],
  ['pLS', 'level', 'slope'],
  ['pSS', 'slope', 'slope'],
  ['pOO', 'offset', 'offset'],
  ['pLO', 'level', 'offset'],
  ['pSO', 'slope', 'offset'],
] as const;

/**
 * Collapses a weighted mixture of beliefs (all at the same time) into one Gaussian with the same
 * mean and covariance: what is carried to the next experiment after its effect stays uncertain.
 */
export function collapse(parts: ReadonlyArray<{ weight: number; state: LevelState }>): LevelState {
  const total = parts.reduce((sum, p) => sum + p.weight, 0);
  const out = { ...parts[0]!.state };
  for (const m of MEANS) out[m] = parts.reduce((sum, p) => sum + p.weight * p.state[m], 0) / total;
  for (const [c, a, b] of COVARIANCES) {
    out[c] = parts.reduce(
      (sum, p) => sum + (p.weight / total) * (p.state[c] + (p.state[a] - out[a]) * (p.state[b] - out[b])),
      0,
    );
  }
  return out;
}
