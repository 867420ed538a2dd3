/** The progress chart of the comment and the job summary (a mermaid chart GitHub renders). */
import type { Direction } from '../model.js';
import { directionNote } from './format.js';
import type { HistoryEntry } from './history-table.js';

/** More points than this make the chart unreadable, whatever the space. */
export const CHART_MAX_POINTS = 50;

/**
 * A mermaid `xychart-beta` of the primary metric per experiment (newest {@link CHART_MAX_POINTS}
 * with a value), with the baseline as a second, flat line. Labels are short shas in quotes.
 */
export function progressChart(
  parts: { metric: string; direction: Direction; baselineValue?: number },
  shown: HistoryEntry[],
): string {
  const points = shown.filter((entry) => entry.value !== null).slice(-CHART_MAX_POINTS);
  if (points.length < 2) return '';
  const values = points.map((p) => p.value as number);
  const all = parts.baselineValue === undefined ? values : [...values, parts.baselineValue];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = hi > lo ? (hi - lo) * 0.1 : Math.max(Math.abs(hi) * 0.001, 1e-6);
  const seen = new Map<string, number>();
  // Repeated labels would merge into one band; number the repeats.
  const labels = points.map((p) => {
    const n = (seen.get(p.label) ?? 0) + 1;
    seen.set(p.label, n);
    return `"${n === 1 ? p.label : `${p.label}-${n}`}"`;
  });
  const name = parts.metric.replace(/[^A-Za-z0-9_]/g, '') || 'metric';
  const num = (v: number): string => v.toFixed(6);
  const lines = [
    '```mermaid',
    // Mermaid's default first line colour is nearly white on GitHub's light theme.
    '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#0969da, #8c959f"}}}}%%',
    'xychart-beta',
    `  title "${name} per experiment (${directionNote(parts.direction)})"`,
    `  x-axis [${labels.join(', ')}]`,
    `  y-axis "${name}" ${num(Math.floor((lo - pad) * 1e6) / 1e6)} --> ${num(Math.ceil((hi + pad) * 1e6) / 1e6)}`,
    `  line [${values.map(num).join(', ')}]`,
  ];
  if (parts.baselineValue !== undefined) {
    lines.push(`  line [${points.map(() => num(parts.baselineValue as number)).join(', ')}]`);
  }
  lines.push('```');
  const legend = parts.baselineValue === undefined ? '' : '; the flat line is the baseline';
  return `${lines.join('\n')}\n\n<sub>Chart: ${name} of the last ${points.length} experiments with a value${legend}.</sub>`;
}
