import type { Report, TrainingRun } from '../model.js';

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

/** The report's secondary figures from the summary metrics (train.py's MB are MiB: /1024 gives GB as results.tsv writes it). */
export function figuresOf(metrics: Record<string, number>, ramBytes?: number): Report['figures'] {
  const figures: Report['figures'] = {};
  const vram = metrics['peak_vram_mb'];
  if (vram !== undefined) {
    figures.peakMemoryGb = vram / 1024;
    if (ramBytes) figures.memoryShareOfRam = (vram * 1024 * 1024) / ramBytes;
  }
  if (metrics['training_seconds'] !== undefined) figures.trainingSeconds = metrics['training_seconds'];
  if (metrics['num_steps'] !== undefined) figures.steps = metrics['num_steps'];
  if (metrics['total_tokens_M'] !== undefined) figures.tokensM = metrics['total_tokens_M'];
  if (metrics['num_params_M'] !== undefined) figures.paramsM = metrics['num_params_M'];
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
