/**
 * The report body shared by the PR comment and the job summary, fitted to a size limit: the oldest
 * history rows go first, then the head of the log excerpt; as a last resort only the verdict and
 * headline remain.
 */
import type { Report } from '../model.js';
import { type HistoryEntry, historyEntries, historyTable } from './history-table.js';
import { progressChart } from './progress-chart.js';
import {
  commitLine,
  comparabilitySection,
  crashSection,
  decisionSection,
  excerptBlock,
  figuresTable,
  headingLine,
  holdSection,
  provenanceLine,
  rejectedSection,
  skippedSection,
  warningsList,
} from './report-sections.js';
import { cleanUntrusted, inlineText } from './untrusted-text.js';

/** GitHub rejects comment bodies over 65,536 characters; the default leaves room to spare. */
export const DEFAULT_MAX_CHARS = 60_000;
/** Below this even the verdict and headline may not fit. */
const MIN_MAX_CHARS = 1_000;
/** The verdict line, a short headline and the pointer to the full report always fit in this. */
const MIN_BODY_CHARS = 300;

/** How much of the two unbounded parts (history, log excerpt) a rendering includes. */
interface Limits {
  /** Newest history entries kept. */
  historyRows: number;
  /** Characters of the (cleaned) log excerpt kept, counted from its end. */
  excerptChars: number;
}

/**
 * The report without marker or title, at most `maxChars` long: the oldest history rows go first,
 * then the head of the log excerpt; as a last resort only the verdict and headline remain.
 * Shared by the PR comment and the job summary.
 */
export function renderReportBody(report: Report, maxChars: number): string {
  if (!Number.isInteger(maxChars) || maxChars < MIN_BODY_CHARS) {
    throw new RangeError(
      `maxChars left for the report body must be an integer of at least ${MIN_BODY_CHARS}, got ${String(maxChars)}; raise maxChars`,
    );
  }
  const parts = prepare(report);
  const fits = (limits: Limits): string | undefined => {
    const text = assemble(parts, limits);
    return text.length <= maxChars ? text : undefined;
  };
  const excerptChars = parts.excerpt?.length ?? 0;
  const full = fits({ historyRows: parts.history.length, excerptChars });
  if (full !== undefined) return full;
  const rows = largestFitting(parts.history.length, (k) => fits({ historyRows: k, excerptChars }));
  if (rows !== undefined) return rows;
  const cut = largestFitting(excerptChars, (c) => fits({ historyRows: 0, excerptChars: c }));
  if (cut !== undefined) return cut;
  return minimal(parts, maxChars);
}

/** Binary search for the largest n in [0, max] whose rendering fits (length grows with n). */
function largestFitting(max: number, render: (n: number) => string | undefined): string | undefined {
  let best = render(0);
  if (best === undefined) return undefined;
  let lo = 1;
  let hi = max;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const text = render(mid);
    if (text === undefined) {
      hi = mid - 1;
    } else {
      best = text;
      lo = mid + 1;
    }
  }
  return best;
}

/** The report broken into pre-rendered blocks; only history and excerpt vary with the limits. */
interface Parts {
  heading: string;
  /** The raw headline, for the last-resort rendering. */
  headline: string;
  top: string[];
  excerpt?: string;
  middle: string[];
  history: HistoryEntry[];
  baselineValue?: number;
  baselineSigma?: number;
  metric: string;
  direction: Report['primary']['direction'];
  provenance: string;
}

function prepare(report: Report): Parts {
  const crash = report.crash;
  const excerpt = crash ? cleanUntrusted(crash.excerpt).replace(/^\n+|\s+$/g, '') : undefined;
  return {
    heading: headingLine(report),
    headline: report.headline,
    top: [
      inlineText(report.headline, 500),
      ...(report.commit ? [commitLine(report.commit)] : []),
      figuresTable(report),
      ...(crash ? [crashSection(crash)] : []),
    ].filter((block) => block !== ''),
    excerpt: excerpt || undefined,
    middle: [
      holdSection(report),
      decisionSection(report),
      rejectedSection(report),
      skippedSection(report),
      comparabilitySection(report),
      warningsList(report),
    ].filter((block) => block !== ''),
    history: historyEntries(report),
    ...(report.baseline && Number.isFinite(report.baseline.mean)
      ? {
          baselineValue: report.baseline.mean,
          baselineSigma: report.vsBaseline?.sigma ?? report.baseline.sigma,
        }
      : {}),
    metric: report.primary.name,
    direction: report.primary.direction,
    provenance: provenanceLine(report),
  };
}

function assemble(parts: Parts, limits: Limits): string {
  const shown = parts.history.slice(parts.history.length - limits.historyRows);
  const blocks = [
    parts.heading,
    ...parts.top,
    excerptBlock(parts.excerpt, limits.excerptChars),
    ...parts.middle,
    progressChart(parts, shown),
    historyTable(parts.history.length, parts.metric, shown),
    parts.provenance,
  ];
  return blocks.filter((block) => block !== '').join('\n\n');
}

/** Last resort when even the fixed sections exceed the limit: verdict, headline and a pointer. */
function minimal(parts: Parts, maxChars: number): string {
  const note = '_The full report is too long for this space; see the job summary and log of this run._';
  const room = maxChars - parts.heading.length - note.length - 4;
  // Escaping lengthens the text by an unknown amount: shrink the cut until the escaped form fits.
  let cut = room;
  let headline = '';
  while (cut > 0) {
    headline = inlineText(parts.headline, cut);
    if (headline.length <= room) break;
    cut = Math.floor(cut * 0.8);
    headline = '';
  }
  return [parts.heading, headline, note].filter((block) => block !== '').join('\n\n');
}

/** Validates a size limit given by the caller; `RangeError` naming `maxChars` when unusable. */
export function checkMaxChars(maxChars: number): number {
  if (!Number.isInteger(maxChars) || maxChars < MIN_MAX_CHARS) {
    throw new RangeError(`maxChars must be an integer of at least ${MIN_MAX_CHARS}, got ${String(maxChars)}`);
  }
  return maxChars;
}
