/**
 * The sticky PR comment: one per (PR, runner), found again by its hidden marker on the first
 * line. Holds the verdict, the figures, what went wrong, and the branch's history on the runner.
 * The report body is also what the job summary shows (see render-summary.ts).
 */
import type { CrashKind, Report, Status } from '../model.js';
import {
  deltaWord,
  directionNote,
  formatCount,
  formatDelta,
  formatGb,
  formatMillions,
  formatNoise,
  formatPercent,
  formatSeconds,
  formatSigma,
  formatValue,
  shortHash,
  shortSha,
} from './format.js';
import { cleanUntrusted, fenceClean, inlineText } from './untrusted-text.js';

/** GitHub rejects comment bodies over 65,536 characters; the default leaves room to spare. */
const DEFAULT_MAX_CHARS = 60_000;
/** Below this even the verdict and headline may not fit. */
const MIN_MAX_CHARS = 1_000;
/** More points than this make the chart unreadable, whatever the space. */
export const CHART_MAX_POINTS = 50;
/** The verdict line, a short headline and the pointer to the full report always fit in this. */
const MIN_BODY_CHARS = 300;
/** Markers are short ids; a long one would eat the body's space. */
const MAX_MARKER_CHARS = 200;
/** Warnings, drift items and rejected paths shown before "… and N more". */
const MAX_LIST_ITEMS = 50;

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

/** One experiment, rendered once up front so the size search only re-joins strings. */
interface HistoryEntry {
  row: string;
  label: string;
  value: number | null;
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
    ...(excerpt ? { excerpt } : {}),
    middle: [
      rejectedSection(report),
      skippedSection(report),
      comparabilitySection(report),
      warningsList(report),
    ].filter((block) => block !== ''),
    history: historyEntries(report),
    ...(report.baseline && Number.isFinite(report.baseline.mean)
      ? { baselineValue: report.baseline.mean }
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
    chart(parts, shown),
    historyTable(parts, shown),
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

const STATUS_WORD: Record<Status, string> = {
  keep: 'Keep',
  discard: 'Discard',
  crash: 'Crash',
  rejected: 'Rejected',
  skipped: 'Skipped',
};

const STATUS_EMOJI: Record<Status, string> = {
  keep: '✅',
  discard: '➖',
  crash: '💥',
  rejected: '🚫',
  skipped: '⏭️',
};

const VERDICT_WORDS: Record<NonNullable<Report['verdict']>, string> = {
  improved: 'improved',
  regressed: 'regressed',
  'within-noise': 'within noise',
  crashed: 'crashed',
  'not-comparable': 'not comparable',
  'no-baseline': 'no baseline',
};

const CRASH_KIND: Record<CrashKind, string> = {
  exception: 'Python exception',
  oom: 'out of memory',
  timeout: 'hard timeout',
  diverged: 'diverged (loss not finite)',
  'missing-metrics': 'no summary metrics',
  tampering: 'runner files modified',
  cancelled: 'cancelled',
};

/** Emoji for the verdict: the status decides, except the verdicts a reader must not miss. */
function badgeEmoji(report: Report): string {
  if (report.status === 'crash' || report.status === 'rejected' || report.status === 'skipped') {
    return STATUS_EMOJI[report.status];
  }
  switch (report.verdict) {
    case 'not-comparable':
    case 'no-baseline':
      return '⚠️';
    case 'regressed':
      return '❌';
    case 'within-noise':
      return '➖';
    case 'improved':
      return '✅';
    default:
      return STATUS_EMOJI[report.status];
  }
}

function headingLine(report: Report): string {
  const word =
    report.mode === 'baseline' && report.status === 'keep' ? 'Baseline recorded' : STATUS_WORD[report.status];
  const detail =
    report.status === 'crash' && report.crash
      ? CRASH_KIND[report.crash.kind]
      : report.verdict && report.verdict !== 'crashed'
        ? VERDICT_WORDS[report.verdict]
        : '';
  return `### ${badgeEmoji(report)} **${word}**${detail === '' ? '' : ` — ${detail}`}`;
}

function commitLine(commit: { sha: string; subject?: string; branch?: string }): string {
  const subject = commit.subject ? ` — ${inlineText(commit.subject, 120)}` : '';
  const branch = commit.branch ? ` (branch ${inlineText(commit.branch, 80)})` : '';
  return `Commit \`${shortSha(commit.sha)}\`${subject}${branch}`;
}

function figuresTable(report: Report): string {
  const metric = inlineText(report.primary.name, 40);
  const direction = report.primary.direction;
  const rows: Array<[string, string]> = [];
  if (report.value !== undefined) {
    const n = report.samples?.length ?? 0;
    const samples = n === 0 ? '' : n === 1 ? ', 1 sample' : `, mean of ${n} samples`;
    rows.push([`**${metric}**`, `**${formatValue(report.value)}** (${directionNote(direction)}${samples})`]);
  }
  if (report.baseline) {
    rows.push(['Baseline', `${formatValue(report.baseline.mean)} (n=${report.baseline.n})`]);
  }
  const vs = report.vsBaseline;
  if (vs) {
    const sigma = vs.deltaSigma === null ? 'σ unknown' : formatSigma(vs.deltaSigma);
    const p = vs.probabilityBetter === undefined ? '' : ` · P(better) ${formatPercent(vs.probabilityBetter)}`;
    rows.push([
      'Δ vs baseline',
      `${formatDelta(vs.delta)} (${sigma}) · ${deltaWord(vs.delta, direction)}${p}`,
    ]);
  }
  const best = report.vsBest;
  if (best) {
    rows.push([
      'Δ vs best on branch',
      `${formatDelta(best.delta)} · ${deltaWord(best.delta, direction)} than ${formatValue(best.value)} at \`${shortSha(best.commit)}\``,
    ]);
  }
  const f = report.figures;
  // Secondary figures next to the baseline's: a change that wins on the metric may cost memory or throughput.
  const b = report.baselineFigures ?? {};
  const vsBase = (value: number | undefined, format: (v: number) => string) =>
    value === undefined ? '' : ` · baseline ${format(value)}`;
  if (f.peakMemoryGb !== undefined) {
    const share = f.memoryShareOfRam ?? ramShare(f.peakMemoryGb, report.runner.ramBytes);
    const ofRam = share === undefined ? '' : ` (${formatPercent(share)} of RAM)`;
    rows.push(['Peak memory', `${formatGb(f.peakMemoryGb)}${ofRam}${vsBase(b.peakMemoryGb, formatGb)}`]);
  }
  if (f.trainingSeconds !== undefined) {
    rows.push([
      'Training time',
      `${formatSeconds(f.trainingSeconds)} of ${formatSeconds(report.budgetSeconds)} budget`,
    ]);
  }
  if (f.steps !== undefined) rows.push(['Steps', `${formatCount(f.steps)}${vsBase(b.steps, formatCount)}`]);
  if (f.tokensM !== undefined)
    rows.push(['Tokens', `${formatMillions(f.tokensM)}${vsBase(b.tokensM, formatMillions)}`]);
  if (f.paramsM !== undefined)
    rows.push(['Parameters', `${formatMillions(f.paramsM)}${vsBase(b.paramsM, formatMillions)}`]);
  if (rows.length === 0) return '';
  return ['| Figure | Value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

/** Peak memory in GB (GiB, as train.py divides MB by 1024) over the runner's RAM in bytes. */
function ramShare(peakGb: number, ramBytes: number | undefined): number | undefined {
  if (ramBytes === undefined || !(ramBytes > 0)) return undefined;
  return (peakGb * 1024 ** 3) / ramBytes;
}

function crashSection(crash: NonNullable<Report['crash']>): string {
  const lines = [`**Crash (${CRASH_KIND[crash.kind]}):** ${inlineText(crash.reason, 500)}`];
  if (crash.hint) lines.push('', `> 💡 ${inlineText(crash.hint, 500)}`);
  return lines.join('\n');
}

function excerptBlock(excerpt: string | undefined, chars: number): string {
  if (excerpt === undefined) return '';
  const total = lineCount(excerpt);
  if (chars <= 0) {
    return `_Log excerpt (${formatCount(total)} lines) left out: too long for this space; see the job log._`;
  }
  let kept = excerpt;
  if (excerpt.length > chars) {
    kept = excerpt.slice(excerpt.length - chars);
    // Start at a whole line: a cut line reads like a different message.
    const newline = kept.indexOf('\n');
    if (newline !== -1 && newline < kept.length - 1) kept = kept.slice(newline + 1);
  }
  const omitted = total - lineCount(kept);
  const summary =
    omitted > 0
      ? `Log excerpt (last ${formatCount(lineCount(kept))} of ${formatCount(total)} lines)`
      : `Log excerpt (${formatCount(total)} lines)`;
  // Blank lines around the fence: GitHub only reads markdown inside <details> after a blank line.
  return `<details><summary>${summary}</summary>\n\n${fenceClean(kept, 'text')}\n\n</details>`;
}

function lineCount(text: string): number {
  return text === '' ? 0 : text.split('\n').length;
}

function rejectedSection(report: Report): string {
  if (!report.rejected) return '';
  const lines = [`**Rejected:** ${inlineText(report.rejected.reason, 500)}`];
  if (report.rejected.paths.length > 0) {
    lines.push('', 'Paths outside the allowed surface:', ...bulletList(report.rejected.paths, 200));
  }
  return lines.join('\n');
}

function skippedSection(report: Report): string {
  return report.skipped ? `**Skipped:** ${inlineText(report.skipped.reason, 500)}` : '';
}

function comparabilitySection(report: Report): string {
  const rebaseline =
    'Re-baseline this runner: run the workflow manually (`workflow_dispatch`) in baseline mode.';
  if (report.notComparable) {
    return [
      "**Not comparable:** this runner's setup changed since its baseline was recorded:",
      ...bulletList(report.notComparable.drift, 300),
      '',
      `${rebaseline} Until then results are reported but not judged.`,
    ].join('\n');
  }
  if (report.verdict === 'no-baseline' && report.mode === 'experiment') {
    return `**No baseline** is stored for this runner yet, so there is nothing to compare with. ${rebaseline}`;
  }
  return '';
}

function warningsList(report: Report): string {
  if (report.warnings.length === 0) return '';
  return ['**Warnings**', '', ...bulletList(report.warnings, 300)].join('\n');
}

function bulletList(items: string[], maxEach: number): string[] {
  const shown = items.slice(0, MAX_LIST_ITEMS).map((item) => `- ${inlineText(item, maxEach)}`);
  const rest = items.length - MAX_LIST_ITEMS;
  return rest > 0 ? [...shown, `- … and ${rest} more`] : shown;
}

/** History oldest first, with this run appended unless the history already ends with it. */
function historyEntries(report: Report): HistoryEntry[] {
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
      value,
    };
  });
}

function historyTable(parts: Parts, shown: HistoryEntry[]): string {
  const total = parts.history.length;
  if (total === 0) return '';
  const count =
    shown.length === total
      ? `${formatCount(total)} experiment${total === 1 ? '' : 's'}`
      : `last ${formatCount(shown.length)} of ${formatCount(total)} experiments`;
  const metric = inlineText(parts.metric, 40);
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

/**
 * A mermaid `xychart-beta` of the primary metric per experiment (newest {@link CHART_MAX_POINTS}
 * with a value), with the baseline as a second, flat line. Labels are short shas in quotes.
 */
function chart(parts: Parts, shown: HistoryEntry[]): string {
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

function provenanceLine(report: Report): string {
  const pieces: string[] = [];
  const b = report.baseline;
  if (b) {
    pieces.push(
      `Baseline \`${shortSha(b.commit)}\` of ${inlineText(b.date, 40)} · n=${b.n} · σ=${formatNoise(b.sigma)}`,
    );
  } else {
    pieces.push('No stored baseline');
  }
  pieces.push(`runner ${inlineText(report.runner.label, 100)}`);
  if (report.runner.keyHash) pieces.push(`key \`${shortHash(report.runner.keyHash)}\``);
  if (report.commit?.trainBlob) pieces.push(`train.py blob \`${shortSha(report.commit.trainBlob)}\``);
  return `<sub>${pieces.join(' · ')}</sub>`;
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

/** Validates a size limit given by the caller; `RangeError` naming `maxChars` when unusable. */
export function checkMaxChars(maxChars: number): number {
  if (!Number.isInteger(maxChars) || maxChars < MIN_MAX_CHARS) {
    throw new RangeError(`maxChars must be an integer of at least ${MIN_MAX_CHARS}, got ${String(maxChars)}`);
  }
  return maxChars;
}
