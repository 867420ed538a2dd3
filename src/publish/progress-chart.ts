/**
 * The progress chart of the comment and the job summary: a mermaid `xychart-beta`, the one chart
 * GitHub draws in comments. Mermaid's xychart has lines and bars but no dots, so the picture is
 * drawn with lines: the experiments in blue, the running best of the kept ones as a green line that
 * only ever moves toward better, the baseline dashed grey between the two grey edges of its ±σ
 * noise band, and kept experiments marked ★ on the axis. The progress page has the dot chart.
 */
import type { Direction } from '../model.js';
import { isBetter } from '../model.js';
import { directionNote } from './format.js';
import type { HistoryEntry } from './history-table.js';

/** More points than this make the chart unreadable at a comment's width, whatever the space. */
export const CHART_MAX_POINTS = 40;

/** What the chart needs besides the experiments. */
export interface ChartContext {
  metric: string;
  direction: Direction;
  baselineValue?: number;
  /** The noise σ of a single run: the band is baseline ± σ. */
  baselineSigma?: number;
}

/** Line colours in series order: experiments, running best, baseline, band edges. */
const PALETTE = ['#0969da', '#1a7f37', '#57606a', '#afb8c1', '#afb8c1'];

/** The chart of the newest {@link CHART_MAX_POINTS} shown experiments with a value; '' below two. */
export function progressChart(ctx: ChartContext, shown: HistoryEntry[]): string {
  const points = shown.filter((entry) => entry.value !== null).slice(-CHART_MAX_POINTS);
  if (points.length < 2) return '';
  const values = points.map((p) => p.value as number);
  const best = runningBest(points, ctx);
  const base = ctx.baselineValue;
  const sigma =
    base !== undefined && ctx.baselineSigma && ctx.baselineSigma > 0 ? ctx.baselineSigma : undefined;
  const all = [...values];
  if (base !== undefined) all.push(base);
  if (base !== undefined && sigma !== undefined) all.push(base - sigma, base + sigma);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = hi > lo ? (hi - lo) * 0.1 : Math.max(Math.abs(hi) * 0.001, 1e-6);
  // The history table's numbers: short enough to stay apart at a comment's width, and unique
  // (repeated labels would merge into one band). Kept experiments get a star.
  const labels = points.map((p) => `"${p.kept ? '★' : ''}${p.number}"`);
  const name = ctx.metric.replace(/[^A-Za-z0-9_]/g, '') || 'metric';
  const num = (v: number): string => v.toFixed(6);
  const flat = (v: number) => `  line [${points.map(() => num(v)).join(', ')}]`;
  const series = [`  line [${values.map(num).join(', ')}]`, `  line [${best.map(num).join(', ')}]`];
  if (base !== undefined) series.push(flat(base));
  if (base !== undefined && sigma !== undefined) series.push(flat(base + sigma), flat(base - sigma));
  const lines = [
    '```mermaid',
    // Mermaid's default first line colour is nearly white on GitHub's light theme; a fixed white
    // background keeps the colours readable in the dark theme too.
    `%%{init: {"xyChart": {"width": 760, "height": 420, "xAxis": {"labelFontSize": 11}}, "themeVariables": {"xyChart": {"backgroundColor": "#ffffff", "plotColorPalette": "${PALETTE.slice(0, series.length).join(', ')}"}}}}%%`,
    'xychart-beta',
    `  title "${name} per experiment # (${directionNote(ctx.direction)})"`,
    `  x-axis [${labels.join(', ')}]`,
    `  y-axis "${name}" ${num(Math.floor((lo - pad) * 1e6) / 1e6)} --> ${num(Math.ceil((hi + pad) * 1e6) / 1e6)}`,
    ...series,
    '```',
  ];
  const legend = [
    'blue: each experiment',
    'green: best kept so far',
    ...(base !== undefined ? ['dark grey: the baseline'] : []),
    ...(sigma !== undefined ? ['light grey: its ±σ noise band'] : []),
    '★ kept; the numbers are those of the history table',
  ].join(' · ');
  return `${lines.join('\n')}\n\n<sub>Chart: ${name} of the last ${points.length} experiments with a value. ${legend}.</sub>`;
}

/** The best kept value up to each point, starting from the baseline (or the first value). */
function runningBest(points: HistoryEntry[], ctx: ChartContext): number[] {
  let best = ctx.baselineValue ?? (points[0]?.value as number);
  return points.map((p) => {
    if (p.kept && p.value !== null && isBetter(p.value, best, ctx.direction)) best = p.value;
    return best;
  });
}
