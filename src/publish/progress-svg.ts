/**
 * The progress chart as inline SVG: the baseline and its ±σ noise band behind, every experiment a
 * dot (kept ones green and larger, crashes as red marks on the floor), and the running best as a
 * step line. Plain elements only, no script, so it renders anywhere an HTML page does.
 */
import { directionNote } from './format.js';
import { type ProgressSeries, runningBest } from './progress-data.js';

const WIDTH = 880;
const HEIGHT = 340;
const PAD = { left: 72, right: 16, top: 28, bottom: 44 };

/** The chart of one series; the text of every label is escaped. */
export function progressSvg(series: ProgressSeries): string {
  const baseline = series.baselines.at(-1);
  const values = series.points.map((p) => p.value).filter((v): v is number => v !== null);
  const span = [...values];
  if (baseline) span.push(baseline.value - baseline.sigma, baseline.value + baseline.sigma);
  if (span.length === 0) return '';
  let lo = Math.min(...span);
  let hi = Math.max(...span);
  const pad = hi > lo ? (hi - lo) * 0.08 : Math.max(Math.abs(hi) * 0.01, 1e-6);
  lo -= pad;
  hi += pad;
  const n = series.points.length;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (n <= 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number) => PAD.top + (1 - (v - lo) / (hi - lo)) * plotH;
  const r = (v: number) => String(Math.round(v * 10) / 10);

  const parts: string[] = [];
  // Grid and y ticks.
  for (let t = 0; t <= 4; t++) {
    const v = lo + ((hi - lo) * t) / 4;
    parts.push(
      `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${r(y(v))}" y2="${r(y(v))}" stroke="#d0d7de" stroke-width="1"/>`,
      `<text x="${PAD.left - 6}" y="${r(y(v) + 4)}" text-anchor="end" class="tick">${tickLabel(v, hi - lo)}</text>`,
    );
  }
  // x ticks: first, last and a few between (experiment numbers).
  for (const i of xTicks(n)) {
    parts.push(
      `<text x="${r(x(i))}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle" class="tick">${i + 1}</text>`,
    );
  }
  parts.push(
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle" class="axis">experiment # (${n} in order)</text>`,
    `<text x="14" y="${PAD.top + plotH / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${PAD.top + plotH / 2})">${escapeXml(series.metric)} (${directionNote(series.direction)})</text>`,
  );
  if (baseline) {
    const top = y(baseline.value + baseline.sigma);
    const bottom = y(baseline.value - baseline.sigma);
    parts.push(
      `<rect class="band" x="${PAD.left}" y="${r(top)}" width="${plotW}" height="${r(Math.max(bottom - top, 1))}" fill="#8c959f" fill-opacity="0.18"><title>baseline ± σ: ${fmt(baseline.value)} ± ${fmt(baseline.sigma)}</title></rect>`,
      `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${r(y(baseline.value))}" y2="${r(y(baseline.value))}" stroke="#57606a" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
  }
  // Dots as round zero-length segments of one path per kind, on whole pixels and each pixel once:
  // 10,000 experiments stay a few dozen KB and look the same.
  const dots = (kept: boolean): string => {
    const seen = new Set<string>();
    for (const [i, p] of series.points.entries()) {
      if (p.value === null || (p.status === 'keep') !== kept) continue;
      seen.add(`M${Math.round(x(i))} ${Math.round(y(p.value))}h0`);
    }
    return [...seen].join('');
  };
  const discards = dots(false);
  if (discards) {
    parts.push(
      `<path class="discarded" d="${discards}" stroke="#8c959f" stroke-width="6" stroke-linecap="round" stroke-opacity="0.75"/>`,
    );
  }
  const crashes = series.points
    .map((p, i) => (p.value === null ? `M${r(x(i) - 3)} ${r(PAD.top + plotH - 3)}l6 6m0 -6l-6 6` : ''))
    .join('');
  if (crashes) parts.push(`<path d="${crashes}" stroke="#cf222e" stroke-width="1.5"/>`);
  // Running best: horizontal until the next improvement, then a vertical drop to it.
  const best = runningBest(series, baseline?.value);
  let step = '';
  best.forEach((v, i) => {
    if (v === undefined) return;
    const prev = best[i - 1];
    if (step === '' || prev === undefined) step += `M${r(x(i))} ${r(y(v))}`;
    else if (v !== prev) step += `H${r(x(i))}V${r(y(v))}`;
  });
  if (step !== '') {
    step += `H${r(x(Math.max(n - 1, 0)))}`;
    parts.push(`<path class="best" d="${step}" fill="none" stroke="#1a7f37" stroke-width="2.5"/>`);
  }
  const kept = dots(true);
  if (kept) {
    parts.push(
      `<path class="kept" d="${kept}" stroke="#2da44e" stroke-width="10" stroke-linecap="round"/>`,
      `<path d="${kept}" stroke="#ffffff" stroke-width="3" stroke-linecap="round" stroke-opacity="0.6"/>`,
    );
  }
  const legend = [
    ['#8c959f', 'circle', 'discarded'],
    ['#2da44e', 'circle', 'kept'],
    ['#1a7f37', 'line', 'running best'],
    ...(baseline ? [['#8c959f', 'band', `baseline ${fmt(baseline.value)} ± σ ${fmt(baseline.sigma)}`]] : []),
    ...(crashes ? [['#cf222e', 'cross', 'crash']] : []),
  ];
  let lx = PAD.left;
  for (const [color, shape, text] of legend as Array<[string, string, string]>) {
    const mark =
      shape === 'circle'
        ? `<circle cx="${lx + 5}" cy="14" r="5" fill="${color}"/>`
        : shape === 'line'
          ? `<line x1="${lx}" x2="${lx + 14}" y1="14" y2="14" stroke="${color}" stroke-width="2.5"/>`
          : shape === 'band'
            ? `<rect x="${lx}" y="8" width="14" height="12" fill="${color}" fill-opacity="0.3"/>`
            : `<path d="M${lx + 2} 10l8 8m0 -8l-8 8" stroke="${color}" stroke-width="1.5"/>`;
    parts.push(mark, `<text x="${lx + 19}" y="18" class="legend">${escapeXml(text)}</text>`);
    lx += 30 + text.length * 6.6;
  }
  const title = `${series.metric} per experiment on ${series.branch || '(no branch)'}, runner ${series.runner || '(unknown)'}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${escapeXml(title)}">`,
    '<style>.tick{font:11px sans-serif;fill:#57606a}.axis{font:12px sans-serif;fill:#24292f}.legend{font:12px sans-serif;fill:#24292f}</style>',
    ...parts,
    '</svg>',
  ].join('\n');
}

/** Escapes text for XML and HTML content and attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xTicks(n: number): number[] {
  if (n <= 1) return [0];
  const step = Math.max(1, Math.ceil((n - 1) / 8));
  const ticks: number[] = [];
  for (let i = 0; i < n - 1; i += step) ticks.push(i);
  ticks.push(n - 1);
  return ticks;
}

/** Enough decimals to tell the ticks apart. */
function tickLabel(v: number, range: number): string {
  const decimals = Math.min(6, Math.max(0, 2 - Math.floor(Math.log10(range || 1))));
  return v.toFixed(decimals);
}

function fmt(v: number): string {
  return String(Number(v.toFixed(6)));
}
