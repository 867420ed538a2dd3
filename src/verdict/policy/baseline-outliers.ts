/**
 * One baseline run far from the others (a background job, a thermal hiccup) inflates σ and moves
 * the mean: measured, a single +5σ run cut the power on 3σ gains from 83 % to 35 %. A run is an
 * outlier when it sits more than {@link OUTLIER_LIMIT} robust standard deviations from the median of
 * the other runs (robust σ = 1.4826 × their median absolute deviation); the baseline then runs once
 * more and leaves it out.
 */
import { StatisticsError } from '../statistics.js';

/** Robust z beyond which a baseline run is set aside (chosen with `npm run bench -- loop`). */
export const OUTLIER_LIMIT = 3.5;

/** Indexes of runs that sit far from all the others; at most one, the farthest. Needs ≥ 5 runs. */
export function baselineOutlier(samples: readonly number[], limit = OUTLIER_LIMIT): number | undefined {
  if (samples.some((v) => !Number.isFinite(v))) {
    throw new StatisticsError('baselineOutlier: every baseline run must be a finite number');
  }
  if (samples.length < 5) return undefined;
  let worst: { index: number; z: number } | undefined;
  samples.forEach((value, index) => {
    const others = samples.filter((_, j) => j !== index);
    const centre = median(others);
    const spread = 1.4826 * median(others.map((v) => Math.abs(v - centre)));
    if (spread === 0) return;
    const z = Math.abs(value - centre) / spread;
    if (z > limit && (!worst || z > worst.z)) worst = { index, z };
  });
  return worst?.index;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
