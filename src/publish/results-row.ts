/**
 * Formats one `results.tsv` row and writes it into an existing file without disturbing anything
 * else. Real results files are hand-edited and messy (extra columns, CRLF, odd statuses, no final
 * newline), so the upsert edits exactly one line and keeps every other byte as it was.
 */

import type { Report } from '../model.js';
import type { Protocol } from '../settings/protocol.js';
import { figureWithRole } from './format.js';

/** One judged run, as it goes into the results log. */
export interface ResultRow {
  /** Commit sha of the experiment (short or full); written as its first 7 characters. */
  commit: string;
  /** Primary metric value; `null` for a crash (written as `0.000000`). */
  value: number | null;
  /** Peak memory in GB; `null` when unknown or crashed (written as `0.0`). */
  memoryGb: number | null;
  /** Protocol status, e.g. `keep`, `discard`, `crash`. */
  status: string;
  /** Commit subject; an `experiment:` prefix is dropped and whitespace flattened. */
  description: string;
  /** Values for columns this module does not know (e.g. `runner`, `artifact_mb`). */
  extra?: Record<string, string>;
  /** Name of the column that holds `value`; the protocol's primary metric, `val_bpb` by default. */
  metricColumn?: string;
}

/**
 * The results.tsv row of a judged report: the primary metric, memory in GB, the protocol's status
 * word, and every column named after a summary metric the protocol shows (its value as printed).
 * A crash records no figures.
 */
export function reportRow(
  report: Report,
  protocol: Pick<Protocol, 'crashStatus' | 'primary'>,
  runner: string,
): ResultRow {
  const crashed = report.status === 'crash';
  return {
    commit: report.commit?.sha ?? '',
    value: crashed ? null : (report.value ?? null),
    memoryGb: crashed ? null : (figureWithRole(report.figures, 'memory')?.value ?? null),
    status: crashed ? protocol.crashStatus : report.status,
    description: describeRow(report),
    metricColumn: protocol.primary.name,
    extra: {
      ...Object.fromEntries(report.figures.map((f) => [f.metric, crashed ? '' : String(f.raw)])),
      runner,
    },
  };
}

/** results.tsv description: the commit subject, or what a baseline was made of. */
function describeRow(report: Report): string {
  if (report.mode === 'baseline' && report.baseline) {
    return `baseline (n=${report.baseline.n}, σ=${report.baseline.sigma.toFixed(4)})`;
  }
  return report.commit?.subject ?? '';
}

/** What identifies "the same run" when upserting: the commit, and the runner when the file records one. */
export interface RowIdentity {
  /** Short or full sha; matched as a prefix against the file's `commit` column. */
  commit: string;
  /** When set and the file has a `runner` column, a row must also match it there. */
  runnerOrKey?: string;
}

/** Result of {@link upsertRow}. */
export interface UpsertResult {
  /** The whole new file content. */
  text: string;
  /** False when the file already held exactly this row (nothing to commit). */
  changed: boolean;
  /** True when an existing row for the commit was found (and rewritten in place). */
  replaced: boolean;
}

/** Raised for a row or file that cannot be written as asked. */
export class ResultsRowError extends Error {
  override name = 'ResultsRowError';
}

const DEFAULT_METRIC_COLUMN = 'val_bpb';
const SHORT_SHA_LENGTH = 7;
const SHA_PATTERN = /^[0-9a-f]{7,64}$/i;

/**
 * Formats one TSV line (without line ending) for `columns`, in their order: `commit` (7 chars),
 * the metric column (`%.6f`), `memory_gb` (`%.1f`), `status`, `description`; any other column
 * comes from `row.extra` or stays empty.
 */
export function formatRow(columns: string[], row: ResultRow): string {
  const metricColumn = row.metricColumn ?? DEFAULT_METRIC_COLUMN;
  const commit = row.commit.trim();
  if (!SHA_PATTERN.test(commit)) {
    throw new ResultsRowError(
      `results row: commit "${row.commit}" is not a git sha (7 to 64 hex characters); pass the experiment commit's sha`,
    );
  }
  return columns
    .map((raw) => {
      const column = cleanHeaderCell(raw);
      if (column === 'commit') return commit.slice(0, SHORT_SHA_LENGTH).toLowerCase();
      if (column === metricColumn) return fixed(row.value, 6, metricColumn);
      if (column === 'memory_gb') return fixed(row.memoryGb, 1, 'memory_gb');
      if (column === 'status') return cell(row.status);
      if (column === 'description') return describe(row.description);
      return cell(row.extra?.[column] ?? '');
    })
    .join('\t');
}

/**
 * Writes `row` into a results file's text. A new or blank file gets the header `columns` and the
 * row. Otherwise the file's own header decides the column order (so the row lines up with the
 * columns people added), a row for the same commit is replaced in place (the last one, when a
 * hand-edited file already repeats it), or the row is appended in the file's line-ending style.
 */
export function upsertRow(
  existing: string | null,
  columns: string[],
  row: ResultRow,
  identity: RowIdentity,
): UpsertResult {
  if (existing === null || existing.replace(/^\uFEFF/, '').trim() === '') {
    const text = `${columns.join('\t')}\n${formatRow(columns, row)}\n`;
    return { text, changed: text !== existing, replaced: false };
  }

  const lines = splitLines(existing);
  const eol = lineEnding(lines);
  const headerCells = lineBody(lines[0]!).split('\t').map(cleanHeaderCell);
  const hasHeader = headerCells.includes('commit');
  const fileColumns = hasHeader ? headerCells : columns.map(cleanHeaderCell);
  const metricColumn = row.metricColumn ?? DEFAULT_METRIC_COLUMN;
  if (hasHeader && !fileColumns.includes(metricColumn)) {
    throw new ResultsRowError(
      `results file header (${fileColumns.join(', ')}) has no "${metricColumn}" column; add it to the header or point the results path at another file`,
    );
  }
  const newLine = formatRow(fileColumns, row);

  const commitIndex = fileColumns.indexOf('commit');
  const runnerIndex = identity.runnerOrKey === undefined ? -1 : fileColumns.indexOf('runner');
  let match = -1;
  for (let i = hasHeader ? 1 : 0; i < lines.length; i++) {
    const cells = lineBody(lines[i]!).split('\t');
    if (!sameCommit(cells[commitIndex], identity.commit)) continue;
    if (runnerIndex >= 0 && (cells[runnerIndex] ?? '').trim() !== identity.runnerOrKey) continue;
    match = i;
  }

  if (match >= 0) {
    const old = lines[match]!;
    const body = lineBody(old);
    lines[match] = newLine + old.slice(body.length);
    const text = lines.join('');
    return { text, changed: text !== existing, replaced: true };
  }
  // A file without a final newline gets exactly one, in its own style, before the new row.
  const separator = existing.endsWith('\n') ? '' : eol;
  return { text: `${existing}${separator}${newLine}${eol}`, changed: true, replaced: false };
}

/** Splits text into lines that keep their terminators, so joining them gives the text back. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A line without its `\n` or `\r\n`. */
function lineBody(line: string): string {
  return line.replace(/\r?\n$/, '');
}

/** The file's line ending: that of its first terminated line (`\n` when none is). */
function lineEnding(lines: string[]): string {
  const first = lines.find((line) => line.endsWith('\n'));
  return first?.endsWith('\r\n') ? '\r\n' : '\n';
}

function cleanHeaderCell(cell: string): string {
  return cell.replace(/^\uFEFF/, '').trim();
}

/** Rows in files hold 7-char shas, callers often a full one: either may be the other's prefix. */
function sameCommit(cellValue: string | undefined, commit: string): boolean {
  const a = (cellValue ?? '').trim().toLowerCase();
  const b = commit.trim().toLowerCase();
  if (!SHA_PATTERN.test(a) || !SHA_PATTERN.test(b)) return false;
  return a.startsWith(b) || b.startsWith(a);
}

function fixed(value: number | null, digits: number, column: string): string {
  if (value === null) return (0).toFixed(digits);
  if (!Number.isFinite(value)) {
    throw new ResultsRowError(
      `results row: ${column} is ${value}; pass a finite number, or null for a crashed run`,
    );
  }
  return value.toFixed(digits);
}

/** Tabs and line breaks inside a value would break the TSV: flatten them to single spaces. */
function cell(value: string): string {
  return value.replace(/\s*[\t\n\r\v\f]+\s*/g, ' ').trim();
}

/**
 * The commit subject as a description. A leading `=`, `+`, `-` or `@` would make a spreadsheet
 * opening results.tsv evaluate it as a formula, so such a cell gets a leading `'` (OWASP's advice
 * for CSV injection).
 */
function describe(subject: string): string {
  const text = cell(cell(subject).replace(/^experiment:/i, ''));
  return /^[=+\-@]/.test(text) ? `'${text}` : text;
}
