/**
 * Number formatting shared by the PR comment and the job summary, so both show the same figures
 * the same way. Every function returns plain ASCII/Unicode text with no markdown meaning.
 */

import { type Direction, type Figure, isBetter } from '../model.js';

/** The typographic minus: easier to read than a hyphen next to digits and never a list marker. */
const MINUS = '\u2212';

/** Shown where a figure is absent. */
const MISSING = '—';

/** The primary metric's value with 6 decimals (`1.807902`); `—` when absent, `n/a` when not finite. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return MISSING;
  if (!Number.isFinite(value)) return 'n/a';
  return signed(value, 6, false);
}

/** A difference with an explicit sign and 4 decimals: `+0.0021`, `−0.0123`, `±0.0000`. */
export function formatDelta(delta: number): string {
  return signed(delta, 4, true);
}

/** A multiple of σ with 1 decimal: `−1.4σ`. */
export function formatSigma(multiple: number): string {
  return `${signed(multiple, 1, true)}σ`;
}

/** A noise level σ in the metric's units, 4 decimals like the deltas it is compared with. */
export function formatNoise(sigma: number): string {
  return signed(sigma, 4, false);
}

/** A probability or share in [0, 1] as a whole percentage: `0.917` → `92%`. */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return 'n/a';
  return `${signed(share * 100, 0, false)}%`;
}

/** Gigabytes with 1 decimal: `20.7 GB`. */
export function formatGb(gb: number): string {
  if (!Number.isFinite(gb)) return 'n/a';
  return `${signed(gb, 1, false)} GB`;
}

/** Seconds with 1 decimal, whole seconds when integral (budgets): `302.4 s`, `300 s`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'n/a';
  return `${signed(seconds, Number.isInteger(seconds) ? 0 : 1, false)} s`;
}

/** A count with thousands separators: `1,320`. */
export function formatCount(count: number): string {
  if (!Number.isFinite(count)) return 'n/a';
  return groupThousands(signed(Math.round(count), 0, false));
}

/** A figure already in millions, 1 decimal: `86.5M`. */
export function formatMillions(millions: number): string {
  if (!Number.isFinite(millions)) return 'n/a';
  return `${groupThousands(signed(millions, 1, false))}M`;
}

/**
 * A figure in its unit with its decimals: `20.7 GB`, `1,320`, `86.5M`, `4,210.5 tok/s`. A small
 * value that those decimals would print as zero gets two significant digits instead (`0.021 GB`):
 * a tiny model's memory is small, not nothing.
 */
export function formatFigure(value: number, figure: Pick<Figure, 'unit' | 'decimals'>): string {
  if (!Number.isFinite(value)) return 'n/a';
  const number = groupThousands(signed(value, visibleDecimals(value, figure.decimals), false));
  if (figure.unit === '') return number;
  // A multiplier or percent sign reads as part of the number; a word unit after a space.
  return ['k', 'M', '%'].includes(figure.unit) ? `${number}${figure.unit}` : `${number} ${figure.unit}`;
}

/**
 * A figure with its context: memory as a share of RAM, training time against the budget, and
 * anything else next to the baseline's value.
 */
export function describeFigure(figure: Figure, budgetSeconds: number): string {
  const text = formatFigure(figure.value, figure);
  if (figure.role === 'training-time') return `${text} of ${formatSeconds(budgetSeconds)} budget`;
  const share = figure.shareOfRam === undefined ? '' : ` (${formatPercent(figure.shareOfRam)} of RAM)`;
  const baseline =
    figure.baseline === undefined ? '' : ` · baseline ${formatFigure(figure.baseline, figure)}`;
  return `${text}${share}${baseline}`;
}

/** The report's figure with a role (memory, training time), if the run printed it. */
export function figureWithRole(figures: readonly Figure[], role: Figure['role']): Figure | undefined {
  return figures.find((f) => f.role === role);
}

/** `lower is better` / `higher is better`. */
export function directionNote(direction: Direction): string {
  return direction === 'minimize' ? 'lower is better' : 'higher is better';
}

/**
 * Reads a difference (candidate − reference) in the metric's direction: `better`, `worse` or
 * `equal` (equal when it rounds to zero at the displayed precision, so words match digits).
 */
export function deltaWord(delta: number, direction: Direction): 'better' | 'worse' | 'equal' {
  if (!Number.isFinite(delta) || Math.abs(delta) < 0.00005) return 'equal';
  return isBetter(delta, 0, direction) ? 'better' : 'worse';
}

/**
 * A commit id reduced to what is safe anywhere (tables, code spans, mermaid labels): the first
 * 7 characters of a hex sha, or up to 12 letters/digits of anything else, or `unknown`.
 */
export function shortSha(sha: string | undefined): string {
  const text = (sha ?? '').trim();
  if (/^[0-9a-f]{7,64}$/i.test(text)) return text.slice(0, 7).toLowerCase();
  const alnum = text.replace(/[^0-9A-Za-z]/g, '').slice(0, 12);
  return alnum === '' ? 'unknown' : alnum;
}

/** A key hash shortened to 12 safe characters (enough to tell runners apart at a glance). */
export function shortHash(hash: string): string {
  const alnum = hash.replace(/[^0-9A-Za-z]/g, '').slice(0, 12);
  return alnum === '' ? 'unknown' : alnum;
}

/** `decimals`, or up to 6 when fewer would round a non-zero value to zero: two significant digits. */
function visibleDecimals(value: number, decimals: number): number {
  if (value === 0 || Number(Math.abs(value).toFixed(decimals)) !== 0) return decimals;
  return Math.min(6, Math.max(decimals, 1 - Math.floor(Math.log10(Math.abs(value)))));
}

/** Fixed decimals with a typographic minus; `explicit` adds `+`, and `±` for a zero. */
function signed(value: number, decimals: number, explicit: boolean): string {
  if (!Number.isFinite(value)) return 'n/a';
  const fixed = Math.abs(value).toFixed(decimals);
  // A value that rounds to zero shows no sign: "−0.0000" would claim a direction it does not have.
  if (Number(fixed) === 0) return explicit ? `±${fixed}` : fixed;
  if (value < 0) return `${MINUS}${fixed}`;
  return explicit ? `+${fixed}` : fixed;
}

function groupThousands(text: string): string {
  const [whole, fraction] = text.split('.');
  const grouped = (whole ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}
