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
 * Whether a re-run confirms a held value: it lands within `tolerance` σ of it (the same code on
 * the same machine measures the same number up to noise).
 */
export function confirmsHeldValue(
  held: number,
  rerun: number,
  sigma: number | undefined,
  tolerance = 4,
): boolean {
  const scale = sigma && sigma > 0 ? sigma : Math.abs(held) * 1e-3;
  return Math.abs(rerun - held) <= tolerance * scale;
}
