/**
 * What the machine measures the kept code (the champion) at, right now: a two-state Kalman filter
 * over the champion's level and the machine's drift per run. Every run of the champion's lineage
 * is an observation of that level (a candidate's runs are, once shifted by its effect), so the
 * estimate pools all of them instead of trusting the one lucky run that got kept, and a machine
 * that slowly speeds up or slows down shows up as a slope rather than as keeps or misses.
 *
 * Values are losses (lower is better) in metric units; time counts training runs.
 */

/** The filter's belief: level and slope at time `t`, with their covariance. */
export interface LevelState {
  /** Time (in runs) the belief refers to. */
  t: number;
  /** Expected level of the champion at `t`. */
  level: number;
  /** Expected drift of the machine, in metric units per run. */
  slope: number;
  /** Variance of the level. */
  pLL: number;
  /** Covariance of level and slope. */
  pLS: number;
  /** Variance of the slope. */
  pSS: number;
}

/** How the machine may drift. */
export interface DriftModel {
  /** Prior standard deviation of a steady drift, metric units per run (0: no drift is modelled). */
  slopeSd: number;
  /** Standard deviation of the level's random walk per run (irregular load changes). */
  levelWalkSd: number;
}

/** A state that knows nothing yet except the drift prior (the first observation sets the level). */
export function diffuseState(t: number, firstValue: number, sigma: number, drift: DriftModel): LevelState {
  return { t, level: firstValue, slope: 0, pLL: (100 * sigma) ** 2, pLS: 0, pSS: drift.slopeSd ** 2 };
}

/** Moves the belief forward to time `t` (never backwards: a later time only adds uncertainty). */
export function predict(s: LevelState, t: number, drift: DriftModel): LevelState {
  const dt = Math.max(0, t - s.t);
  if (dt === 0) return s;
  const pLL = s.pLL + 2 * dt * s.pLS + dt * dt * s.pSS + dt * drift.levelWalkSd ** 2;
  return {
    t: Math.max(t, s.t),
    level: s.level + dt * s.slope,
    slope: s.slope,
    pLL,
    pLS: s.pLS + dt * s.pSS,
    pSS: s.pSS,
  };
}

/**
 * Conditions the belief on one run observed at the state's time: `value = level + offset + noise`
 * (offset 0 for the champion itself, the candidate's effect for a candidate run). Returns the new
 * belief and the log-likelihood of the value.
 */
export function observe(
  s: LevelState,
  value: number,
  offset: number,
  sigma: number,
): { state: LevelState; logLik: number } {
  const innovation = value - (s.level + offset);
  const variance = s.pLL + sigma * sigma;
  const gL = s.pLL / variance;
  const gS = s.pLS / variance;
  return {
    state: {
      t: s.t,
      level: s.level + gL * innovation,
      slope: s.slope + gS * innovation,
      pLL: s.pLL - gL * s.pLL,
      pLS: s.pLS - gL * s.pLS,
      pSS: s.pSS - gS * s.pLS,
    },
    logLik: -0.5 * (Math.log(2 * Math.PI * variance) + (innovation * innovation) / variance),
  };
}

/** Shifts the level by `amount` (a kept effect), leaving the slope as it is. */
export function shiftLevel(s: LevelState, amount: number): LevelState {
  return { ...s, level: s.level + amount };
}

/**
 * Collapses a weighted mixture of beliefs (all at the same time) into one Gaussian with the same
 * mean and covariance: what is carried to the next experiment after its effect stays uncertain.
 */
export function collapse(parts: ReadonlyArray<{ weight: number; state: LevelState }>): LevelState {
  let total = 0;
  let level = 0;
  let slope = 0;
  for (const { weight, state } of parts) {
    total += weight;
    level += weight * state.level;
    slope += weight * state.slope;
  }
  level /= total;
  slope /= total;
  let pLL = 0;
  let pLS = 0;
  let pSS = 0;
  for (const { weight, state } of parts) {
    const w = weight / total;
    const dL = state.level - level;
    const dS = state.slope - slope;
    pLL += w * (state.pLL + dL * dL);
    pLS += w * (state.pLS + dL * dS);
    pSS += w * (state.pSS + dS * dS);
  }
  return { t: parts[0]!.state.t, level, slope, pLL, pLS, pSS };
}
