/**
 * When the decision is close: what one more run of the candidate is worth (the expected gain of the
 * decision after it, minus before), against what a fresh experiment's first run is worth. The
 * candidate runs again only when it is worth more.
 */
import { EFFECT_GRID } from './effect-prior.js';
import { jobLevelVariance, predict } from './level-filter.js';
import { type ChampionBelief, type Component, type LoopSettings, runSd } from './loop-policy.js';

/** The expected gain, in σ, a keep must exceed. */
export function keepThreshold(settings: LoopSettings): number {
  return settings.margin + settings.minGain / settings.sigma;
}

/**
 * What one more candidate run is worth (expected gain of the decision after it, minus before), and
 * what a fresh experiment's first run is worth, both in σ.
 */
export function repeatWorth(
  parts: readonly Component[],
  weights: readonly number[],
  belief: ChampionBelief,
  now: number,
  settings: LoopSettings,
): { again: number; fresh: number } {
  const sigma = settings.sigma;
  const effects = parts.map((p) => p.effect);
  const predicted = parts.map((p) => {
    const s = predict(p.state, now, settings.drift);
    return {
      mean: s.level + s.offset - p.effect * sigma,
      variance: jobLevelVariance(s) + runSd(settings) ** 2,
    };
  });
  const again =
    valueAfterOneRun(weights, effects, predicted, settings) - decisionValue(weights, effects, settings);
  const champion = predict(belief.state, now, settings.drift);
  const fresh = valueAfterOneRun(
    belief.prior,
    EFFECT_GRID,
    EFFECT_GRID.map((d) => ({ mean: champion.level - d * sigma, variance: champion.pLL + sigma * sigma })),
    settings,
  );
  return { again, fresh: Math.max(fresh - decisionValue(belief.prior, EFFECT_GRID, settings), 1e-9) };
}

/**
 * What a control run in this job is worth before the candidate's first run: the expected gain of
 * deciding on one candidate run when the champion's level here is known to `levelVariance`, with
 * the control and without it; and what a fresh experiment's first run is worth, all in σ. Where
 * the level lands after the control does not matter: the decision depends on the candidate's
 * distance from it.
 */
export function controlWorth(
  belief: ChampionBelief,
  levelVariance: number,
  settings: LoopSettings,
): { control: number; fresh: number } {
  const sigma = settings.sigma;
  const noise = runSd(settings) ** 2;
  const after = (variance: number) =>
    valueAfterOneRun(
      belief.prior,
      EFFECT_GRID,
      EFFECT_GRID.map((d) => ({ mean: -d * sigma, variance: variance + noise })),
      settings,
    );
  const without = after(levelVariance);
  const withControl = after((levelVariance * noise) / (levelVariance + noise));
  return {
    control: withControl - without,
    fresh: Math.max(without - decisionValue(belief.prior, EFFECT_GRID, settings), 1e-9),
  };
}

/** Expected gain of deciding now: keep (gain = E[effect]) when the rule keeps, else nothing. */
function decisionValue(
  weights: readonly number[],
  effects: readonly number[],
  settings: LoopSettings,
): number {
  let mean = 0;
  let better = 0;
  effects.forEach((d, i) => {
    mean += weights[i]! * d;
    if (d > 0) better += weights[i]!;
  });
  return keeps(mean, better, settings) ? mean : 0;
}

/** The keep rule on a posterior: expected gain above the threshold, and likely enough a real gain. */
export function keeps(expectedGain: number, probabilityBetter: number, settings: LoopSettings): boolean {
  return expectedGain > keepThreshold(settings) && probabilityBetter >= settings.minProbabilityBetter;
}

/** Expected decision value after observing one more run, by quadrature over its predictive mixture. */
function valueAfterOneRun(
  weights: readonly number[],
  effects: readonly number[],
  predicted: ReadonlyArray<{ mean: number; variance: number }>,
  settings: LoopSettings,
): number {
  // The parts with weight, in flat arrays: this runs for every close decision of a night.
  const w: number[] = [];
  const d: number[] = [];
  const mean: number[] = [];
  const halfPrecision: number[] = [];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  predicted.forEach((p, i) => {
    const weight = weights[i]!;
    if (weight === 0) return;
    const sd = Math.sqrt(p.variance);
    if (weight >= 1e-6) {
      lo = Math.min(lo, p.mean - 5 * sd);
      hi = Math.max(hi, p.mean + 5 * sd);
    }
    w.push(weight / sd);
    d.push(effects[i]!);
    mean.push(p.mean);
    halfPrecision.push(0.5 / p.variance);
  });
  const points = 80;
  const step = (hi - lo) / points;
  let total = 0;
  let mass = 0;
  for (let k = 0; k < points; k++) {
    const y = lo + (k + 0.5) * step;
    let density = 0;
    let gain = 0;
    let better = 0;
    for (let i = 0; i < w.length; i++) {
      const f = w[i]! * Math.exp(-((y - mean[i]!) ** 2) * halfPrecision[i]!);
      density += f;
      gain += f * d[i]!;
      if (d[i]! > 0) better += f;
    }
    if (density === 0) continue;
    const expected = gain / density;
    total += density * (keeps(expected, better / density, settings) ? expected : 0);
    mass += density;
  }
  return mass === 0 ? 0 : total / mass;
}
