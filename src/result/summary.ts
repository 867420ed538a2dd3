/**
 * Reads the `---` summary block train.py prints at the end of a run. Only the last block counts: a
 * script may print anything before it (including a fake block), but it cannot print after its own
 * real summary without that text becoming part of the block.
 */
import type { Summary } from '../model.js';
import type { MetricSpec, Protocol } from '../settings/protocol.js';

/**
 * Longest block read after the last `---` line. The real block is a few hundred bytes; the cap keeps
 * a log whose last `---` is followed by megabytes of progress from costing a full regex scan.
 */
export const MAX_SUMMARY_BLOCK_CHARS = 64 * 1024;

/** `key: value`, `key:value` and `key :  value` alike; keys are identifiers as train.py prints them. */
const KEY_VALUE = /^\s*([A-Za-z_][\w.-]*)\s*:\s*(.*?)\s*$/;
/** Plain decimal or scientific notation, nothing else (no units, no thousands separators). */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** How Python (and numpy/MLX) print non-finite floats. */
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

/**
 * Parses the last summary block of a training log.
 * @param text the whole combined output (any of `\n`, `\r\n`, `\r` line ends)
 * @param protocol the metric specs; their regexes are tried first, then every `key: value` line
 */
export function parseSummary(text: string, protocol: Pick<Protocol, 'primary' | 'secondary'>): Summary {
  const start = lastSummaryBlockStart(text);
  if (start === -1) {
    return { primary: null, primaryNonFinite: false, metrics: {}, raw: {}, found: false };
  }
  const block = text.slice(start, start + MAX_SUMMARY_BLOCK_CHARS);
  const raw = readKeyValues(block);
  const metrics: Record<string, number> = {};
  // The protocol's own regexes win: they are the documented contract of the metric.
  for (const spec of [protocol.primary, ...protocol.secondary]) {
    const value = matchSpec(spec, block);
    if (value !== undefined) metrics[spec.name] = value;
  }
  // Generic reading fills the rest, so forks that print `key:value` or extra keys still work.
  for (const [key, value] of Object.entries(raw)) {
    if (Object.hasOwn(metrics, key)) continue;
    const number = parseNumber(value);
    if (number !== undefined) metrics[key] = number;
  }
  const primaryRaw = raw[protocol.primary.name];
  return {
    primary: metrics[protocol.primary.name] ?? null,
    primaryNonFinite: primaryRaw !== undefined && NON_FINITE.test(primaryRaw),
    metrics,
    raw,
    found: true,
  };
}

/**
 * Index of the first character after the last line that is exactly `---`, or -1 when there is none.
 * Searches backwards so a 100 MB log is never split into lines.
 */
export function lastSummaryBlockStart(text: string): number {
  let from = text.length;
  while (from >= 0) {
    const at = text.lastIndexOf('---', from);
    if (at === -1) return -1;
    const end = at + 3;
    if (isLineStart(text, at) && isLineEnd(text, end)) {
      // Skip the terminator; `\r\n` counts as one.
      if (text[end] === '\r' && text[end + 1] === '\n') return end + 2;
      return end < text.length ? end + 1 : end;
    }
    from = at - 1;
  }
  return -1;
}

/** Numeric value of a summary field, `undefined` for `n/a`, nan/inf, units or any other text. */
export function parseNumber(value: string): number | undefined {
  const trimmed = value.trim();
  if (!NUMBER.test(trimmed)) return undefined;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : undefined;
}

function isLineStart(text: string, index: number): boolean {
  if (index === 0) return true;
  const before = text[index - 1];
  return before === '\n' || before === '\r';
}

function isLineEnd(text: string, index: number): boolean {
  if (index === text.length) return true;
  const after = text[index];
  return after === '\n' || after === '\r';
}

/** Every `key: value` line of the block; the first occurrence of a key wins, like a regex would. */
function readKeyValues(block: string): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const line of block.split(/\r\n|\r|\n/)) {
    const match = KEY_VALUE.exec(line);
    if (!match) continue;
    const [, key, value] = match as unknown as [string, string, string];
    // `__proto__` cannot be an own key of a plain object; a script printing it gets nothing.
    if (key !== '__proto__' && !Object.hasOwn(raw, key)) raw[key] = value;
  }
  return raw;
}

/** Applies a metric's regex to the block; the first capture group (or the whole match) is the value. */
function matchSpec(spec: MetricSpec, block: string): number | undefined {
  const match = lineRegex(spec.pattern).exec(block);
  if (!match) return undefined;
  return parseNumber(match[1] ?? match[0]);
}

/**
 * The patterns anchor on lines, so they need the `m` flag; a `g`/`y` flag would make `exec` depend
 * on a shared `lastIndex`, so those are dropped.
 */
function lineRegex(pattern: RegExp): RegExp {
  if (pattern.multiline && !pattern.global && !pattern.sticky) return pattern;
  const flags = pattern.flags.replace(/[gy]/g, '');
  return new RegExp(pattern.source, flags.includes('m') ? flags : `${flags}m`);
}
