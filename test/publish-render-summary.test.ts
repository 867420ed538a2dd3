import { describe, expect, it } from 'vitest';
import type { Report } from '../src/model.js';
import { renderComment } from '../src/publish/render-comment.js';
import { renderJobSummary } from '../src/publish/render-summary.js';

const MARKER = '<!-- autoresearch-ci:runner=mac-studio -->';

/** The smallest report of each status a job can end with. */
function base(overrides: Partial<Report>): Report {
  return {
    mode: 'experiment',
    status: 'keep',
    headline: 'headline',
    runner: { name: 'mac-studio', label: 'mac-studio-m2' },
    commit: { sha: '0123456789abcdef0123', subject: 'Use RoPE base 50000' },
    primary: { name: 'val_bpb', direction: 'minimize' },
    figures: [],
    warnings: [],
    history: [],
    budgetSeconds: 300,
    ...overrides,
  };
}

const byStatus: Record<string, Report> = {
  keep: base({
    verdict: 'improved',
    headline: 'Improved on the baseline.',
    value: 1.79,
    samples: [1.79],
    baseline: { mean: 1.82, sigma: 0.01, n: 3, commit: 'feedface00', date: '2026-11-01' },
    vsBaseline: { delta: -0.03, deltaSigma: -3, probabilityBetter: 0.99 },
  }),
  discard: base({ status: 'discard', verdict: 'within-noise', headline: 'Within noise.', value: 1.815 }),
  crash: base({
    status: 'crash',
    verdict: 'crashed',
    headline: 'Training crashed.',
    value: null,
    crash: {
      kind: 'diverged',
      reason: 'loss became NaN at step 11',
      excerpt: 'step 00011 | loss: nan\nFAIL',
    },
  }),
  rejected: base({
    status: 'rejected',
    headline: 'Forbidden files changed.',
    rejected: { reason: 'prepare.py is part of the immutable harness.', paths: ['prepare.py'] },
  }),
  skipped: base({
    status: 'skipped',
    headline: 'Nothing to do.',
    skipped: { reason: 'not an autoresearch branch' },
  }),
};

describe('renderJobSummary', () => {
  it.each(Object.entries(byStatus))(
    'renders a %s report with a title naming the runner',
    (status, report) => {
      const summary = renderJobSummary(report);
      const lines = summary.split('\n');
      expect(lines[0]).toBe('## autoresearch-ci experiment on mac-studio-m2');
      expect(summary).toContain(report.headline);
      expect(summary).not.toContain('<!--');
      expect(summary.endsWith('\n')).toBe(true);
      const word = {
        keep: '**Keep**',
        discard: '**Discard**',
        crash: '**Crash**',
        rejected: '**Rejected**',
        skipped: '**Skipped**',
      }[status];
      expect(lines[2]).toContain(word);
    },
  );

  it('shows the same report body as the PR comment', () => {
    for (const report of Object.values(byStatus)) {
      const comment = renderComment(report, { marker: MARKER });
      const body = comment.slice(MARKER.length + 1);
      expect(renderJobSummary(report)).toContain(body);
    }
  });

  it('shows the crash details of a diverged run', () => {
    const summary = renderJobSummary(byStatus['crash']!);
    expect(summary).toContain('### 💥 **Crash** — diverged (loss not finite)');
    expect(summary).toContain('**Crash (diverged (loss not finite)):** loss became NaN at step 11');
    expect(summary).toContain('```text\nstep 00011 | loss: nan\nFAIL\n```');
  });

  it('titles a baseline job as such', () => {
    const summary = renderJobSummary(base({ mode: 'baseline', headline: 'Baseline recorded: 1.820000.' }));
    expect(summary.split('\n')[0]).toBe('## autoresearch-ci baseline on mac-studio-m2');
    expect(summary).toContain('### ✅ **Baseline recorded**');
  });

  it('lists publishing failures last, escaped', () => {
    const summary = renderJobSummary(byStatus['keep']!, {
      publishErrors: [
        'PATCH comment: 403 Resource not accessible by integration',
        'push results.tsv: <rejected> by @admin',
      ],
    });
    expect(
      summary
        .trimEnd()
        .endsWith(
          [
            '### ⚠️ Not published',
            '',
            'The verdict above is complete, but these steps failed; the PR comment or results log may be out of date:',
            '',
            '- PATCH comment: 403 Resource not accessible by integration',
            '- push results.tsv: &lt;rejected&gt; by @\u200dadmin',
          ].join('\n'),
        ),
    ).toBe(true);
    expect(renderJobSummary(byStatus['keep']!)).not.toContain('Not published');
  });

  it('stays within its limit, publishing errors included', () => {
    const history = Array.from({ length: 3000 }, (_, i) => ({
      sha: `${i.toString(16).padStart(7, '0')}aaaa`,
      subject: `experiment ${i}`,
      value: 1.8,
      status: 'discard' as const,
    }));
    const summary = renderJobSummary(
      { ...byStatus['keep']!, history },
      { maxChars: 20_000, publishErrors: ['x'.repeat(400)] },
    );
    expect(summary.length).toBeLessThanOrEqual(20_000);
    expect(summary).toContain('### ⚠️ Not published');
    expect(summary).toMatch(/History on this runner \(last [\d,]+ of 3,001 experiments\)/);
  });

  it('gives publishing errors at most a quarter of a small limit', () => {
    const errors = Array.from({ length: 40 }, (_, i) => `error ${i} ${'e'.repeat(280)}`);
    const summary = renderJobSummary(byStatus['crash']!, { maxChars: 2_000, publishErrors: errors });
    expect(summary.length).toBeLessThanOrEqual(2_000);
    expect(summary).toContain('### 💥 **Crash**');
    expect(summary).toMatch(/- … and \d+ more$/m);
  });

  it('rejects an unusable limit', () => {
    expect(() => renderJobSummary(byStatus['keep']!, { maxChars: 10 })).toThrow(/maxChars/);
  });
});
