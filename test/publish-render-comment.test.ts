import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../src/model.js';
import { CHART_MAX_POINTS } from '../src/publish/progress-chart.js';
import {
  renderCancelledComment,
  renderComment,
  renderProgressComment,
} from '../src/publish/render-comment.js';
import { cleanUntrusted } from '../src/publish/untrusted-text.js';
import { parseFences } from './support/markdown-fences.js';
import { sampleReport } from './support/sample-report.js';

const LOGS = path.resolve(import.meta.dirname, 'fixtures/logs');
const hostileLog = readFileSync(path.join(LOGS, 'hostile-fake-summary.log'), 'utf8');
const oomLog = readFileSync(path.join(LOGS, 'oom-metal.log'), 'utf8');
const MARKER = '<!-- autoresearch-ci:runner=mac-mini-m4 -->';
const HOSTILE_LINE = '<img src=x onerror=alert(1)> ``` </details> @everyone';
const MINUS = '\u2212';

const report = sampleReport;

function crashReport(excerpt: string, overrides: Partial<Report> = {}): Report {
  return report({
    status: 'crash',
    verdict: 'crashed',
    headline: 'Training crashed: Metal ran out of memory.',
    value: null,
    samples: [],
    vsBaseline: undefined,
    vsBest: undefined,
    figures: [],
    crash: {
      kind: 'oom',
      reason: 'Metal ran out of memory (kIOGPUCommandBufferCallbackErrorOutOfMemory)',
      excerpt,
      hint: 'Reduce the device batch size (protocol OOM policy: reduce_batch).',
    },
    ...overrides,
  });
}

/** Fails unless every `<details>` outside code closes, and nothing closes before it opens. */
function expectBalancedDetails(outside: string): void {
  let depth = 0;
  for (const tag of outside.match(/<\/?details\b[^>]*>/gi) ?? []) {
    depth += tag.startsWith('</') ? -1 : 1;
    expect(depth).toBeGreaterThanOrEqual(0);
  }
  expect(depth).toBe(0);
}

/** Every table row of the body, by its first cell. */
function tableRows(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split('\n')) {
    const m = line.match(/^\| (.+?) \| (.+) \|$/);
    if (m) rows.set(m[1]!, m[2]!);
  }
  return rows;
}

function mermaid(markdown: string): string[] {
  const block = parseFences(markdown).blocks.find((b) => b.info === 'mermaid');
  if (!block) throw new Error('no mermaid block');
  return block.content.split('\n').map((line) => line.trim());
}

describe('renderComment: verdicts', () => {
  it('puts the marker on the first line and shows a kept improvement with every figure', () => {
    const body = renderComment(report(), { marker: MARKER });
    const lines = body.split('\n');
    expect(lines[0]).toBe(MARKER);
    expect(lines[1]).toBe('### ✅ **Keep** — improved');
    expect(body).toContain('val\\_bpb 1.807902 beats the baseline by 1.4σ.');
    expect(body).toContain('Commit `c0ffee1` — Raise depth to 6 (branch autoresearch/mar5)');
    const rows = tableRows(body);
    expect(rows.get('**val\\_bpb**')).toBe('**1.807902** (lower is better, mean of 2 samples)');
    expect(rows.get('Baseline')).toBe('1.850000 (n=5)');
    expect(rows.get('Δ vs baseline')).toBe(`${MINUS}0.0421 (${MINUS}1.4σ) · better · P(better) 92%`);
    expect(rows.get('Δ vs best on branch')).toBe(`${MINUS}0.0022 · better than 1.810100 at \`1234567\``);
    expect(rows.get('Peak memory')).toBe('20.7 GB (32% of RAM)');
    expect(rows.get('Training time')).toBe('302.4 s of 300 s budget');
    expect(rows.get('Steps')).toBe('1,320');
    expect(rows.get('Tokens')).toBe('86.5M');
    expect(rows.get('Parameters')).toBe('11.5M');
    expect(body).toContain(
      '<sub>Baseline `abcdef0` of 2026-11-20 · n=5 · σ=0.0300 · runner mac-mini-m4 · key `a1b2c3d4e5f6` · train.py blob `deadbee`</sub>',
    );
  });

  it("puts the baseline's secondary figures next to the candidate's", () => {
    const baselines: Record<string, number> = {
      peak_vram_mb: 18.25,
      num_steps: 1400,
      total_tokens_M: 91.75,
      num_params_M: 11.5,
    };
    const figures = sampleReport().figures.map((f) => ({ ...f, baseline: baselines[f.metric] }));
    const body = renderComment(report({ figures }), { marker: MARKER });
    const rows = tableRows(body);
    expect(rows.get('Peak memory')).toBe('20.7 GB (32% of RAM) · baseline 18.3 GB');
    expect(rows.get('Steps')).toBe('1,320 · baseline 1,400');
    expect(rows.get('Tokens')).toBe('86.5M · baseline 91.8M');
    expect(rows.get('Parameters')).toBe('11.5M · baseline 11.5M');
  });

  it('says when a result is within noise and gets discarded', () => {
    const body = renderComment(
      report({
        status: 'discard',
        verdict: 'within-noise',
        headline: 'Within noise of the baseline.',
        value: 1.8421,
        vsBaseline: { delta: -0.0079, deltaSigma: -0.26, probabilityBetter: 0.6 },
      }),
      { marker: MARKER },
    );
    expect(body.split('\n')[1]).toBe('### ➖ **Discard** — within noise');
    expect(tableRows(body).get('Δ vs baseline')).toBe(
      `${MINUS}0.0079 (${MINUS}0.3σ) · better · P(better) 60%`,
    );
  });

  it('marks a regression and words a positive delta as worse', () => {
    const body = renderComment(
      report({
        status: 'discard',
        verdict: 'regressed',
        value: 1.9,
        vsBaseline: { delta: 0.05, deltaSigma: 1.67, probabilityBetter: 0.05 },
        vsBest: { value: 1.8101, commit: '1234567abcdef', delta: 0.0899 },
      }),
      { marker: MARKER },
    );
    expect(body.split('\n')[1]).toBe('### ❌ **Discard** — regressed');
    const rows = tableRows(body);
    expect(rows.get('Δ vs baseline')).toBe('+0.0500 (+1.7σ) · worse · P(better) 5%');
    expect(rows.get('Δ vs best on branch')).toBe('+0.0899 · worse than 1.810100 at `1234567`');
  });

  it('follows the metric direction when higher is better', () => {
    const body = renderComment(
      report({
        primary: { name: 'accuracy', direction: 'maximize' },
        value: 0.91,
        baseline: { mean: 0.88, sigma: 0.01, n: 3, commit: 'abcdef0123', date: '2026-11-20' },
        vsBaseline: { delta: 0.03, deltaSigma: null },
        vsBest: undefined,
      }),
      { marker: MARKER },
    );
    const rows = tableRows(body);
    expect(rows.get('**accuracy**')).toBe('**0.910000** (higher is better, mean of 2 samples)');
    expect(rows.get('Δ vs baseline')).toBe('+0.0300 (σ unknown) · better');
  });

  it('shows a crash with its kind, reason, hint and the log excerpt folded in <details>', () => {
    const body = renderComment(crashReport(oomLog), { marker: MARKER });
    expect(body.split('\n')[1]).toBe('### 💥 **Crash** — out of memory');
    expect(body).toContain(
      '**Crash (out of memory):** Metal ran out of memory (kIOGPUCommandBufferCallbackErrorOutOfMemory)',
    );
    expect(body).toContain('> 💡 Reduce the device batch size (protocol OOM policy: reduce\\_batch).');
    const parsed = parseFences(body);
    const log = parsed.blocks.find((b) => b.info === 'text');
    expect(log?.content).toBe(cleanUntrusted(oomLog).trim());
    expect(log?.content).toContain('kIOGPUCommandBufferCallbackErrorOutOfMemory');
    expect(body).toMatch(/<details><summary>Log excerpt \(\d+ lines\)<\/summary>\n\n```text\n/);
    expectBalancedDetails(parsed.outside);
    // The crashed run is in the history table without a value.
    expect(body).toContain('| 4 | `c0ffee1` | **(this run)** Raise depth to 6 | — | 💥 crash |');
    expect(tableRows(body).has('Δ vs baseline')).toBe(false);
  });

  it('lists the offending paths of a rejected change, escaped', () => {
    const body = renderComment(
      report({
        status: 'rejected',
        verdict: undefined,
        headline: 'The change touches files outside train.py.',
        value: undefined,
        samples: undefined,
        vsBaseline: undefined,
        vsBest: undefined,
        figures: [],
        rejected: { reason: 'Only train.py may change.', paths: ['prepare.py', 'results.tsv', 'a|b_<c>.py'] },
      }),
      { marker: MARKER },
    );
    expect(body.split('\n')[1]).toBe('### 🚫 **Rejected**');
    expect(body).toContain(
      '**Rejected:** Only train.py may change.\n\nPaths outside the allowed surface:\n- prepare.py\n- results.tsv\n- a&#124;b\\_&lt;c&gt;.py',
    );
    expect(tableRows(body).has('**val\\_bpb**')).toBe(false);
    expect(body).toContain('| 4 | `c0ffee1` | **(this run)** Raise depth to 6 | — | 🚫 rejected |');
  });

  it('gives the reason for a skipped run', () => {
    const body = renderComment(
      report({
        status: 'skipped',
        verdict: undefined,
        headline: 'Nothing to judge.',
        value: undefined,
        vsBaseline: undefined,
        vsBest: undefined,
        figures: [],
        skipped: { reason: 'train.py is unchanged since the last judged commit (same blob).' },
      }),
      { marker: MARKER },
    );
    expect(body.split('\n')[1]).toBe('### ⏭️ **Skipped**');
    expect(body).toContain('**Skipped:** train.py is unchanged since the last judged commit (same blob).');
  });

  it('names what drifted when a result is not comparable and asks for a re-baseline', () => {
    const body = renderComment(
      report({
        status: 'discard',
        verdict: 'not-comparable',
        headline: 'Not comparable with the stored baseline.',
        vsBaseline: undefined,
        notComparable: { drift: ['macOS 15.1 → 15.2', 'mlx 0.21.0 → 0.22.1'] },
      }),
      { marker: MARKER },
    );
    expect(body.split('\n')[1]).toBe('### ⚠️ **Discard** — not comparable');
    expect(body).toContain(
      "**Not comparable:** this runner's setup changed since its baseline was recorded:",
    );
    expect(body).toContain('- macOS 15.1 → 15.2\n- mlx 0.21.0 → 0.22.1');
    expect(body).toContain('`workflow_dispatch`');
  });

  it('explains how to record a baseline when there is none', () => {
    const body = renderComment(
      report({
        verdict: 'no-baseline',
        baseline: undefined,
        vsBaseline: undefined,
        headline: 'No baseline yet.',
      }),
      { marker: MARKER },
    );
    expect(body.split('\n')[1]).toBe('### ⚠️ **Keep** — no baseline');
    expect(body).toContain('**No baseline** is stored for this runner yet');
    expect(body).toContain('`workflow_dispatch`');
    expect(body).toContain('<sub>No stored baseline · runner mac-mini-m4');
    expect(tableRows(body).has('Baseline')).toBe(false);
  });

  it('titles a baseline run as recorded', () => {
    const body = renderComment(
      report({ mode: 'baseline', verdict: undefined, vsBaseline: undefined, vsBest: undefined, history: [] }),
      { marker: MARKER },
    );
    expect(body.split('\n')[1]).toBe('### ✅ **Baseline recorded**');
    expect(body).not.toContain('<details>');
  });

  it('lists warnings', () => {
    const body = renderComment(
      report({
        warnings: ['training took 312.0 s, 4% over the 300 s budget', 'throughput 18% below this runner'],
      }),
      { marker: MARKER },
    );
    expect(body).toContain(
      '**Warnings**\n\n- training took 312.0 s, 4% over the 300 s budget\n- throughput 18% below this runner',
    );
  });
});

describe('renderComment: history and chart', () => {
  it('folds every experiment into a table, with this run last', () => {
    const body = renderComment(report(), { marker: MARKER });
    expect(body).toContain(
      [
        '<details><summary>History on this runner (4 experiments)</summary>',
        '',
        '| # | Commit | Subject | val\\_bpb | Status |',
        '| --- | --- | --- | --- | --- |',
        '| 1 | `1111111` | baseline | 1.850000 | ✅ keep |',
        '| 2 | `2222222` | try lr 0.1 | — | 💥 crash |',
        '| 3 | `3333333` | wider mlp | 1.810100 | ✅ keep |',
        '| 4 | `c0ffee1` | **(this run)** Raise depth to 6 | 1.807902 | ✅ keep |',
        '',
        '</details>',
      ].join('\n'),
    );
  });

  it('draws the experiments, the running best, and the baseline with its noise band', () => {
    const chart = mermaid(renderComment(report(), { marker: MARKER }));
    // A theme directive first (experiments blue, best green, baseline dark grey, band light grey).
    expect(chart[0]).toMatch(
      /^%%\{init: .*"plotColorPalette": "#0969da, #1a7f37, #57606a, #afb8c1, #afb8c1".*\}%%$/,
    );
    expect(chart[1]).toBe('xychart-beta');
    expect(chart).toContain('title "val_bpb per experiment # (lower is better)"');
    // The history table's numbers; the crashed #2 has no value and no point; kept ones starred.
    expect(chart).toContain('x-axis ["★1", "★3", "★4"]');
    const yAxis = chart.find((l) => l.startsWith('y-axis'));
    const [, min, max] = yAxis?.match(/^y-axis "val_bpb" (\d+\.\d+) --> (\d+\.\d+)$/) ?? [];
    expect(Number(min)).toBeLessThan(1.807902);
    expect(Number(max)).toBeGreaterThan(1.85);
    const lines = chart.filter((l) => l.startsWith('line ['));
    expect(lines).toEqual([
      'line [1.850000, 1.810100, 1.807902]',
      // The best kept so far only ever moves toward better, starting from the baseline.
      'line [1.850000, 1.810100, 1.807902]',
      'line [1.850000, 1.850000, 1.850000]',
      'line [1.880000, 1.880000, 1.880000]',
      'line [1.820000, 1.820000, 1.820000]',
    ]);
  });

  it('keeps hostile commit ids and subjects from breaking the chart or the table', () => {
    const body = renderComment(
      report({
        history: [
          {
            sha: '"] ; click A call alert(1)',
            subject: `${HOSTILE_LINE} | x`,
            value: 1.84,
            status: 'discard',
          },
          { sha: 'abcdef1234', subject: 'ok', value: 1.83, status: 'discard' },
          { sha: 'abcdef1234', subject: 'same train.py again', value: 1.831, status: 'discard' },
        ],
      }),
      { marker: MARKER },
    );
    const xAxis = mermaid(body).find((l) => l.startsWith('x-axis'));
    // Labels are the history table's numbers: nothing of the commit id reaches the chart.
    expect(xAxis).toBe('x-axis ["1", "2", "3", "★4"]');
    const row = body.split('\n').find((l) => l.startsWith('| 1 |'));
    expect(row?.split(/(?<!\\)\|/).length).toBe(7);
    expect(row).not.toContain('<img');
  });

  it('omits the chart when fewer than two experiments have a value', () => {
    const body = renderComment(report({ history: [] }), { marker: MARKER });
    expect(parseFences(body).blocks.some((b) => b.info === 'mermaid')).toBe(false);
  });
});

describe('renderComment: untrusted output', () => {
  const hostile = crashReport(hostileLog, {
    headline: `Crashed ${HOSTILE_LINE}`,
    warnings: [HOSTILE_LINE, '::error::pwned', '#1 @octocat'],
    commit: { sha: 'c0ffee1234567890', subject: `${HOSTILE_LINE}\n# heading`, branch: '<b>main</b>' },
    history: [
      { sha: 'abc1234def', subject: '</details><details open>', value: 1.9, status: 'discard' },
      { sha: 'abc1235def', subject: '```\n<script>x</script>', value: 1.88, status: 'keep' },
    ],
    rejected: { reason: '</details>', paths: ['<img src=x>', '@everyone.py'] },
  });
  const body = renderComment(hostile, { marker: MARKER });
  const parsed = parseFences(body);

  it('leaves no raw HTML, mention or issue reference outside code blocks', () => {
    expect(parsed.outside).not.toMatch(/<img/i);
    expect(parsed.outside).not.toMatch(/@everyone|@octocat|#1\b/);
    expect(parsed.outside).not.toContain('<b>');
    expect(parsed.outside).not.toMatch(/<script/i);
    expectBalancedDetails(parsed.outside);
  });

  it('closes the log fence exactly where intended, with the whole cleaned log inside', () => {
    const logs = parsed.blocks.filter((b) => b.info === 'text');
    expect(logs).toHaveLength(1);
    expect(logs[0]!.content).toBe(cleanUntrusted(hostileLog).trim());
    expect(logs[0]!.content).toContain(HOSTILE_LINE);
    // The log holds a ``` run, so the fence is four long and followed by our own closing tag.
    expect(body).toContain('<summary>Log excerpt (');
    expect(body).toContain('</summary>\n\n````text\n');
    expect(body).toContain('\n````\n\n</details>\n\n');
  });

  it('produces exactly the fenced blocks we emit: the log and the chart', () => {
    expect(parsed.blocks.map((b) => b.info)).toEqual(['text', 'mermaid']);
  });
});

describe('renderComment: size cap', () => {
  const longHistory = Array.from({ length: 5000 }, (_, i) => ({
    sha: (i + 1).toString(16).padStart(7, '0') + 'f'.repeat(33),
    subject: `experiment ${i + 1}: try a slightly different learning rate schedule`,
    value: 1.8 + (i % 17) / 1000,
    status: (i % 3 === 0 ? 'keep' : 'discard') as Report['status'],
  }));

  it('drops the oldest history rows first and keeps the rest intact', () => {
    const body = renderComment(report({ history: longHistory }), { marker: MARKER });
    expect(body.length).toBeLessThanOrEqual(60_000);
    expect(body.split('\n')[0]).toBe(MARKER);
    const shown = Number(body.match(/History on this runner \(last (\d+) of 5,001 experiments\)/)?.[1]);
    expect(shown).toBeGreaterThan(100);
    expect(shown).toBeLessThan(5001);
    const indices = body
      .split('\n')
      .map((l) => l.match(/^\| ([\d,]+) \| `/)?.[1])
      .filter((x): x is string => x !== undefined)
      .map((x) => Number(x.replace(/,/g, '')));
    expect(indices).toEqual(Array.from({ length: shown }, (_, i) => 5001 - shown + 1 + i));
    expect(body).toContain('**(this run)** Raise depth to 6');
    // The chart follows the table's window and stays readable.
    const labels =
      mermaid(body)
        .find((l) => l.startsWith('x-axis'))
        ?.match(/"[^"]*"/g) ?? [];
    expect(labels).toHaveLength(CHART_MAX_POINTS);
    expect(labels.at(-1)).toBe('"★5001"');
    expect(labels.at(-2)).toMatch(/^"★?5000"$/);
    expectBalancedDetails(parseFences(body).outside);
  });

  it('keeps the whole excerpt while only history has to go', () => {
    const body = renderComment(crashReport(oomLog, { history: longHistory }), { marker: MARKER });
    expect(body.length).toBeLessThanOrEqual(60_000);
    expect(parseFences(body).blocks.find((b) => b.info === 'text')?.content).toBe(
      cleanUntrusted(oomLog).trim(),
    );
  });

  it('then shortens the log excerpt from its start, keeping the end where the error is', () => {
    const lines = Array.from(
      { length: 20_000 },
      (_, i) => `line ${i + 1} of a very chatty training loop output`,
    );
    const excerpt = `${lines.join('\n')}\nRuntimeError: [metal::malloc] Resource limit (499000) exceeded`;
    const body = renderComment(crashReport(excerpt, { history: longHistory }), { marker: MARKER });
    expect(body.length).toBeLessThanOrEqual(60_000);
    expect(body.length).toBeGreaterThan(50_000);
    const parsed = parseFences(body);
    const log = parsed.blocks.find((b) => b.info === 'text')?.content ?? '';
    expect(log.endsWith('RuntimeError: [metal::malloc] Resource limit (499000) exceeded')).toBe(true);
    expect(log).not.toContain('line 1 of');
    // Whole lines only: the first kept line is a complete one.
    expect(log.split('\n')[0]).toMatch(/^line \d+ of a very chatty training loop output$/);
    const kept = log.split('\n').length;
    expect(body).toContain(`Log excerpt (last ${kept.toLocaleString('en-US')} of 20,001 lines)`);
    expect(body).toContain('History on this runner: 5,001 experiments, left out for space.');
    expectBalancedDetails(parsed.outside);
  });

  it('honours a smaller limit and falls back to verdict and headline when nothing else fits', () => {
    for (const maxChars of [1_000, 3_000, 10_000]) {
      const body = renderComment(crashReport('x'.repeat(50_000), { history: longHistory }), {
        marker: MARKER,
        maxChars,
      });
      expect(body.length).toBeLessThanOrEqual(maxChars);
      expect(body.split('\n')[0]).toBe(MARKER);
      expectBalancedDetails(parseFences(body).outside);
    }
    const crowded = report({
      warnings: Array.from({ length: 50 }, (_, i) => `warning ${i} ${'w'.repeat(290)}`),
    });
    const body = renderComment(crowded, { marker: MARKER, maxChars: 1_000 });
    expect(body.length).toBeLessThanOrEqual(1_000);
    expect(body).toBe(
      `${MARKER}\n### ✅ **Keep** — improved\n\nval\\_bpb 1.807902 beats the baseline by 1.4σ.\n\n_The full report is too long for this space; see the job summary and log of this run._`,
    );
  });
});

describe('progress and cancelled comments', () => {
  const commit = { sha: 'c0ffee1234567890abcdef', subject: 'Raise depth to 6 @team' };

  it('says training is under way on which runner, since when', () => {
    const body = renderProgressComment({
      marker: MARKER,
      runnerLabel: 'mac-mini-m4',
      commit,
      startedAt: '2026-11-26T01:16:24Z',
      budgetSeconds: 300,
    });
    expect(body.split('\n')).toEqual([
      MARKER,
      '### ⏳ Training on mac-mini-m4…',
      '',
      `Commit \`c0ffee1\` — Raise depth to 6 @\u200dteam · started 2026-11-26 01:16 UTC. Training takes about 300 s plus start-up and evaluation.`,
      '',
      'This comment is replaced by the verdict when the run ends.',
    ]);
  });

  it('says a cancelled run has no verdict', () => {
    const body = renderCancelledComment({
      marker: MARKER,
      runnerLabel: 'mac-mini-m4',
      commit,
      cancelledAt: new Date('2026-11-26T01:20:00Z'),
      reason: 'superseded by a newer push',
    });
    expect(body.split('\n')[0]).toBe(MARKER);
    expect(body).toContain('### 🛑 **Cancelled** — no verdict');
    expect(body).toContain('was cancelled at 2026-11-26 01:20 UTC before it finished');
    expect(body).toContain('Reason: superseded by a newer push.');
  });
});

describe('bad input', () => {
  it('rejects a marker that is not one single-line HTML comment', () => {
    for (const marker of [
      'autoresearch-ci',
      '<!-- a -->\n<!-- b -->',
      '<!-- a --> x -->',
      `<!-- ${'x'.repeat(300)} -->`,
    ]) {
      expect(() => renderComment(report(), { marker })).toThrow(/marker must be a single-line HTML comment/);
    }
    expect(() =>
      renderProgressComment({ marker: 'x', runnerLabel: 'r', commit: { sha: 'a' }, startedAt: new Date() }),
    ).toThrow(/marker/);
  });

  it('rejects a limit too small to hold a verdict', () => {
    expect(() => renderComment(report(), { marker: MARKER, maxChars: 100 })).toThrow(
      /maxChars must be an integer of at least 1000/,
    );
  });

  it('names a start time that is not a date', () => {
    expect(() =>
      renderProgressComment({
        marker: MARKER,
        runnerLabel: 'r',
        commit: { sha: 'abc' },
        startedAt: 'yesterday',
      }),
    ).toThrow(/startedAt is not a valid date: "yesterday"/);
  });
});
