/**
 * The job summary (`$GITHUB_STEP_SUMMARY`): the same report as the PR comment under a title that
 * names the runner, plus what could not be published — the summary is the place a reader still
 * sees when the GitHub API failed.
 */
import type { Report } from '../model.js';
import { checkMaxChars, renderReportBody } from './report-body.js';
import { inlineText } from './untrusted-text.js';

/** GitHub accepts up to 1 MiB of step summary; stay a little below. */
const SUMMARY_MAX_CHARS = 1_000_000;

/** Options of {@link renderJobSummary}. */
export interface SummaryOptions {
  /** Problems met while publishing (comment, results.tsv push, …), one line each. */
  publishErrors?: string[];
  /** Upper bound of the whole summary (default {@link SUMMARY_MAX_CHARS}). */
  maxChars?: number;
}

/** The job summary for any report: every status, with publishing problems listed last. */
export function renderJobSummary(report: Report, opts: SummaryOptions = {}): string {
  const maxChars = checkMaxChars(opts.maxChars ?? SUMMARY_MAX_CHARS);
  const kind = report.mode === 'baseline' ? 'baseline' : 'experiment';
  const title = `## autoresearch-ci ${kind} on ${inlineText(report.runner.label, 60)}`;
  // The report comes first: the errors get at most a quarter of the space.
  const errors = publishErrorsSection(opts.publishErrors ?? [], Math.floor(maxChars / 4));
  const frame = title.length + 2 + (errors === '' ? 0 : errors.length + 2) + 1;
  const body = renderReportBody(report, maxChars - frame);
  return [title, body, errors].filter((block) => block !== '').join('\n\n') + '\n';
}

/** The "Not published" section, listing as many errors as fit in `maxChars`. */
function publishErrorsSection(errors: string[], maxChars: number): string {
  if (errors.length === 0) return '';
  const lines = [
    '### ⚠️ Not published',
    '',
    'The verdict above is complete, but these steps failed; the PR comment or results log may be out of date:',
    '',
  ];
  let length = lines.join('\n').length;
  for (const [i, error] of errors.entries()) {
    const item = `- ${inlineText(error, 300)}`;
    const more = `- … and ${errors.length - i} more`;
    const isLast = i === errors.length - 1;
    // Keep room for the "and N more" line unless this item is the last one.
    if (length + item.length + 1 + (isLast ? 0 : more.length + 1) > maxChars) {
      lines.push(more);
      break;
    }
    lines.push(item);
    length += item.length + 1;
  }
  return lines.join('\n');
}
