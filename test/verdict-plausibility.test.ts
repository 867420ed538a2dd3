import { describe, expect, it } from 'vitest';
import { builtinProtocol } from '../src/settings/protocol.js';
import { checkPlausibility, confirmsHeldValue } from '../src/verdict/plausibility.js';

const spec = builtinProtocol().integrity.plausibility;
const base = { metric: 'val_bpb', direction: 'minimize' as const, spec };

describe('checkPlausibility', () => {
  it('has defaults: val_bpb > 0, 20σ and 10 %', () => {
    expect(spec).toEqual({
      lowerBound: 0,
      upperBound: null,
      maxImprovementSigma: 20,
      maxImprovementRelative: 0.1,
    });
  });

  it('refuses values outside the possible range', () => {
    expect(checkPlausibility({ ...base, value: -5 })).toEqual([
      'val_bpb -5 is impossible: it must be above 0',
    ]);
    expect(checkPlausibility({ ...base, value: 0 })).toHaveLength(1);
  });

  it('holds an improvement far beyond the best this runner measured, in σ and relative terms', () => {
    expect(checkPlausibility({ ...base, value: 0.123456, bestSeen: 1.8, sigma: 0.002 })).toEqual([
      "val_bpb 0.123456 beats the best this runner has measured (1.8) by 1.68: 838σ and 93 %, beyond the protocol's limits (20σ and 10 %)",
    ]);
  });

  it('accepts large but ordinary gains: both limits must be passed', () => {
    // 50σ but only 5.6 %: a clear, believable improvement on a quiet machine.
    expect(checkPlausibility({ ...base, value: 1.7, bestSeen: 1.8, sigma: 0.002 })).toEqual([]);
    // 15 % but only 3σ: a noisy machine.
    expect(checkPlausibility({ ...base, value: 1.5, bestSeen: 1.8, sigma: 0.1 })).toEqual([]);
    expect(checkPlausibility({ ...base, value: 1.5, bestSeen: 1.8 })).toEqual([]);
  });

  it('reads maximize metrics the other way round', () => {
    expect(
      checkPlausibility({ ...base, direction: 'maximize', value: 0.99, bestSeen: 0.5, sigma: 0.01 }),
    ).toHaveLength(1);
  });
});

describe('confirmsHeldValue', () => {
  it('confirms a re-run within a few σ of the held value, not one far off', () => {
    expect(confirmsHeldValue(0.5, 0.503, 0.002)).toBe(true);
    expect(confirmsHeldValue(0.5, 0.511, 0.002)).toBe(true);
    expect(confirmsHeldValue(0.5, 0.512, 0.002)).toBe(false);
    expect(confirmsHeldValue(0.5, 0.6, 0.002)).toBe(false);
  });

  it('confirms a leap the re-run reproduces, even when σ from the baseline is too small, and not a fluke', () => {
    // Held 1.0 after a best of 1.8, with σ 0.0005 from three back-to-back baseline runs.
    expect(confirmsHeldValue(1.0, 1.004, 0.0005, 1.8)).toBe(true);
    expect(confirmsHeldValue(1.0, 0.9, 0.0005, 1.8)).toBe(true);
    expect(confirmsHeldValue(1.0, 1.19, 0.0005, 1.8)).toBe(true);
    expect(confirmsHeldValue(1.0, 1.21, 0.0005, 1.8)).toBe(false);
    expect(confirmsHeldValue(1.0, 1.8, 0.0005, 1.8)).toBe(false);
    expect(confirmsHeldValue(1.0, 1.004, 0.0005)).toBe(false);
  });
});
