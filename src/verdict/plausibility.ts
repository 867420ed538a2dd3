/**
 * Plausibility of a measured value, before it may be kept: a value outside the metric's possible
 * range, or an improvement far beyond anything this runner has measured, is more likely a broken
 * or gamed measurement than a breakthrough. Such a result is held as `suspicious`: not kept and
 * not a reference until a re-run confirms it and a maintainer approves it.
 */
import type { IntegritySpec } from '../settings/integrity.js';

/** What {@link checkPlausibility} compares. */
export interface PlausibilityInput {
  /** The candidate's value (mean of its runs). */
  value: number;
  metric: string;
  direction: 'minimize' | 'maximize';
  spec: IntegritySpec['plausibility'];
  /** The best value this runner has measured under the same key (baseline or kept result). */
  bestSeen?: number;
  /** Single-run noise σ of this runner. */
  sigma?: number;
}

/** Reasons the value is implausible; empty when it is plausible. */
export function checkPlausibility(input: PlausibilityInput): string[] {
  const { value, metric, spec } = input;
  const reasons: string[] = [];
  if (spec.lowerBound !== null && value <= spec.lowerBound) {
    reasons.push(`${metric} ${value} is impossible: it must be above ${spec.lowerBound}`);
  }
  if (spec.upperBound !== null && value >= spec.upperBound) {
    reasons.push(`${metric} ${value} is impossible: it must be below ${spec.upperBound}`);
  }
  const { bestSeen, sigma } = input;
  if (bestSeen !== undefined && sigma !== undefined && sigma > 0) {
    const gain = input.direction === 'minimize' ? bestSeen - value : value - bestSeen;
    const inSigma = gain / sigma;
    const relative = gain / Math.abs(bestSeen);
    if (inSigma > spec.maxImprovementSigma && relative > spec.maxImprovementRelative) {
      reasons.push(
        `${metric} ${value} beats the best this runner has measured (${bestSeen}) by ${gain.toPrecision(3)}: ` +
          `${inSigma.toFixed(0)}σ and ${(relative * 100).toFixed(0)} %, beyond the protocol's limits ` +
          `(${spec.maxImprovementSigma}σ and ${(spec.maxImprovementRelative * 100).toFixed(0)} %)`,
      );
    }
  }
  return reasons;
}

/**
 * Whether a re-run confirms a held value: it lands as close to it as two runs of the same code do
 * (within `tolerance`·√2·σ), or, for a leap from `reference` (the best value seen before), it
 * reproduces at least three quarters of the leap. σ from back-to-back baseline runs can understate
 * the noise between jobs several times (docs/benchmarks.md, "Real noise"), and a fluke's re-run
 * falls back near the reference, not near the leap.
 */
export function confirmsHeldValue(
  held: number,
  rerun: number,
  sigma: number | undefined,
  reference?: number,
  tolerance = 4,
): boolean {
  const scale = sigma && sigma > 0 ? sigma : Math.abs(held) * 1e-3;
  const noise = tolerance * Math.SQRT2 * scale;
  const leap = reference === undefined ? 0 : Math.abs(held - reference) / 4;
  return Math.abs(rerun - held) <= Math.max(noise, leap);
}
