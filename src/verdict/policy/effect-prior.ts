/**
 * What changes in this loop tend to do: a prior over an experiment's true effect on the kept code,
 * in units of the run-to-run noise σ (positive = better), on a fixed grid. It starts from a
 * cautious default and is learned from the runner's own ledger: each judged experiment leaves its
 * evidence about its effect (a measured effect and its standard error), and the prior is the
 * mixture that best explains all of them (EM for mixture weights on a grid, with the default
 * acting as `pseudoCount` experiments' worth of prior belief).
 */

/** Effects the prior can put weight on, in σ (−4 … +4 by 0.25). */
export const EFFECT_GRID: readonly number[] = Array.from({ length: 33 }, (_, i) => -4 + i * 0.25);

/** What one judged experiment says about its effect: measured effect ± standard error, in σ. */
export interface EffectEvidence {
  /** The measured effect in σ (positive = better than the champion). */
  z: number;
  /** Its standard error in σ (> 0). */
  se: number;
}

/** A prior: one weight per {@link EFFECT_GRID} point, summing to 1. */
export type EffectPrior = readonly number[];

/**
 * The default before the ledger says otherwise: half the changes do nothing, a third hurt and a
 * sixth help, each spread evenly up to 3σ. Cautious on purpose: a loop whose changes mostly help
 * learns that within a night, while a loop of null changes must not start out keeping them.
 */
export const DEFAULT_PRIOR: EffectPrior = mixturePrior({ nullShare: 0.5, harmShare: 0.34, range: 3 });

/**
 * Builds a grid prior from shares of null, harmful and helpful changes spread evenly up to `range`
 * σ. A small share (`tails`) is spread over the whole grid, so learning can still move weight to
 * effects the default thought unlikely.
 */
export function mixturePrior(opts: {
  nullShare: number;
  harmShare: number;
  range: number;
  /** Smallest |effect| of the helpful and harmful parts (below it, a change counts as null). */
  from?: number;
  tails?: number;
}): EffectPrior {
  const tails = opts.tails ?? 0.03;
  const from = opts.from ?? 0;
  const gainShare = 1 - opts.nullShare - opts.harmShare;
  const inRange = (d: number) => Math.abs(d) <= opts.range + 1e-9 && Math.abs(d) >= from - 1e-9;
  const harms = EFFECT_GRID.filter((d) => d < 0 && inRange(d)).length;
  const gains = EFFECT_GRID.filter((d) => d > 0 && inRange(d)).length;
  return EFFECT_GRID.map((d) => {
    const spread = tails / EFFECT_GRID.length;
    if (d === 0) return (1 - tails) * opts.nullShare + spread;
    if (!inRange(d)) return spread;
    return (1 - tails) * (d < 0 ? opts.harmShare / harms : gainShare / gains) + spread;
  });
}

/** Posterior weights over the grid of one experiment's effect, given its evidence. */
export function posteriorWeights(prior: EffectPrior, logLik: readonly number[]): number[] {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < prior.length; i++) if (prior[i]! > 0) best = Math.max(best, logLik[i]!);
  const w = prior.map((p, i) => (p > 0 ? p * Math.exp(logLik[i]! - best) : 0));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / total);
}

/** Log-likelihood over the grid of evidence `z ± se` (Gaussian in the effect). */
export function evidenceLogLik(e: EffectEvidence): number[] {
  return EFFECT_GRID.map((d) => -0.5 * ((e.z - d) / e.se) ** 2);
}

/**
 * Learns the prior from the evidence of earlier experiments. With no evidence it is the default;
 * with much, the evidence dominates. Deterministic: a fixed number of EM steps from `start` (the
 * prior learned one experiment earlier, so each new experiment costs a few steps, not a full fit).
 */
export function learnPrior(
  evidence: readonly EffectEvidence[],
  base: EffectPrior = DEFAULT_PRIOR,
  pseudoCount = 20,
  start: EffectPrior = base,
  steps = 60,
): EffectPrior {
  if (evidence.length === 0) return base;
  const likelihoods = evidence.map(gridLikelihood);
  const n = base.length;
  let w = Float64Array.from(start);
  const acc = new Float64Array(n);
  for (let step = 0; step < steps; step++) {
    for (let i = 0; i < n; i++) acc[i] = base[i]! * pseudoCount;
    let total = pseudoCount;
    for (const lik of likelihoods) {
      let mass = 0;
      for (let i = 0; i < n; i++) mass += w[i]! * lik[i]!;
      // Evidence only where the prior has no weight left (underflow) says nothing it can use.
      if (!(mass > 0)) continue;
      total++;
      for (let i = 0; i < n; i++) acc[i]! += (w[i]! * lik[i]!) / mass;
    }
    w = acc.map((a) => a / total);
  }
  return Array.from(w);
}

/** Each experiment's likelihood over the grid, scaled to 1 at its peak; kept with the evidence. */
const LIKELIHOODS = new WeakMap<EffectEvidence, Float64Array>();

/**
 * The likelihood of evidence over the grid, relative to its best grid point. A night's prior is
 * relearned after every experiment from all of them, so each is computed once, not at every step.
 */
function gridLikelihood(e: EffectEvidence): Float64Array {
  let lik = LIKELIHOODS.get(e);
  if (!lik) {
    const ll = evidenceLogLik(e);
    const best = Math.max(...ll);
    lik = Float64Array.from(ll, (v) => Math.exp(v - best));
    LIKELIHOODS.set(e, lik);
  }
  return lik;
}

/** Shares of null, harmful and helpful changes under a prior, for explanations. */
export function priorShares(prior: EffectPrior): { harm: number; none: number; gain: number } {
  let harm = 0;
  let none = 0;
  let gain = 0;
  EFFECT_GRID.forEach((d, i) => {
    if (d < 0) harm += prior[i]!;
    else if (d > 0) gain += prior[i]!;
    else none += prior[i]!;
  });
  return { harm, none, gain };
}
