import type { Figure, TrainingRun } from '../model.js';
import type { FigureSpec } from '../settings/protocol.js';

/** Throughput below the baseline's by more than this share flags the run as environment suspect. */
const THROUGHPUT_TOLERANCE = 0.2;

/** The mean of every numeric summary metric over the runs that reported it. */
export function meanMetrics(runs: readonly TrainingRun[]): Record<string, number> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const run of runs) {
    for (const [key, value] of Object.entries(run.summary.metrics)) {
      const s = sums.get(key) ?? { total: 0, n: 0 };
      s.total += value;
      s.n += 1;
      sums.set(key, s);
    }
  }
  return Object.fromEntries([...sums].map(([key, s]) => [key, s.total / s.n]));
}

/**
 * The report's secondary figures: every figure the protocol lists whose metric the run printed,
 * scaled into its unit, next to the baseline's value. Memory is also a share of the runner's RAM.
 */
export function figuresOf(
  specs: readonly FigureSpec[],
  metrics: Record<string, number>,
  baseline: Record<string, number> | undefined,
  ramBytes: number | undefined,
): Figure[] {
  const figures: Figure[] = [];
  for (const spec of specs) {
    const raw = metrics[spec.metric];
    if (raw === undefined || !Number.isFinite(raw)) continue;
    const value = raw * spec.scale;
    const before = baseline?.[spec.metric];
    figures.push({
      metric: spec.metric,
      label: spec.label,
      value,
      raw,
      unit: spec.unit,
      decimals: spec.decimals,
      role: spec.role,
      baseline: before === undefined ? undefined : before * spec.scale,
      // Memory figures are in GB (GiB, as train.py divides MiB by 1024).
      shareOfRam: spec.role === 'memory' && ramBytes ? (value * 1024 ** 3) / ramBytes : undefined,
    });
  }
  return figures;
}

/**
 * Same budget, far fewer steps or tokens than the baseline: the machine was throttled or shared,
 * so the number says more about the environment than about the change.
 */
export function throughputWarnings(
  candidate: Record<string, number>,
  baseline: Record<string, number> | undefined,
): string[] {
  if (!baseline) return [];
  const warnings: string[] = [];
  for (const key of ['num_steps', 'total_tokens_M']) {
    const now = candidate[key];
    const before = baseline[key];
    if (now === undefined || before === undefined || before <= 0) continue;
    const drop = (before - now) / before;
    if (drop > THROUGHPUT_TOLERANCE) {
      warnings.push(
        `environment suspect: ${key} ${round(now)} is ${Math.round(drop * 100)} % below the baseline's ${round(before)} at the same budget (thermal throttling, Low Power Mode or another load on the machine?)`,
      );
    }
  }
  return warnings;
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
