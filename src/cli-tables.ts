/**
 * What the local CLI prints on a terminal: the report of a run as a two-column table, and the
 * ledger as a history table.
 */
import type { Report } from './model.js';
import { describeFigure } from './publish/format.js';
import type { LedgerRecord } from './state/ledger.js';

/** A plain two-column table of the report for a terminal. */
export function reportTable(report: Report, logs: readonly string[]): string {
  const rows: Array<[string, string]> = [];
  const f6 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(6));
  rows.push(['status', report.status]);
  if (report.verdict) rows.push(['verdict', report.verdict]);
  rows.push([
    report.primary.name,
    `${f6(report.value)}${report.samples && report.samples.length > 1 ? ` (mean of ${report.samples.length})` : ''}`,
  ]);
  if (report.baseline) {
    rows.push([
      'baseline',
      `${f6(report.baseline.mean)} (σ ${report.baseline.sigma.toFixed(4)}, n=${report.baseline.n})`,
    ]);
  }
  if (report.vsBaseline) {
    const d = report.vsBaseline;
    const sigma =
      d.deltaSigma === null ? '' : ` (${d.deltaSigma >= 0 ? '+' : ''}${d.deltaSigma.toFixed(1)}σ)`;
    const p = d.probabilityBetter === undefined ? '' : `, P(better) ${d.probabilityBetter.toFixed(3)}`;
    rows.push(['delta', `${d.delta >= 0 ? '+' : ''}${d.delta.toFixed(4)}${sigma}${p}`]);
  }
  for (const figure of report.figures) {
    rows.push([figure.label.toLowerCase(), describeFigure(figure, report.budgetSeconds)]);
  }
  if (report.crash) {
    rows.push(['crash', `${report.crash.kind}: ${report.crash.reason}`]);
    if (report.crash.hint) rows.push(['hint', report.crash.hint]);
  }
  rows.push(['runner', report.runner.label]);
  for (const log of logs) rows.push(['log', log]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  const notes = [
    report.headline,
    ...(report.decision?.explanation ?? []),
    ...report.warnings.map((w) => `warning: ${w}`),
  ];
  if (report.crash?.excerpt) notes.push('', report.crash.excerpt);
  return `${lines.join('\n')}\n\n${notes.join('\n')}\n`;
}

/**
 * The ledger under the current key as a terminal table, oldest first. Each row names the
 * train.py blob that ran: uncommitted edits share the HEAD commit but not the blob. A run that
 * was interrupted reads `cancelled`.
 */
export function historyTable(records: readonly LedgerRecord[], metric: string): string {
  if (records.length === 0) return 'No runs recorded under the current comparability key.\n';
  const columns = ['when (UTC)', 'mode', 'commit', 'train.py', metric, 'status', 'verdict'];
  const rows = records.map((r) => [
    r.at.slice(0, 16).replace('T', ' '),
    r.mode ?? '',
    (r.commit ?? '').slice(0, 7),
    r.trainBlob.slice(0, 7),
    typeof r.value === 'number' ? r.value.toFixed(6) : 'n/a',
    r.outcome?.some((o) => o.kind === 'cancelled') ? 'cancelled' : r.status,
    r.verdict ?? '',
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(columns), ...rows.map(line)].join('\n')}\n`;
}
