import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderComment } from '../src/publish/render-comment.js';
import { formatRow, reportRow } from '../src/publish/results-row.js';
import { parseSummary } from '../src/result/summary.js';
import { builtinProtocol, loadProtocolFile, parseProtocol } from '../src/settings/protocol.js';
import { figuresOf } from '../src/verdict/figures.js';
import { sampleReport } from './support/sample-report.js';

const fixture = path.resolve(import.meta.dirname, 'fixtures/protocol/autoresearch-mlx.protocol.json');
const MARKER = '<!-- autoresearch-ci:runner=gpu-1 -->';

/** A CUDA-style protocol: accuracy up, with its own secondary metrics and a results column for one. */
function cudaProtocol() {
  const doc = JSON.parse(readFileSync(fixture, 'utf8'));
  const metric = (name: string, unit?: string) => ({
    name,
    direction: 'maximize',
    extract: { kind: 'regex', pattern: `^${name}:\\s+([0-9.]+)$` },
    ...(unit ? { unit } : {}),
  });
  doc.measurement.primaryMetric = metric('accuracy');
  doc.measurement.secondaryMetrics = [metric('tokens_per_sec', 'tok/s'), metric('gpu_util_percent', '%')];
  doc.provenance.resultsLog.columns = ['commit', 'accuracy', 'tokens_per_sec', 'status', 'description'];
  return parseProtocol(doc, 'cuda.protocol.json');
}

function tableRows(body: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of body.split('\n')) {
    const cells = /^\| (.+?) \| (.+) \|$/.exec(line);
    if (cells) rows.set(cells[1]!, cells[2]!);
  }
  return rows;
}

describe('figures come from the protocol', () => {
  it('shows a protocol’s own secondary metrics in the comment and the results row', () => {
    const protocol = cudaProtocol();
    const log = '---\naccuracy: 0.912\ntokens_per_sec: 4210.5\ngpu_util_percent: 87.25\npeak_vram_mb: 2048\n';
    const summary = parseSummary(log, protocol);
    const figures = figuresOf(protocol.figures, summary.metrics, { tokens_per_sec: 3900 }, undefined);
    const report = sampleReport({
      figures,
      primary: { name: 'accuracy', direction: 'maximize' },
      value: 0.912,
    });

    const rows = tableRows(renderComment(report, { marker: MARKER }));
    expect(rows.get('tokens\\_per\\_sec')).toBe('4,210.50 tok/s · baseline 3,900.00 tok/s');
    expect(rows.get('gpu\\_util\\_percent')).toBe('87.25%');
    // train.py's figures stay available to any protocol whose training prints them.
    expect(rows.get('Peak memory')).toBe('2.0 GB');

    const row = formatRow(protocol.results.columns, reportRow(report, protocol, 'gpu-1'));
    expect(row.split('\t')).toEqual(['c0ffee1', '0.912000', '4210.5', 'keep', 'Raise depth to 6']);
  });

  it('lets a protocol declare labels, units and scales, and records no figures for a crash', () => {
    const doc = JSON.parse(readFileSync(fixture, 'utf8'));
    doc.measurement.figures = [{ metric: 'peak_vram_mb', label: 'VRAM', unit: 'MiB', decimals: 0 }];
    doc.provenance.resultsLog.columns.push('peak_vram_mb');
    const protocol = parseProtocol(doc, 'declared.json');
    const figures = figuresOf(
      protocol.figures,
      { peak_vram_mb: 27528.9, num_steps: 46 },
      undefined,
      undefined,
    );
    expect(figures.map((f) => [f.label, f.value])).toEqual([['VRAM', 27528.9]]);
    const rows = tableRows(renderComment(sampleReport({ figures }), { marker: MARKER }));
    expect(rows.get('VRAM')).toBe('27,529 MiB');
    expect(rows.has('Steps')).toBe(false);
    const crash = sampleReport({ figures, status: 'crash' });
    expect(
      formatRow(protocol.results.columns, reportRow(crash, protocol, 'mac'))
        .split('\t')
        .at(-1),
    ).toBe('');
  });

  it('gives the unchanged autoresearch protocol train.py’s figures and Metal’s OOM messages', () => {
    const fromFixture = loadProtocolFile(fixture);
    expect(fromFixture.figures.map((f) => f.label)).toEqual([
      'Peak memory',
      'Training time',
      'Steps',
      'Tokens',
      'Parameters',
    ]);
    expect(fromFixture.oomPatterns.some((p) => p.test('[metal::malloc] Attempting to allocate'))).toBe(true);
    const builtin = builtinProtocol();
    expect(builtin.figures).toEqual(fromFixture.figures);
    expect(builtin.oomPatterns.map(String)).toEqual(fromFixture.oomPatterns.map(String));
  });
});
