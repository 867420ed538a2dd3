/**
 * The progress page (`index.html` at the root of the results branch, or `autoresearch-ci report`'s
 * output): one chart per experiment branch and runner, the kept changes with their Δ and σ, and
 * the runner's baselines over time. Self-contained: inline SVG and CSS, no script, no network.
 */
import { type KeptChange, keptChanges, type ProgressSeries } from './progress-data.js';
import { escapeXml, progressSvg } from './progress-svg.js';

/** Kept changes and baselines listed per series before "… and N earlier". */
const MAX_TABLE_ROWS = 100;

/** Options of {@link renderProgressPage}. */
export interface ProgressPageOptions {
  /** Shown as the page title, e.g. the repository. */
  title: string;
  /** When the page was written (a results commit or a CLI run). */
  generatedAt: Date;
}

/** The whole page. */
export function renderProgressPage(series: readonly ProgressSeries[], opts: ProgressPageOptions): string {
  const title = escapeXml(opts.title);
  const sections = series.map(section);
  const toc =
    series.length > 1
      ? `<nav><ul>${series.map((s, i) => `<li><a href="#s${i}">${escapeXml(place(s))}</a> (${s.points.length})</li>`).join('')}</ul></nav>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · research progress</title>
<style>
body{font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:#24292f;background:#fff;max-width:960px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 4px;border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:16px 0 4px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left}th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}code{font-size:12px}.muted{color:#57606a}
</style>
</head>
<body>
<h1>${title}: research progress</h1>
<p class="muted">Every experiment judged by autoresearch-ci, per experiment branch and runner. Written ${escapeXml(opts.generatedAt.toISOString().slice(0, 16).replace('T', ' '))} UTC.</p>
${toc}
${sections.length > 0 ? sections.join('\n') : '<p>No experiments recorded yet.</p>'}
</body>
</html>
`;
}

function section(series: ProgressSeries, index: number): string {
  const kept = keptChanges(series);
  const crashes = series.points.filter((p) => p.value === null).length;
  const baseline = series.baselines.at(-1);
  const summary = [
    `${series.points.length} experiments`,
    `${series.points.filter((p) => p.status === 'keep').length} kept`,
    `${crashes} crashed`,
    ...(kept.length > 0 && baseline
      ? [`best ${fmt(kept.at(-1)!.point.value)} vs baseline ${fmt(baseline.value)}`]
      : []),
  ].join(' · ');
  return `<section id="s${index}">
<h2>${escapeXml(place(series))}</h2>
<p class="muted">${escapeXml(summary)}</p>
${progressSvg(series)}
<h3>Kept changes</h3>
${keptTable(series, kept)}
<h3>Baselines of runner ${escapeXml(series.runner || '(unknown)')}</h3>
${baselineTable(series)}
</section>`;
}

function keptTable(series: ProgressSeries, kept: KeptChange[]): string {
  if (kept.length === 0) return '<p>None kept yet.</p>';
  const shown = kept.slice(-MAX_TABLE_ROWS);
  const rows = shown.map(
    (k) =>
      `<tr><td class="num">${k.index + 1}</td><td><code>${escapeXml(k.point.commit.slice(0, 7))}</code></td><td>${escapeXml(k.point.description)}</td><td class="num">${fmt(k.point.value)}</td><td class="num">${signed(k.delta, 4)}</td><td class="num">${k.deltaSigma === undefined ? '—' : `${signed(k.deltaSigma, 1)}σ`}</td></tr>`,
  );
  const more = kept.length - shown.length;
  return `<table><thead><tr><th>#</th><th>commit</th><th>change</th><th>${escapeXml(series.metric)}</th><th>Δ vs best before</th><th>Δ in σ</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>${more > 0 ? `<p class="muted">… and ${more} earlier kept changes.</p>` : ''}`;
}

function baselineTable(series: ProgressSeries): string {
  if (series.baselines.length === 0) return '<p>No baseline recorded for this runner.</p>';
  const shown = series.baselines.slice(-MAX_TABLE_ROWS);
  const rows = shown.map(
    (b, i) =>
      `<tr><td class="num">${series.baselines.length - shown.length + i + 1}</td><td><code>${escapeXml(b.commit.slice(0, 7))}</code></td><td class="num">${fmt(b.value)}</td><td class="num">${b.sigma.toFixed(4)}</td><td class="num">${b.n}</td></tr>`,
  );
  return `<table><thead><tr><th>#</th><th>commit</th><th>${escapeXml(series.metric)}</th><th>σ</th><th>runs</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function place(series: ProgressSeries): string {
  return `${series.branch || '(no branch)'} on ${series.runner || '(unknown runner)'}`;
}

function fmt(v: number): string {
  return v.toFixed(6);
}

function signed(v: number, decimals: number): string {
  const text = Math.abs(v).toFixed(decimals);
  if (Number(text) === 0) return `±${text}`;
  return `${v < 0 ? '\u2212' : '+'}${text}`;
}
