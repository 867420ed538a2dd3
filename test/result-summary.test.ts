import { describe, expect, it } from 'vitest';
import { lastSummaryBlockStart, parseNumber, parseSummary } from '../src/result/summary.js';
import { builtinProtocol } from '../src/settings/protocol.js';

const protocol = builtinProtocol();
const progress = (step: number) =>
  `\rstep ${String(step).padStart(5, '0')} (${(step / 10).toFixed(1)}%) | loss: 3.1 | remaining: 10s    `;

describe('parseSummary', () => {
  it('reports no block for an empty log', () => {
    expect(parseSummary('', protocol)).toEqual({
      primary: null,
      primaryNonFinite: false,
      metrics: {},
      raw: {},
      found: false,
    });
  });

  it('reads the protocol regexes and every key: value line of the block', () => {
    const s = parseSummary('setup\n---\nval_bpb:   1.5\npeak_vram_mb: 100.5\ndepth: 4\n', protocol);
    expect(s.found).toBe(true);
    expect(s.primary).toBe(1.5);
    expect(s.metrics).toEqual({ val_bpb: 1.5, peak_vram_mb: 100.5, depth: 4 });
    expect(s.raw).toEqual({ val_bpb: '1.5', peak_vram_mb: '100.5', depth: '4' });
  });

  it('falls back to key:value without a space, which the protocol regex rejects', () => {
    expect(protocol.primary.pattern.test('val_bpb:1.8')).toBe(false);
    const s = parseSummary('---\nval_bpb:1.8\ntraining_seconds:301\n', protocol);
    expect(s.primary).toBe(1.8);
    expect(s.metrics.training_seconds).toBe(301);
  });

  it('keeps n/a in raw but not in metrics', () => {
    const s = parseSummary('---\nval_bpb: n/a\npeak_vram_mb: n/a\nnum_steps: 12\n', protocol);
    expect(s.primary).toBeNull();
    expect(s.primaryNonFinite).toBe(false);
    expect(s.raw.val_bpb).toBe('n/a');
    expect(s.raw.peak_vram_mb).toBe('n/a');
    expect(s.metrics).toEqual({ num_steps: 12 });
  });

  it.each(['nan', 'NaN', 'inf', '-inf', 'Inf', '+INF', 'infinity'])('flags a primary printed as %s', (v) => {
    const s = parseSummary(`---\nval_bpb: ${v}\npeak_vram_mb: 10\n`, protocol);
    expect(s.primary).toBeNull();
    expect(s.primaryNonFinite).toBe(true);
    expect(s.raw.val_bpb).toBe(v);
    expect('val_bpb' in s.metrics).toBe(false);
  });

  it('drops a non-finite secondary from metrics without flagging the primary', () => {
    const s = parseSummary('---\nval_bpb: 1.2\npeak_vram_mb: nan\n', protocol);
    expect(s.primaryNonFinite).toBe(false);
    expect(s.metrics).toEqual({ val_bpb: 1.2 });
  });

  it('tolerates extra keys, extra whitespace and text values', () => {
    const block = '---\n  val_bpb :   2.25  \nmystery_score: 3.5e-2\nnote: hello world\nmodel.dim: 512\n\n';
    const s = parseSummary(block, protocol);
    expect(s.primary).toBe(2.25);
    expect(s.metrics).toEqual({ val_bpb: 2.25, mystery_score: 0.035, 'model.dim': 512 });
    expect(s.raw.note).toBe('hello world');
  });

  it('keeps keys that exist on Object.prototype as ordinary metrics', () => {
    const s = parseSummary('---\nconstructor: 5\ntoString: 6\n__proto__: 7\nval_bpb: 1.1\n', protocol);
    expect(s.metrics).toEqual({ constructor: 5, toString: 6, val_bpb: 1.1 });
    expect(Object.getPrototypeOf(s.metrics)).toBe(Object.prototype);
  });

  it('reads only the last block: an earlier fake block never wins', () => {
    const log = '---\nval_bpb: 0.000001\npeak_vram_mb: 1.0\nmore output\n---\nval_bpb: 1.9\n';
    const s = parseSummary(log, protocol);
    expect(s.primary).toBe(1.9);
    expect(s.metrics).toEqual({ val_bpb: 1.9 });
  });

  it('applies the regexes to the block only, not to lines before it', () => {
    const s = parseSummary('val_bpb: 0.5\n---\ntraining_seconds: 300\n', protocol);
    expect(s.found).toBe(true);
    expect(s.primary).toBeNull();
    expect(s.metrics).toEqual({ training_seconds: 300 });
  });

  it('prefers the protocol regex over the generic reading', () => {
    const custom = {
      primary: {
        name: 'score',
        direction: 'maximize' as const,
        pattern: /^final score = ([0-9.]+) points$/m,
      },
      secondary: [
        { name: 'val_bpb', direction: 'minimize' as const, pattern: /^val_bpb:\s+([0-9.]+)\s+bits$/m },
      ],
    };
    const s = parseSummary('---\nfinal score = 0.75 points\nval_bpb: 1.25 bits\n', custom);
    expect(s.primary).toBe(0.75);
    // The generic reading sees "1.25 bits", not a number; the regex extracts it.
    expect(s.raw.val_bpb).toBe('1.25 bits');
    expect(s.metrics).toEqual({ score: 0.75, val_bpb: 1.25 });
  });

  it('gives the same answer on every call with a global or non-multiline pattern', () => {
    const custom = {
      primary: { name: 'val_bpb', direction: 'minimize' as const, pattern: /^val_bpb:\s+([0-9.]+)$/g },
      secondary: [],
    };
    const log = 'x\n---\nfoo: bar\nval_bpb: 1.75\n';
    expect(parseSummary(log, custom).primary).toBe(1.75);
    expect(parseSummary(log, custom).primary).toBe(1.75);
    expect(custom.primary.pattern.lastIndex).toBe(0);
  });

  it('reads CRLF line ends', () => {
    const s = parseSummary('run\r\n---\r\nval_bpb:   2.5\r\ntraining_seconds: 299.5\r\n', protocol);
    expect(s.primary).toBe(2.5);
    expect(s.raw).toEqual({ val_bpb: '2.5', training_seconds: '299.5' });
  });

  it('reads \\r-only line ends', () => {
    const s = parseSummary(`${progress(1)}${progress(2)}\r---\rval_bpb:   2.5\rnum_steps: 2\r`, protocol);
    expect(s.primary).toBe(2.5);
    expect(s.metrics).toEqual({ val_bpb: 2.5, num_steps: 2 });
  });

  it('ignores --- inside a progress segment and lines that are not exactly ---', () => {
    const log = `${progress(1)}| --- |${progress(2)}\n----\n--- \n -- -\nval_bpb: 1.0\n`;
    expect(parseSummary(log, protocol).found).toBe(false);
  });

  it('takes the real block after a --- segment among the progress', () => {
    const log = `${progress(1)}\r---\rval_bpb: 0.1${progress(2)}\n---\nval_bpb:   1.5\n`;
    expect(parseSummary(log, protocol).primary).toBe(1.5);
  });

  it('finds a block that is only a --- line at the very end', () => {
    const s = parseSummary('output\n---', protocol);
    expect(s).toMatchObject({ found: true, primary: null, metrics: {}, raw: {} });
  });

  it('reads the block after many megabytes of progress', () => {
    const log = `start\n${progress(7).repeat(100_000)}\n---\nval_bpb:   1.234567\n`;
    expect(log.length).toBeGreaterThan(4_000_000);
    expect(parseSummary(log, protocol).primary).toBe(1.234567);
  });
});

describe('lastSummaryBlockStart', () => {
  it('points just after the terminator of the last --- line', () => {
    expect(lastSummaryBlockStart('a\n---\nb')).toBe(6);
    expect(lastSummaryBlockStart('a\r\n---\r\nb')).toBe(8);
    expect(lastSummaryBlockStart('---\r---x')).toBe(4);
    expect(lastSummaryBlockStart('no block')).toBe(-1);
  });
});

describe('parseNumber', () => {
  it('accepts plain and scientific numbers only', () => {
    expect(parseNumber(' 2.5 ')).toBe(2.5);
    expect(parseNumber('-1e3')).toBe(-1000);
    expect(parseNumber('.5')).toBe(0.5);
    for (const text of ['n/a', 'nan', 'inf', '1,234', '12 MB', '', '0x10', '1e999']) {
      expect(parseNumber(text)).toBeUndefined();
    }
  });
});
