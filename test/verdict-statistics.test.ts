import { describe, expect, it } from 'vitest';
import {
  createRng,
  incompleteBeta,
  logGamma,
  mean,
  normalCdf,
  normalQuantile,
  pooledSd,
  StatisticsError,
  sampleSd,
  studentTCdf,
  studentTQuantile,
} from '../src/verdict/statistics.js';

describe('mean and sample standard deviation', () => {
  it('match hand computation', () => {
    const xs = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(mean(xs)).toBe(5);
    // Squared deviations sum to 32; the sample variance divides by n − 1 = 7.
    expect(sampleSd(xs)).toBeCloseTo(Math.sqrt(32 / 7), 14);
    expect(sampleSd([1.3, 1.3, 1.3])).toBe(0);
  });

  it('refuse input they are not defined for, naming the function and the value', () => {
    expect(() => mean([])).toThrow(StatisticsError);
    expect(() => mean([])).toThrow(/mean: needs at least 1/);
    expect(() => sampleSd([1.2])).toThrow(/sampleSd: needs at least 2 value/);
    expect(() => mean([1, Number.NaN])).toThrow(/value 1 is NaN/);
    expect(() => sampleSd([1, Number.POSITIVE_INFINITY])).toThrow(/value 1 is Infinity/);
  });
});

describe('pooledSd', () => {
  it('pools squared deviations from each group’s own mean, weighted by degrees of freedom', () => {
    const a = [1, 2, 3]; // deviations² = 1 + 0 + 1 = 2, df 2
    const b = [2, 4]; // deviations² = 1 + 1 = 2, df 1
    const pooled = pooledSd([
      { sd: sampleSd(a), n: a.length },
      { sd: sampleSd(b), n: b.length },
    ]);
    expect(pooled.df).toBe(3);
    expect(pooled.sd).toBeCloseTo(Math.sqrt(4 / 3), 14);
  });

  it('ignores a difference in level between groups (only spread counts)', () => {
    const pooled = pooledSd([
      { sd: sampleSd([1, 2, 3]), n: 3 },
      { sd: sampleSd([101, 102, 103]), n: 3 },
    ]);
    expect(pooled.sd).toBeCloseTo(1, 14);
    expect(pooled.df).toBe(4);
  });

  it('skips single-value groups and says when there is nothing to pool', () => {
    expect(
      pooledSd([
        { sd: 0, n: 1 },
        { sd: 0.5, n: 2 },
      ]),
    ).toEqual({ sd: 0.5, df: 1 });
    const none = pooledSd([{ sd: 0, n: 1 }]);
    expect(none.df).toBe(0);
    expect(none.sd).toBeNaN();
    expect(() => pooledSd([{ sd: -1, n: 3 }])).toThrow(/group 0 has sd = -1/);
    expect(() => pooledSd([{ sd: 1, n: 2.5 }])).toThrow(/group 0 has n = 2.5/);
  });
});

describe('normal distribution', () => {
  it('CDF matches published values (absolute error ≤ 1e-14)', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316301, 15);
    // Far tail: absolute error stays ~1e-14; relative error is allowed to reach ~1e-8.
    expect(normalCdf(-5) / 2.866515718791946e-7).toBeCloseTo(1, 8);
    expect(normalCdf(-8) / 6.2209605742718194e-16).toBeCloseTo(1, 7);
    expect(normalCdf(-40)).toBe(0);
    expect(normalCdf(40)).toBe(1);
  });

  it('CDF is symmetric', () => {
    for (const x of [0.1, 0.7, 1.5, 2.5, 5, 8]) expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 14);
  });

  it('quantile matches published values and inverts the CDF', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 12);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 15);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    for (const p of [1e-10, 1e-4, 0.01, 0.02425, 0.3, 0.7, 0.99, 0.9999]) {
      expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 10);
    }
    expect(() => normalQuantile(1.5)).toThrow(/normalQuantile: p = 1.5/);
  });
});

describe('Student t distribution', () => {
  it('quantiles match the published t table', () => {
    const table: Array<[p: number, df: number, t: number]> = [
      [0.95, 1, 6.314],
      [0.95, 2, 2.92],
      [0.95, 3, 2.353],
      [0.95, 4, 2.132],
      [0.95, 5, 2.015],
      [0.95, 10, 1.812],
      [0.95, 30, 1.697],
      [0.975, 2, 4.303],
      [0.975, 10, 2.228],
      [0.975, 20, 2.086],
      [0.995, 5, 4.032],
      [0.995, 60, 2.66],
    ];
    for (const [p, df, t] of table) expect(studentTQuantile(p, df)).toBeCloseTo(t, 3);
    expect(studentTQuantile(0.05, 10)).toBeCloseTo(-1.812, 3);
  });

  it('CDF matches the closed forms for 1 and 2 degrees of freedom', () => {
    for (const t of [-12, -2.5, -0.3, 0, 0.8, 2.92, 40]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 13);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(t * t + 2)), 13);
    }
  });

  it('approaches the normal distribution as df grows, and is it at Infinity', () => {
    expect(studentTCdf(1.96, 1e7)).toBeCloseTo(normalCdf(1.96), 6);
    expect(studentTCdf(1.96, Number.POSITIVE_INFINITY)).toBe(normalCdf(1.96));
    expect(studentTQuantile(0.95, Number.POSITIVE_INFINITY)).toBe(normalQuantile(0.95));
  });

  it('quantile inverts the CDF for fractional df (Welch) and in the tails', () => {
    for (const df of [1.3, 2.5, 3.7, 7, 25]) {
      for (const p of [0.001, 0.05, 0.4, 0.95, 0.999]) {
        expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 12);
      }
    }
  });

  it('refuses degrees of freedom ≤ 0', () => {
    expect(() => studentTCdf(1, 0)).toThrow(/studentTCdf: df = 0/);
    expect(() => studentTQuantile(0.9, -1)).toThrow(/studentTQuantile: df = -1/);
  });
});

describe('special functions', () => {
  it('logGamma matches factorials and Γ(1/2) = √π', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 13);
    expect(logGamma(0.1)).toBeCloseTo(2.252712651734206, 12);
    expect(() => logGamma(0)).toThrow(/logGamma: x = 0/);
  });

  it('incompleteBeta matches closed forms', () => {
    // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 − (1 − x)^b.
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 14);
    expect(incompleteBeta(0.6, 3, 1)).toBeCloseTo(0.216, 14);
    expect(incompleteBeta(0.2, 1, 4)).toBeCloseTo(1 - 0.8 ** 4, 14);
    expect(incompleteBeta(0, 2, 3)).toBe(0);
    expect(incompleteBeta(1, 2, 3)).toBe(1);
    expect(() => incompleteBeta(1.2, 2, 3)).toThrow(/x = 1.2/);
  });
});

describe('createRng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const draw = (seed: number): number[] => {
      const rng = createRng(seed);
      return Array.from({ length: 8 }, () => rng.uniform());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    for (const u of draw(7)) {
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
    expect(() => createRng(1.5)).toThrow(/seed = 1.5/);
  });

  it('draws standard normal values (moments and a tail share)', () => {
    const rng = createRng(2024);
    const n = 40_000;
    const xs = Array.from({ length: n }, () => rng.gaussian());
    // Bounds are 5 standard errors wide: a broken generator fails, a sound one cannot with this seed.
    expect(Math.abs(mean(xs))).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sampleSd(xs) - 1)).toBeLessThan(5 * Math.sqrt(1 / (2 * n)));
    const above = xs.filter((x) => x > 1.96).length / n;
    expect(Math.abs(above - 0.025)).toBeLessThan(5 * Math.sqrt((0.025 * 0.975) / n));
    const scaled = createRng(3);
    const ys = Array.from({ length: 10_000 }, () => scaled.normal(1.3, 0.03));
    expect(Math.abs(mean(ys) - 1.3)).toBeLessThan(5 * (0.03 / 100));
  });
});
