/**
 * The progress chart where people look, rendered in Chromium offline: the comment's mermaid chart
 * and the self-contained progress page. With SCREENSHOT_DIR set, the renderings are also saved
 * there as PNG to be looked at.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report, Status } from '../src/model.js';
import { type ProgressSeries, seriesFromResultsFiles } from '../src/publish/progress-data.js';
import { renderProgressPage } from '../src/publish/progress-page.js';
import { renderComment } from '../src/publish/render-comment.js';
import { type CommentBrowser, launchCommentBrowser } from './support/browser.js';
import { sampleReport } from './support/sample-report.js';

const MARKER = '<!-- autoresearch-ci:runner=mac-studio-1 -->';
const shots = process.env.SCREENSHOT_DIR;

/** A branch's history as an agent makes it: mostly discards, a few keeps that step down, crashes. */
function history(n: number, seed = 1): Array<{ value: number | null; status: Status; sha: string }> {
  let s = seed;
  const rand = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  let best = 1.85;
  return Array.from({ length: n }, (_, i) => {
    const sha = (i + 1).toString(16).padStart(7, 'a');
    if (rand() < 0.06) return { value: null, status: 'crash' as const, sha };
    const value = best + (rand() - 0.7) * 0.06;
    const keep = value < best - 0.015;
    if (keep) best = value;
    return { value: Number(value.toFixed(6)), status: keep ? ('keep' as const) : ('discard' as const), sha };
  });
}

function resultsTsv(rows: ReturnType<typeof history>, runner: string): string {
  const lines = rows.map(
    (r) =>
      `${r.sha}\t${(r.value ?? 0).toFixed(6)}\t12.3\t${r.status}\texperiment <b>${r.sha}</b> & "quotes"\t${runner}`,
  );
  return `commit\tval_bpb\tmemory_gb\tstatus\tdescription\trunner\n${lines.join('\n')}\n`;
}

let browser: CommentBrowser;
beforeAll(async () => {
  browser = await launchCommentBrowser();
}, 60_000);
afterAll(async () => browser?.close());

describe('the progress chart in the PR comment', () => {
  it('draws experiments, the running best, the baseline and its band as mermaid lines', async () => {
    const rows = history(30);
    const report: Report = sampleReport({
      history: rows.map((r) => ({ sha: r.sha, subject: 'try', value: r.value, status: r.status })),
      baseline: { mean: 1.85, sigma: 0.012, n: 8, commit: 'b'.repeat(40), date: '2026-11-20' },
      vsBaseline: { delta: -0.04, deltaSigma: -3.3, probabilityBetter: 0.99, sigma: 0.012 },
    });
    const rendered = await browser.render(renderComment(report, { marker: MARKER }));
    expect(rendered.mermaid).toEqual({ blocks: 1, ok: true });
    expect(rendered.requests).toEqual([]);
    const plots = rendered.page.locator('pre.mermaid svg g.plot path');
    // Experiments, running best, baseline, band top, band bottom.
    expect(await plots.count()).toBe(5);
    const labels = await rendered.page.$$eval('pre.mermaid svg g.bottom-axis g.label text', (texts: any[]) =>
      texts.map((t) => t.textContent as string),
    );
    // Kept ones are starred, by their number in the history table; this run (kept) comes last.
    const kept = [
      ...rows.flatMap((r, i) => (r.status === 'keep' ? [`★${i + 1}`] : [])),
      `★${rows.length + 1}`,
    ];
    expect(labels.filter((l) => l.startsWith('★'))).toEqual(kept);
    const box = await rendered.page.locator('pre.mermaid svg').boundingBox();
    // Readable at a comment's width: the chart fills the column instead of shrinking to a stamp.
    expect(box!.width).toBeGreaterThan(600);
    if (shots)
      await rendered.page.screenshot({ path: path.join(shots, 'comment-chart.png'), fullPage: true });
  }, 60_000);
});

describe('the progress page', () => {
  const mac = history(60, 7);
  const other = history(12, 3);
  const baselineRow = 'c0ffee1\t1.850000\t12.0\tkeep\tbaseline (n=8, σ=0.0120)\tmac-studio-1';
  const files = [
    { path: 'autoresearch/mar5/mac-studio-1/results.tsv', text: resultsTsv(mac, 'mac-studio-1') },
    { path: 'autoresearch/mar9/mac-mini/results.tsv', text: resultsTsv(other, 'mac-mini') },
    {
      path: 'main/mac-studio-1/results.tsv',
      text: `commit\tval_bpb\tmemory_gb\tstatus\tdescription\trunner\n${baselineRow}\n`,
    },
  ];
  let series: ProgressSeries[];
  let html: string;
  beforeAll(() => {
    series = seriesFromResultsFiles(files, 'val_bpb', 'minimize');
    html = renderProgressPage(series, { title: 'owner/repo', generatedAt: new Date('2026-11-29T08:00:00Z') });
  });

  it('has one chart per experiment branch and runner, with the runner’s baselines', () => {
    expect(series.map((s) => [s.branch, s.runner, s.points.length])).toEqual([
      ['autoresearch/mar5', 'mac-studio-1', 60],
      ['autoresearch/mar9', 'mac-mini', 12],
    ]);
    expect(series[0]!.baselines).toEqual([{ commit: 'c0ffee1', value: 1.85, sigma: 0.012, n: 8 }]);
    expect(series[1]!.baselines).toEqual([]);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('renders offline with dots, the step line, the band, and the tables', async () => {
    const opened = await browser.open(html);
    const { page } = opened;
    expect(opened.requests).toEqual([]);
    expect(opened.pageErrors).toEqual([]);
    expect(await page.locator('svg').count()).toBe(2);
    const first = page.locator('section').first();
    // Every experiment a dot (kept ones green), the band a rect behind them, the best a step line.
    const keptCount = mac.filter((r) => r.status === 'keep').length;
    const dotsOf = async (kind: string) =>
      ((await first.locator(`svg path.${kind}`).getAttribute('d')) ?? '').match(/h0/g)?.length;
    expect(await dotsOf('kept')).toBe(keptCount);
    expect(await dotsOf('discarded')).toBe(mac.filter((r) => r.status === 'discard').length);
    expect(await first.locator('svg rect.band').count()).toBe(1);
    const step = await first.locator('svg path.best').getAttribute('d');
    // Down at each improvement, flat in between: one vertical per kept change that moved the best.
    expect(step).toMatch(/^M[\d.]+ [\d.]+(H[\d.]+V[\d.]+)*H[\d.]+$/);
    // The kept table: one row per change that moved the best, each with Δ and σ.
    const keptRows = await first.locator('table').first().locator('tbody tr').allTextContents();
    expect(keptRows).toHaveLength(keptCount);
    expect(step!.match(/V/g)).toHaveLength(keptCount);
    expect(keptRows[0]).toMatch(/−0\.\d{4}.*−\d+\.\dσ/);
    // Untrusted descriptions are text, not markup.
    expect(await page.locator('section b').count()).toBe(0);
    expect(keptRows[0]).toContain('<b>');
    const box = await first.locator('svg').boundingBox();
    expect(box!.width).toBeGreaterThan(700);
    if (shots) await page.screenshot({ path: path.join(shots, 'progress-page.png'), fullPage: true });
  }, 60_000);
});
