/**
 * The sections of a report, each rendered on its own: heading, commit, figures, crash and log
 * excerpt, rejection, skip, comparability, warnings and provenance. Every piece of untrusted text
 * goes through untrusted-text.ts.
 */
import type { CrashKind, Report, Status } from '../model.js';
import {
  deltaWord,
  describeFigure,
  directionNote,
  formatCount,
  formatDelta,
  formatNoise,
  formatPercent,
  formatSigma,
  formatValue,
  shortHash,
  shortSha,
} from './format.js';
import { fenceClean, inlineText } from './untrusted-text.js';

/** Warnings, drift items and rejected paths shown before "… and N more". */
const MAX_LIST_ITEMS = 50;

const STATUS_WORD: Record<Status, string> = {
  keep: 'Keep',
  discard: 'Discard',
  crash: 'Crash',
  rejected: 'Rejected',
  skipped: 'Skipped',
};

export const STATUS_EMOJI: Record<Status, string> = {
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
  if (report.hold) return '⚠️';
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

export function headingLine(report: Report): string {
  if (report.hold) {
    return `### ${badgeEmoji(report)} **Held: ${report.hold.kind === 'suspicious' ? 'suspicious' : 'needs review'}** — not kept`;
  }
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

export function commitLine(commit: { sha: string; subject?: string; branch?: string }): string {
  const subject = commit.subject ? ` — ${inlineText(commit.subject, 120)}` : '';
  const branch = commit.branch ? ` (branch ${inlineText(commit.branch, 80)})` : '';
  return `Commit \`${shortSha(commit.sha)}\`${subject}${branch}`;
}

export function figuresTable(report: Report): string {
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
  // Secondary figures next to the baseline's: a change that wins on the metric may cost memory or throughput.
  for (const figure of report.figures) {
    const unit = inlineText(figure.unit, 20);
    rows.push([inlineText(figure.label, 40), describeFigure({ ...figure, unit }, report.budgetSeconds)]);
  }
  if (rows.length === 0) return '';
  return ['| Figure | Value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

export function crashSection(crash: NonNullable<Report['crash']>): string {
  const lines = [`**Crash (${CRASH_KIND[crash.kind]}):** ${inlineText(crash.reason, 500)}`];
  if (crash.hint) lines.push('', `> 💡 ${inlineText(crash.hint, 500)}`);
  return lines.join('\n');
}

export function excerptBlock(excerpt: string | undefined, chars: number): string {
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

export function rejectedSection(report: Report): string {
  if (!report.rejected) return '';
  const lines = [`**Rejected:** ${inlineText(report.rejected.reason, 500)}`];
  if (report.rejected.paths.length > 0) {
    lines.push('', 'Paths outside the allowed surface:', ...bulletList(report.rejected.paths, 200));
  }
  return lines.join('\n');
}

export function skippedSection(report: Report): string {
  return report.skipped ? `**Skipped:** ${inlineText(report.skipped.reason, 500)}` : '';
}

export function comparabilitySection(report: Report): string {
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

/** Why the loop policy kept or discarded, and what the next job will do first. */
export function decisionSection(report: Report): string {
  if (!report.decision) return '';
  return ['**Why**', '', ...bulletList(report.decision.explanation, 400)].join('\n');
}

/** Why a result is held and what releases it, every reason listed. */
export function holdSection(report: Report): string {
  if (!report.hold) return '';
  const title =
    report.hold.kind === 'suspicious' ? '**Why it is held as suspicious**' : '**Why it needs review**';
  return [title, '', ...bulletList(report.hold.reasons, 300), '', inlineText(report.hold.release, 500)].join(
    '\n',
  );
}

export function warningsList(report: Report): string {
  if (report.warnings.length === 0) return '';
  return ['**Warnings**', '', ...bulletList(report.warnings, 300)].join('\n');
}

function bulletList(items: string[], maxEach: number): string[] {
  const shown = items.slice(0, MAX_LIST_ITEMS).map((item) => `- ${inlineText(item, maxEach)}`);
  const rest = items.length - MAX_LIST_ITEMS;
  return rest > 0 ? [...shown, `- … and ${rest} more`] : shown;
}

export function provenanceLine(report: Report): string {
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
