/**
 * The sticky comment as a person sees it: rendered from markdown to HTML as GitHub does, in
 * headless Chromium, with the chart drawn by mermaid. The browser is the one `npm ci` installs
 * (test/support/chromium.ts); when it cannot start, every test fails with the reason.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Report } from '../src/model.js';
import { renderComment } from '../src/publish/render-comment.js';
import { type CommentBrowser, launchCommentBrowser, type RenderedComment } from './support/browser.js';
import { sampleReport } from './support/sample-report.js';

const hostileLog = readFileSync(
  path.resolve(import.meta.dirname, 'fixtures/logs/hostile-fake-summary.log'),
  'utf8',
);
const HOSTILE_LINE = '<img src=x onerror=alert(1)> ``` </details> @everyone';
const MARKER = '<!-- autoresearch-ci:runner=mac-mini-m4 -->';

const HISTORY: Report['history'] = [
  { sha: '1a1a1a1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', subject: 'depth 5', value: 1.8312, status: 'keep' },
  {
    sha: '2b2b2b2bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
    subject: 'learning rate 0.1',
    value: 1.8744,
    status: 'discard',
  },
  { sha: '3c3c3c3ccccccccccccccccccccccccccccccccc', subject: 'batch 64', value: null, status: 'crash' },
  { sha: '4d4d4d4ddddddddddddddddddddddddddddddddd', subject: 'depth 6', value: 1.819, status: 'keep' },
  {
    sha: '5e5e5e5eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee',
    subject: 'warmup 40 steps',
    value: 1.8205,
    status: 'discard',
  },
  {
    sha: '6f6f6f6fffffffffffffffffffffffffffffffff',
    subject: 'wider MLP (4x)',
    value: 1.8101,
    status: 'keep',
  },
  {
    sha: '7a7a7a7aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    subject: 'weight decay 0.1',
    value: 1.8154,
    status: 'discard',
  },
];

/** A kept improvement on a 64 GiB Mac, the 8th experiment of its branch; others override fields. */
function report(overrides: Partial<Report> = {}): Report {
  return sampleReport({
    headline:
      'Improved: 0.042 lower than the baseline (1.4σ), P(better)=0.92; kept as the best on the branch.',
    runner: {
      name: 'mac-mini-m4',
      label: 'mac-mini-m4 · Apple M4 Pro · 64 GB',
      keyHash: 'a1b2c3d4e5f6a7b8c9d0',
      ramBytes: 64 * 1024 ** 3,
    },
    commit: {
      sha: 'c0ffee1234567890abcdef1234567890abcdef12',
      subject: 'rotary embeddings on every layer',
      branch: 'autoresearch/mar5',
      trainBlob: 'deadbeef00112233445566778899aabbccddeeff',
    },
    vsBest: { value: 1.8101, commit: '6f6f6f6fffffffffffffffffffffffffffffffff', delta: -0.002198 },
    history: HISTORY,
    ...overrides,
  });
}

function crashReport(): Report {
  return report({
    status: 'crash',
    verdict: 'crashed',
    headline: `Training crashed: ${HOSTILE_LINE}`,
    commit: {
      sha: '8b8b8b8bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
      subject: `print a banner ${HOSTILE_LINE}`,
      branch: 'autoresearch/mar5',
    },
    value: null,
    samples: [],
    vsBaseline: undefined,
    vsBest: undefined,
    figures: [],
    crash: {
      kind: 'exception',
      reason: `RuntimeError: ${HOSTILE_LINE}`,
      excerpt: hostileLog,
      hint: 'Fix the exception and push again.',
    },
  });
}

/** Shaped like the report the protocol guard in src/action-flow.ts gives: nothing ran. */
function rejectedReport(): Report {
  const reason = 'the commit changes files the protocol does not allow (only train.py may change)';
  return {
    mode: 'experiment',
    status: 'rejected',
    headline: `Rejected: ${reason}. Nothing was run.`,
    rejected: {
      reason,
      paths: ['prepare.py is part of the immutable harness', 'README.md is forbidden by the protocol'],
    },
    runner: { name: 'mac-mini-m4', label: 'mac-mini-m4' },
    commit: { sha: '9c9c9c9ccccccccccccccccccccccccccccccccc', subject: '', branch: 'autoresearch/mar5' },
    primary: { name: 'val_bpb', direction: 'minimize' },
    figures: [],
    warnings: [],
    history: [],
    budgetSeconds: 300,
  };
}

/**
 * Started by the first test that renders. When the browser cannot start, every test fails with the
 * launcher's message instead of being skipped.
 */
let browser: Promise<CommentBrowser> | undefined;
const opened: RenderedComment[] = [];

async function render(markdown: string): Promise<RenderedComment> {
  browser ??= launchCommentBrowser();
  const rendered = await (await browser).render(markdown);
  opened.push(rendered);
  return rendered;
}

afterEach(async () => {
  for (const rendered of opened.splice(0)) await rendered.page.close();
});

afterAll(async () => {
  await browser?.then(
    (b) => b.close(),
    () => {},
  );
});

/** Rows of a rendered table as cell texts, header row first. */
async function tableCells(rendered: RenderedComment, selector: string): Promise<string[][]> {
  return rendered.page.$$eval(`${selector} tr`, (rows: any[]) =>
    rows.map((row) => [...row.querySelectorAll('th, td')].map((cell: any) => cell.textContent.trim())),
  );
}

/** Vertices of a mermaid xychart line: the `M`/`L` points of its path. */
async function linePoints(rendered: RenderedComment, index: number): Promise<number> {
  const d = await rendered.page.getAttribute(`pre.mermaid svg g.line-plot-${index} path`, 'd');
  return (d ?? '').match(/[ML]\s*-?[\d.]+\s*,\s*-?[\d.]+/g)?.length ?? 0;
}

describe('the page itself', () => {
  it('links mentions outside code the way GitHub does, so a leaked one would be seen', async () => {
    const rendered = await render('cc @octocat about #12\n\n`@inside-code`\n\n```\n@inside-block\n```');
    const mentions = await rendered.page.$$eval('#comment-body a.user-mention', (links: any[]) =>
      links.map((a) => a.textContent),
    );
    expect(mentions).toEqual(['@octocat']);
    expect(await rendered.page.locator('#comment-body a.issue-link').textContent()).toBe('#12');
  });

  it('reports a chart mermaid cannot draw', async () => {
    const rendered = await render('```mermaid\nxychart-beta\n  line [1, oops\n```');
    expect(rendered.mermaid.blocks).toBe(1);
    expect(rendered.mermaid.ok).toBe(false);
    expect(rendered.mermaid.error).toBeTruthy();
  });

  it('lets raw HTML through as marked does, so HTML a comment leaked would come alive', async () => {
    const rendered = await render('before <img src="x" alt="leak"> after');
    expect(await rendered.page.locator('#comment-body img').count()).toBe(1);
  });
});

describe('a kept improvement with eight experiments of history', () => {
  const body = renderComment(report(), { marker: MARKER });
  // The seven earlier experiments plus this run; the crashed one has no value to plot.
  const plotted = HISTORY.filter((h) => h.value !== null).length + 1;

  it('renders the figures as a table with a header and one row per figure', async () => {
    const rendered = await render(body);
    const heading = await rendered.page.locator('#comment-body h3').first().textContent();
    expect(heading).toBe('✅ Keep — improved');
    const cells = await tableCells(rendered, '#comment-body > table');
    expect(cells[0]).toEqual(['Figure', 'Value']);
    expect(cells.slice(1).map((row) => row[0])).toEqual([
      'val_bpb',
      'Baseline',
      'Δ vs baseline',
      'Δ vs best on branch',
      'Peak memory',
      'Training time',
      'Steps',
      'Tokens',
      'Parameters',
    ]);
    expect(cells[1]![1]).toBe('1.807902 (lower is better, mean of 2 samples)');
    expect(cells[2]![1]).toBe('1.850000 (n=5)');
    expect(cells[4]![1]).toBe('−0.0022 · better than 1.810100 at 6f6f6f6');
    expect(cells[6]![1]).toBe('302.4 s of 300 s budget');
    expect(await rendered.page.locator('#comment-body > table strong').first().textContent()).toBe('val_bpb');
    expect(rendered.pageErrors).toEqual([]);
    expect(rendered.requests).toEqual([]);
  });

  it('keeps the history collapsed until its summary is clicked, then shows the history table', async () => {
    const rendered = await render(body);
    const details = rendered.page.locator('#comment-body details');
    expect(await details.count()).toBe(1);
    expect(await details.evaluate((el: any) => el.open)).toBe(false);
    const history = details.locator('table');
    expect(await history.isVisible()).toBe(false);

    await details.locator('summary').click();
    expect(await details.evaluate((el: any) => el.open)).toBe(true);
    expect(await history.isVisible()).toBe(true);
    expect(await details.locator('summary').textContent()).toBe('History on this runner (8 experiments)');
    const cells = await tableCells(rendered, '#comment-body details table');
    expect(cells[0]).toEqual(['#', 'Commit', 'Subject', 'val_bpb', 'Status']);
    expect(cells).toHaveLength(1 + 8);
    expect(cells[1]).toEqual(['1', '1a1a1a1', 'depth 5', '1.831200', '✅ keep']);
    expect(cells[3]).toEqual(['3', '3c3c3c3', 'batch 64', '—', '💥 crash']);
    expect(cells[8]).toEqual([
      '8',
      'c0ffee1',
      '(this run) rotary embeddings on every layer',
      '1.807902',
      '✅ keep',
    ]);
  });

  it('draws the chart as an SVG with one point per experiment that has a value', async () => {
    const rendered = await render(body);
    expect(rendered.mermaid).toEqual({ blocks: 1, ok: true });
    const svg = rendered.page.locator('pre.mermaid svg');
    expect(await svg.count()).toBe(1);
    expect(await svg.getAttribute('aria-roledescription')).toBe('xychart');
    expect(await rendered.page.locator('#comment-body').textContent()).not.toContain('Syntax error');
    // Experiments, the running best, the baseline and the two edges of its noise band, each a
    // line over every plotted experiment.
    for (const index of [0, 1, 2, 3, 4]) expect(await linePoints(rendered, index)).toBe(plotted);
    const labels = await rendered.page.$$eval('pre.mermaid svg g.bottom-axis g.label text', (texts: any[]) =>
      texts.map((t) => t.textContent),
    );
    // The history table's numbers (the crashed #3 has no point); kept ones starred.
    const expected = [...HISTORY, { value: 1, status: 'keep' }].flatMap((h, i) =>
      h.value === null ? [] : [`${h.status === 'keep' ? '★' : ''}${i + 1}`],
    );
    expect(labels).toEqual(expected);
    const title = await svg.locator('g.chart-title text').textContent();
    expect(title).toBe('val_bpb per experiment # (lower is better)');
    expect(await rendered.page.locator('#comment-body sub').first().textContent()).toMatch(
      new RegExp(`^Chart: val_bpb of the last ${plotted} experiments with a value\\. blue: each experiment`),
    );
  });
});

describe('a crash with a hostile log', () => {
  const body = renderComment(crashReport(), { marker: MARKER });

  it('shows the hostile text literally and creates no image, script or mention', async () => {
    const rendered = await render(body);
    const page = rendered.page;
    expect(await page.locator('#comment-body h3').first().textContent()).toBe('💥 Crash — Python exception');
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#comment-body script').count()).toBe(0);
    expect(rendered.dialogs).toEqual([]);
    expect(rendered.pageErrors).toEqual([]);
    expect(rendered.requests).toEqual([]);
    const mentions = await page.$$eval('#comment-body a', (links: any[]) => links.map((a) => a.textContent));
    expect(mentions.filter((text) => /@everyone/i.test(text))).toEqual([]);
    expect(await page.locator('#comment-body a.user-mention').count()).toBe(0);

    // Outside code the line reads as text (the mention broken by an invisible joiner) ...
    const prose = await page.locator('#comment-body > p').allTextContents();
    const subjectLine = prose.find((text) => text.startsWith('Commit 8b8b8b8'));
    expect(subjectLine?.replace(/\u200d/g, '')).toContain(HOSTILE_LINE);
    // ... and inside the log excerpt it is shown verbatim, in a code block.
    const log = page.locator('#comment-body details pre code');
    expect(await log.count()).toBe(1);
    expect(await log.textContent()).toContain(HOSTILE_LINE);
  });

  it('keeps the log inside its own collapsed section: the "</details>" in the log closes nothing', async () => {
    const rendered = await render(body);
    const page = rendered.page;
    const sections = page.locator('#comment-body details');
    const summaries = await sections.locator('> summary').allTextContents();
    expect(summaries[0]).toMatch(/^Log excerpt \(\d[\d,]* lines\)$/);
    expect(summaries[1]).toBe('History on this runner (8 experiments)');
    expect(await sections.evaluateAll((els: any[]) => els.map((el) => el.open))).toEqual([false, false]);
    const log = sections.first().locator('pre');
    expect(await log.isVisible()).toBe(false);
    await sections.first().locator('> summary').click();
    expect(await log.isVisible()).toBe(true);
    expect(await log.textContent()).toContain('val_bpb:          1.912345');
    // What follows the log is back outside any section: the history and the provenance line.
    const nesting = await page.$$eval('#comment-body details', (els: any[]) =>
      els.map((el) => el.parentElement.closest('details') === null),
    );
    expect(nesting).toEqual([true, true]);
    expect(await page.locator('#comment-body > p > sub').last().textContent()).toMatch(
      /^Baseline abcdef0 of 2026-11-20/,
    );
  });
});

describe('a rejected commit', () => {
  const body = renderComment(rejectedReport(), { marker: MARKER });

  it('names the reason and lists the paths, with no figures and no chart', async () => {
    const rendered = await render(body);
    const page = rendered.page;
    expect(await page.locator('#comment-body h3').first().textContent()).toBe('🚫 Rejected');
    const prose = await page.locator('#comment-body > p').allTextContents();
    expect(prose).toContain(
      'Rejected: the commit changes files the protocol does not allow (only train.py may change)',
    );
    expect(prose).toContain('Paths outside the allowed surface:');
    expect(await page.locator('#comment-body ul li').allTextContents()).toEqual([
      'prepare.py is part of the immutable harness',
      'README.md is forbidden by the protocol',
    ]);
    // No figures table; the only table is this run's row in the collapsed history.
    expect(await page.locator('#comment-body > table').count()).toBe(0);
    const cells = await tableCells(rendered, '#comment-body details table');
    expect(cells.slice(1)).toEqual([['1', '9c9c9c9', '(this run)', '—', '🚫 rejected']]);
    expect(rendered.mermaid).toEqual({ blocks: 0, ok: true });
    expect(await page.locator('svg').count()).toBe(0);
    expect(await page.locator('#comment-body > p > sub').textContent()).toBe(
      'No stored baseline · runner mac-mini-m4',
    );
  });
});
