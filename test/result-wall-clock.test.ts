import { describe, expect, it } from 'vitest';
import type { Summary } from '../src/model.js';
import { checkWallClock } from '../src/result/wall-clock.js';
import { builtinProtocol, parseProtocol } from '../src/settings/protocol.js';

const protocol = builtinProtocol(); // budget 300 s, allowance max(60, 300) = 300 s
const summary = (metrics: Record<string, number>): Summary => ({
  primary: metrics['val_bpb'] ?? null,
  primaryNonFinite: false,
  metrics,
  raw: {},
  found: true,
});

describe('checkWallClock', () => {
  it('defaults the allowance to the budget (at least 60 s) and accepts a normal run', () => {
    expect(protocol.integrity.wallClockAllowanceSeconds).toBe(300);
    expect(checkWallClock(405_700, summary({ val_bpb: 1.8, training_seconds: 312.4 }), protocol)).toEqual({
      warnings: [],
    });
  });

  it('makes a run far past budget plus allowance not comparable, whatever it reports', () => {
    const check = checkWallClock(1200_000, summary({ val_bpb: 1.8, training_seconds: 300 }), protocol);
    expect(check.overrun).toMatch(
      /ran 1200\.0 s by the runner's clock, past the budget 300\.0 s plus the 300\.0 s/,
    );
    expect(check.warnings).toEqual([
      'train.py reports training_seconds 300.0 s, but the process ran 1200.0 s: 900.0 s are unaccounted for (allowance 300.0 s)',
    ]);
  });

  it('flags an omitted or impossible training_seconds', () => {
    expect(checkWallClock(400_000, summary({ val_bpb: 1.8 }), protocol).warnings).toEqual([
      'train.py did not report training_seconds; the measured wall time was 400.0 s (budget 300.0 s + allowance 300.0 s)',
    ]);
    expect(
      checkWallClock(5_000, summary({ val_bpb: 1.8, training_seconds: 300 }), protocol).warnings,
    ).toEqual([
      'train.py reports training_seconds 300.0 s, but the process ran only 5.0 s: the reported time cannot be true',
    ]);
  });

  it('reads the allowance from the protocol', () => {
    const doc = structuredClone(protocol.document) as Record<string, any>;
    doc.integrity = { wallClock: { allowanceSeconds: 30 } };
    const strict = parseProtocol(doc, 'test');
    expect(
      checkWallClock(340_000, summary({ val_bpb: 1.8, training_seconds: 300 }), strict).overrun,
    ).toContain('plus the 30.0 s start-up and evaluation allowance');
  });
});
