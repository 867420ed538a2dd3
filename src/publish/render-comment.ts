/**
 * The sticky PR comment's variants: the verdict, "training…", cancelled and error. One comment per
 * (PR, runner), found again by its hidden marker on the first line.
 */
import type { Report } from '../model.js';
import { formatSeconds } from './format.js';
import { checkMaxChars, DEFAULT_MAX_CHARS, renderReportBody } from './report-body.js';
import { commitLine } from './report-sections.js';
import { inlineText } from './untrusted-text.js';

/** Markers are short ids; a long one would eat the body's space. */
const MAX_MARKER_CHARS = 200;

/** Options of {@link renderComment}. */
export interface CommentOptions {
  /** Hidden HTML comment identifying the sticky comment, e.g. `<!-- autoresearch-ci:runner=mac1 -->`. */
  marker: string;
  /** Upper bound of the body's length in characters (default {@link DEFAULT_MAX_CHARS}). */
  maxChars?: number;
}

/**
 * The sticky comment for a finished job: the marker on the first line, then the report. Longer
 * than `maxChars`, it drops the oldest history rows first, then shortens the log excerpt.
 */
export function renderComment(report: Report, opts: CommentOptions): string {
  const marker = checkMarker(opts.marker);
  const maxChars = checkMaxChars(opts.maxChars ?? DEFAULT_MAX_CHARS);
  return `${marker}\n${renderReportBody(report, maxChars - marker.length - 1)}`;
}

/** Options of {@link renderProgressComment}. */
export interface ProgressOptions {
  marker: string;
  runnerLabel: string;
  commit: { sha: string; subject?: string };
  /** When training started (a Date or an ISO 8601 string). */
  startedAt: Date | string;
  /** Training budget, to say roughly when the verdict arrives. */
  budgetSeconds?: number;
}

/** The sticky comment while training runs: "⏳ Training on <runner>…". */
export function renderProgressComment(opts: ProgressOptions): string {
  const marker = checkMarker(opts.marker);
  const runner = inlineText(opts.runnerLabel, 100);
  const eta =
    opts.budgetSeconds === undefined
      ? ''
      : ` Training takes about ${formatSeconds(opts.budgetSeconds)} plus start-up and evaluation.`;
  return [
    marker,
    `### ⏳ Training on ${runner}…`,
    '',
    `${commitLine(opts.commit)} · started ${formatTime(opts.startedAt, 'startedAt')}.${eta}`,
    '',
    'This comment is replaced by the verdict when the run ends.',
  ].join('\n');
}

/** Options of {@link renderCancelledComment}. */
export interface CancelledOptions {
  marker: string;
  runnerLabel: string;
  commit: { sha: string; subject?: string };
  /** When the job was cancelled (a Date or an ISO 8601 string). */
  cancelledAt?: Date | string;
  /** Why, if known (e.g. a newer push superseded the run). */
  reason?: string;
}

/** The sticky comment after the job was cancelled: no verdict, nothing recorded. */
export function renderCancelledComment(opts: CancelledOptions): string {
  const marker = checkMarker(opts.marker);
  const runner = inlineText(opts.runnerLabel, 100);
  const when = opts.cancelledAt === undefined ? '' : ` at ${formatTime(opts.cancelledAt, 'cancelledAt')}`;
  const why = opts.reason === undefined ? '' : ` Reason: ${inlineText(opts.reason, 300)}.`;
  return [
    marker,
    '### 🛑 **Cancelled** — no verdict',
    '',
    `${commitLine(opts.commit)} · training on ${runner} was cancelled${when} before it finished, so nothing was compared or recorded.${why}`,
    '',
    'Re-run the job to judge this commit.',
  ].join('\n');
}

/** Options of {@link renderErrorComment}. */
export interface ErrorCommentOptions {
  marker: string;
  /** What stopped the job. */
  message: string;
}

/** The sticky comment when the job failed before a verdict: why, and where the details are. */
export function renderErrorComment(opts: ErrorCommentOptions): string {
  const marker = checkMarker(opts.marker);
  return `${marker}\n### ⚠️ **Error** — no verdict\n\n${inlineText(opts.message, 2000)}\n\nThe job summary has the details.`;
}

function formatTime(value: Date | string, field: string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new TypeError(
      `${field} is not a valid date: ${JSON.stringify(String(value))}; pass a Date or an ISO 8601 string`,
    );
  }
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The marker must be exactly one HTML comment on one line, or the sticky comment is lost or breaks. */
function checkMarker(marker: string): string {
  const valid = /^<!--[^\n]*-->$/.test(marker) && marker.indexOf('-->') === marker.length - 3;
  if (!valid || marker.length > MAX_MARKER_CHARS) {
    throw new TypeError(
      `marker must be a single-line HTML comment of at most ${MAX_MARKER_CHARS} characters such as "<!-- autoresearch-ci:runner=mac1 -->", got ${JSON.stringify(marker.slice(0, 300))}`,
    );
  }
  return marker;
}
