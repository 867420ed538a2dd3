/**
 * The job summary (`$GITHUB_STEP_SUMMARY`): the same report as the PR comment under a title that
 * names the runner, plus what could not be published — the summary is the place a reader still
 * sees when the GitHub API failed.
 */
import type { Report } from '../model.js';
import { checkMaxChars, renderReportBody } from './render-comment.js';
import { inlineText } from './untrusted-text.js';

/** GitHub accepts up to 1 MiB of step summary; stay a little below. */
export const SUMMARY_MAX_CHARS = 1_000_000;

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
  const title = `## autoresearch-ci ${kind} on ${inlineText(report.runner.label, 100)}`;
  const errors = publishErrorsSection(opts.publishErrors ?? []);
  const frame = title.length + 2 + (errors === '' ? 0 : errors.length + 2) + 1;
  const body = renderReportBody(report, maxChars - frame);
  return [title, body, errors].filter((block) => block !== '').join('\n\n') + '\n';
}

function publishErrorsSection(errors: string[]): string {
  if (errors.length === 0) return '';
  return [
    '### ⚠️ Not published',
    '',
    'The verdict above is complete, but these steps failed; the PR comment or results log may be out of date:',
    '',
    ...errors.slice(0, 20).map((error) => `- ${inlineText(error, 500)}`),
    ...(errors.length > 20 ? [`- … and ${errors.length - 20} more`] : []),
  ].join('\n');
}
