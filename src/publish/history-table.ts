/** The history table: the branch's experiments on this runner, oldest first. */
import type { Report } from '../model.js';
import { formatCount, formatValue, shortSha } from './format.js';
import { STATUS_EMOJI } from './report-sections.js';
import { inlineText } from './untrusted-text.js';

/** One experiment, rendered once up front so the size search only re-joins strings. */
export interface HistoryEntry {
  row: string;
  label: string;
  /** Its number in the history table's # column. */
  number: number;
  value: number | null;
  kept: boolean;
}

/** History oldest first, with this run appended unless the history already ends with it. */
export function historyEntries(report: Report): HistoryEntry[] {
  const items: Array<Report['history'][number] & { current?: boolean }> = [...report.history];
  const current = report.commit;
  if (current && items.at(-1)?.sha !== current.sha && report.mode === 'experiment') {
    items.push({
      sha: current.sha,
      subject: current.subject,
      value: report.value ?? null,
      status: report.status,
      current: true,
    });
  }
  return items.map((item, i) => {
    const label = shortSha(item.sha);
    const subject = `${item.current ? '**(this run)** ' : ''}${inlineText(item.subject, 100)}`;
    const value = item.value !== null && Number.isFinite(item.value) ? item.value : null;
    const status = `${STATUS_EMOJI[item.status] ?? ''} ${inlineText(item.status, 20)}`.trim();
    return {
      row: `| ${formatCount(i + 1)} | \`${label}\` | ${subject} | ${formatValue(item.value)} | ${status} |`,
      label,
      number: i + 1,
      value,
      kept: item.status === 'keep',
    };
  });
}

/** The collapsed table of the shown entries, saying how many of all there are. */
export function historyTable(total: number, metricName: string, shown: HistoryEntry[]): string {
  if (total === 0) return '';
  const count =
    shown.length === total
      ? `${formatCount(total)} experiment${total === 1 ? '' : 's'}`
      : `last ${formatCount(shown.length)} of ${formatCount(total)} experiments`;
  const metric = inlineText(metricName, 40);
  if (shown.length === 0)
    return `_History on this runner: ${formatCount(total)} experiments, left out for space._`;
  return [
    `<details><summary>History on this runner (${count})</summary>`,
    '',
    `| # | Commit | Subject | ${metric} | Status |`,
    '| --- | --- | --- | --- | --- |',
    ...shown.map((entry) => entry.row),
    '',
    '</details>',
  ].join('\n');
}
