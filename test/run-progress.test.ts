import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeProgress, parseProgress } from '../src/run/progress.js';

const LOGS = path.resolve(import.meta.dirname, 'fixtures/logs');

describe('parseProgress', () => {
  it('reads step, percent, loss and remaining seconds', () => {
    expect(
      parseProgress(
        'step 00012 (0.9%) | loss: 8.627797 | lrm: 1.00 | dt: 230ms | tok/sec: 284,939 | epoch: 1 | remaining: 298s',
      ),
    ).toEqual({ step: 12, percent: 0.9, loss: 8.627797, remainingSeconds: 298 });
  });

  it('tolerates trailing padding and missing fields', () => {
    expect(parseProgress('step 01319 (100.0%) | loss: 3.107894 | remaining: 0s    ')).toEqual({
      step: 1319,
      percent: 100,
      loss: 3.107894,
      remainingSeconds: 0,
    });
    expect(parseProgress('step 7 (50%)')).toEqual({ step: 7, percent: 50 });
  });

  it('keeps a nan loss (a diverging run) and ignores unreadable fields', () => {
    expect(parseProgress('step 00003 (0.2%) | loss: nan | remaining: soon')).toEqual({
      step: 3,
      percent: 0.2,
      loss: Number.NaN,
    });
  });

  it('returns undefined for other lines', () => {
    for (const line of ['Training completed in 302.4s', '---', 'val_bpb: 1.8', '', 'steps 3 (1%)']) {
      expect(parseProgress(line)).toBeUndefined();
    }
  });

  it('reads the last progress segment of a real log', () => {
    const segments = readFileSync(path.join(LOGS, 'ok.log'), 'utf8').split(/[\r\n]/);
    const all = segments.map(parseProgress).filter((p) => p !== undefined);
    expect(all.length).toBeGreaterThan(1000);
    expect(all.at(-1)).toEqual({ step: 1319, percent: 100, loss: 3.107894, remainingSeconds: 0 });
  });
});

describe('describeProgress', () => {
  it('writes one short line', () => {
    expect(describeProgress({ step: 12, percent: 0.9, loss: 8.6, remainingSeconds: 298 })).toBe(
      'step 12 (0.9%), loss 8.6, 298 s remaining',
    );
    expect(describeProgress({ step: 1, percent: 0 })).toBe('step 1 (0%)');
  });
});
