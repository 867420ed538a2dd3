/**
 * The research progress of one experiment branch on one runner, read from the results files of a
 * results branch or from a runner's ledger: every experiment in order, the running best of the
 * kept ones, and the runner's baselines. The page and the comment chart draw from it.
 */
import { type Direction, isBetter } from '../model.js';
import type { LedgerRecord } from '../state/ledger.js';
import { sampleSd } from '../verdict/statistics.js';

/** One judged experiment. */
export interface ProgressPoint {
  commit: string;
  /** The primary metric; null for a crash. */
  value: number | null;
  /** keep, discard, crash or the protocol's crash word. */
  status: string;
  description: string;
}

/** One baseline of the runner: its mean, noise σ and number of runs. */
export interface BaselinePoint {
  commit: string;
  value: number;
  sigma: number;
  n: number;
}

/** The experiments of one branch on one runner, with the runner's baselines. */
export interface ProgressSeries {
  branch: string;
  runner: string;
  metric: string;
  direction: Direction;
  points: ProgressPoint[];
  /** Oldest first; the last is the one in force. */
  baselines: BaselinePoint[];
}

/** A kept change: its value, how much it moved the best before it, and that in units of σ. */
export interface KeptChange {
  index: number;
  point: ProgressPoint & { value: number };
  /** value − the best before it (the baseline when nothing was kept yet). */
  delta: number;
  /** delta / the baseline's σ; undefined without a σ. */
  deltaSigma?: number;
}

/** The best kept value after each experiment (starting from the baseline's), undefined until there is one. */
export function runningBest(
  series: Pick<ProgressSeries, 'points' | 'direction'>,
  start?: number,
): Array<number | undefined> {
  let best = start;
  return series.points.map((p) => {
    if (
      p.status === 'keep' &&
      p.value !== null &&
      (best === undefined || isBetter(p.value, best, series.direction))
    )
      best = p.value;
    return best;
  });
}

/** The kept changes that moved the best, with their Δ and Δ/σ against the best before them. */
export function keptChanges(series: ProgressSeries): KeptChange[] {
  const baseline = series.baselines.at(-1);
  let best = baseline?.value;
  const changes: KeptChange[] = [];
  series.points.forEach((point, index) => {
    if (point.status !== 'keep' || point.value === null) return;
    if (best !== undefined && !isBetter(point.value, best, series.direction)) return;
    const delta = best === undefined ? 0 : point.value - best;
    const sigma = baseline?.sigma;
    changes.push({
      index,
      point: { ...point, value: point.value },
      delta,
      deltaSigma: sigma ? delta / sigma : undefined,
    });
    best = point.value;
  });
  return changes;
}

/** A results file as stored on the results branch. */
export interface ResultsFile {
  /** Path on the branch, e.g. `autoresearch/mar5/mac-1/results.tsv`. */
  path: string;
  text: string;
}

const BASELINE_ROW = /^baseline \(n=(\d+), σ=([0-9.]+)\)/;

/**
 * One series per results file. Baseline rows (their description is `baseline (n=…, σ=…)`) are
 * the runner's baselines, wherever they were written; files holding only baselines make no chart.
 */
export function seriesFromResultsFiles(
  files: readonly ResultsFile[],
  metric: string,
  direction: Direction,
): ProgressSeries[] {
  const parsed = files.map((file) => ({ file, rows: parseResults(file.text, metric) }));
  const baselinesByRunner = new Map<string, BaselinePoint[]>();
  const series: ProgressSeries[] = [];
  for (const { file, rows } of parsed) {
    const where = placeOf(file.path);
    const points: ProgressPoint[] = [];
    for (const row of rows) {
      const runner = row.runner || where.runner;
      const base = BASELINE_ROW.exec(row.description);
      if (base && row.value !== null) {
        const list = baselinesByRunner.get(runner) ?? [];
        list.push({ commit: row.commit, value: row.value, n: Number(base[1]), sigma: Number(base[2]) });
        baselinesByRunner.set(runner, list);
      } else {
        points.push(row);
      }
    }
    if (points.length > 0) series.push({ ...where, metric, direction, points, baselines: [] });
  }
  for (const s of series) s.baselines = baselinesByRunner.get(s.runner) ?? [];
  return series.sort((a, b) => a.branch.localeCompare(b.branch) || a.runner.localeCompare(b.runner));
}

/** One series per branch and runner from a runner's ledger (the local CLI's state dir). */
export function seriesFromLedger(
  records: readonly LedgerRecord[],
  metric: string,
  direction: Direction,
): ProgressSeries[] {
  const byKey = new Map<string, ProgressSeries>();
  const baselines = new Map<string, BaselinePoint[]>();
  for (const r of records) {
    const runner = r.runner?.name ?? 'local';
    if (r.mode === 'baseline') {
      if (r.status !== 'keep' || typeof r.value !== 'number') continue;
      const samples = r.samples ?? [];
      const list = baselines.get(runner) ?? [];
      list.push({
        commit: r.commit ?? '',
        value: r.value,
        sigma: samples.length >= 2 ? sampleSd(samples) : 0,
        n: samples.length,
      });
      baselines.set(runner, list);
      continue;
    }
    if (r.status === 'rejected' || r.status === 'skipped') continue;
    const branch = r.branch ?? '';
    const key = `${branch}\u0000${runner}`;
    const series = byKey.get(key) ?? { branch, runner, metric, direction, points: [], baselines: [] };
    series.points.push({
      commit: r.commit ?? '',
      value: r.status === 'crash' ? null : (r.value ?? null),
      status: r.status,
      description: r.subject ?? '',
    });
    byKey.set(key, series);
  }
  const all = [...byKey.values()];
  for (const s of all) s.baselines = baselines.get(s.runner) ?? [];
  return all;
}

interface ResultsRow extends ProgressPoint {
  runner: string;
}

function parseResults(text: string, metric: string): ResultsRow[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split('\t').map((c) => c.trim());
  const col = (name: string) => header.indexOf(name);
  const [commitAt, valueAt, statusAt, descriptionAt, runnerAt] = [
    col('commit'),
    col(metric),
    col('status'),
    col('description'),
    col('runner'),
  ];
  if (commitAt < 0 || valueAt < 0) return [];
  const rows: ResultsRow[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const cells = line.split('\t');
    const status = (cells[statusAt] ?? '').trim();
    const value = Number(cells[valueAt]);
    rows.push({
      commit: (cells[commitAt] ?? '').trim(),
      // A crash is written as 0.000000: it has no value.
      value: status === 'keep' || status === 'discard' ? (Number.isFinite(value) ? value : null) : null,
      status,
      description: (cells[descriptionAt] ?? '').trim(),
      runner: runnerAt < 0 ? '' : (cells[runnerAt] ?? '').trim(),
    });
  }
  return rows;
}

/** `<branch…>/<runner>/results.tsv` → branch and runner; other layouts name the file's folder. */
function placeOf(file: string): { branch: string; runner: string } {
  const parts = file.split('/').slice(0, -1);
  if (parts.length >= 2) return { branch: parts.slice(0, -1).join('/'), runner: parts.at(-1) ?? '' };
  return { branch: parts[0] ?? '', runner: '' };
}
