/**
 * Small, dependency-free statistics for the verdict: summary figures, the normal and Student-t
 * distributions, and a seedable random source for tests and benchmarks. Everything is pure; the
 * tests pin the accuracy to published tables and closed forms.
 */

/** The seedable generator the benchmarks and tests draw from lives in random.ts. */
export { createRng, type Rng } from './random.js';

/** Raised when a statistic is asked of input it is not defined for. */
export class StatisticsError extends RangeError {
  override name = 'StatisticsError';
}

/** Arithmetic mean; throws on an empty list or a non-finite value. */
export function mean(values: readonly number[]): number {
  requireFinite(values, 'mean', 1);
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Sample standard deviation (divisor n − 1, the unbiased variance): the spread of repeated runs.
 * Needs at least two values — one run says nothing about noise.
 */
export function sampleSd(values: readonly number[]): number {
  requireFinite(values, 'sampleSd', 2);
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

/** The spread of one group of repeats: its standard deviation and how many values it came from. */
export interface Spread {
  /** Sample standard deviation of the group (ignored when n < 2). */
  sd: number;
  /** Number of values in the group. */
  n: number;
}

/** A pooled standard deviation with the degrees of freedom it rests on. */
export interface PooledSpread {
  /** √(Σ (nᵢ − 1)·sdᵢ² / Σ (nᵢ − 1)); `NaN` when no group has two values. */
  sd: number;
  /** Σ (nᵢ − 1): how much evidence about the noise there is. */
  df: number;
}

/**
 * Pools the spread of several groups that share one noise level (e.g. the baseline's repeats and a
 * candidate's repeats): each group contributes its squared deviations from its *own* mean, so
 * differences between the groups' true values do not inflate the noise estimate. Groups with
 * fewer than two values carry no spread information and are skipped.
 */
export function pooledSd(groups: readonly Spread[]): PooledSpread {
  let weighted = 0;
  let df = 0;
  for (const [i, g] of groups.entries()) {
    if (!Number.isInteger(g.n) || g.n < 0) {
      throw new StatisticsError(`pooledSd: group ${i} has n = ${g.n}; n must be a whole number ≥ 0`);
    }
    if (g.n < 2) continue;
    if (!Number.isFinite(g.sd) || g.sd < 0) {
      throw new StatisticsError(`pooledSd: group ${i} has sd = ${g.sd}; sd must be finite and ≥ 0`);
    }
    weighted += (g.n - 1) * g.sd * g.sd;
    df += g.n - 1;
  }
  return { sd: df === 0 ? Number.NaN : Math.sqrt(weighted / df), df };
}

/**
 * Standard normal cumulative distribution Φ(x). Hart's double-precision rational approximation
 * (as given by West, 2005): absolute error ~1e-14 everywhere, relative error ≤ ~1e-8 in the far
 * tails — ample for comparing probabilities with a confidence level.
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const z = Math.abs(x);
  let tail: number;
  if (z > 37) {
    tail = 0;
  } else {
    const e = Math.exp((-z * z) / 2);
    if (z < 7.07106781186547) {
      let num = 3.52624965998911e-2 * z + 0.700383064443688;
      num = num * z + 6.37396220353165;
      num = num * z + 33.912866078383;
      num = num * z + 112.079291497871;
      num = num * z + 221.213596169931;
      num = num * z + 220.206867912376;
      let den = 8.83883476483184e-2 * z + 1.75566716318264;
      den = den * z + 16.064177579207;
      den = den * z + 86.7807322029461;
      den = den * z + 296.564248779674;
      den = den * z + 637.333633378831;
      den = den * z + 793.826512519948;
      den = den * z + 440.413735824752;
      tail = (e * num) / den;
    } else {
      // Continued fraction for the far tail, where the rational form loses precision.
      let cf = z + 0.65;
      cf = z + 4 / cf;
      cf = z + 3 / cf;
      cf = z + 2 / cf;
      cf = z + 1 / cf;
      tail = e / cf / 2.506628274631;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
] as const;
const ACKLAM_B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
] as const;
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
] as const;
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;

/**
 * Standard normal quantile Φ⁻¹(p) for 0 < p < 1 (±Infinity at 0 and 1). Acklam's approximation
 * (~1e-9) refined by one Halley step against {@link normalCdf}, which brings it to ~1e-15.
 */
export function normalQuantile(p: number): number {
  requireProbability(p, 'normalQuantile');
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const [a0, a1, a2, a3, a4, a5] = ACKLAM_A;
  const [b0, b1, b2, b3, b4] = ACKLAM_B;
  const [c0, c1, c2, c3, c4, c5] = ACKLAM_C;
  const [d0, d1, d2, d3] = ACKLAM_D;
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
      (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;

/** ln Γ(x) for x > 0 (Lanczos, g = 7), relative error ~1e-15. */
export function logGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) {
    throw new StatisticsError(`logGamma: x = ${x}; x must be a finite number > 0`);
  }
  if (x < 0.5) {
    // Reflection keeps the series in its accurate range.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * Regularized incomplete beta function I_x(a, b) for 0 ≤ x ≤ 1, a, b > 0 — the Student-t tail
 * is one of these. Lentz's continued fraction, evaluated on the side where it converges fast.
 */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) throw new StatisticsError(`incompleteBeta: a = ${a}, b = ${b}; both must be > 0`);
  if (!(x >= 0 && x <= 1)) throw new StatisticsError(`incompleteBeta: x = ${x}; x must be within [0, 1]`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) return h;
  }
  return h;
}

/**
 * Student-t cumulative distribution P(T ≤ t) with `df` degrees of freedom (any real df > 0;
 * `Infinity` is the normal distribution). Fractional df arise from Welch's approximation.
 */
export function studentTCdf(t: number, df: number): number {
  requireDf(df, 'studentTCdf');
  if (Number.isNaN(t)) return Number.NaN;
  if (df === Number.POSITIVE_INFINITY) return normalCdf(t);
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** Student-t density, used by the quantile's Newton steps. */
function studentTPdf(t: number, df: number): number {
  const logNorm = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logNorm - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * Student-t quantile: the t with P(T ≤ t) = p. Closed forms for df 1 and 2, otherwise Newton steps
 * from the normal quantile, kept inside a bisection bracket so heavy tails cannot throw it off.
 */
export function studentTQuantile(p: number, df: number): number {
  requireProbability(p, 'studentTQuantile');
  requireDf(df, 'studentTQuantile');
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (df === Number.POSITIVE_INFINITY) return normalQuantile(p);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  // Bracket the root: the t quantile lies beyond the normal one, in the same direction.
  let lo = -1;
  let hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  let x = Math.min(hi, Math.max(lo, normalQuantile(p)));
  for (let i = 0; i < 200; i++) {
    const f = studentTCdf(x, df) - p;
    if (f === 0) return x;
    if (f < 0) lo = x;
    else hi = x;
    let next = x - f / studentTPdf(x, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - x) <= 1e-14 * Math.max(1, Math.abs(x))) return next;
    x = next;
  }
  return x;
}

function requireFinite(values: readonly number[], fn: string, atLeast: number): void {
  if (values.length < atLeast) {
    throw new StatisticsError(`${fn}: needs at least ${atLeast} value(s), got ${values.length}`);
  }
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new StatisticsError(`${fn}: value ${bad} is ${values[bad]}; every value must be finite`);
}

function requireProbability(p: number, fn: string): void {
  if (!(p >= 0 && p <= 1)) throw new StatisticsError(`${fn}: p = ${p}; p must be within [0, 1]`);
}

function requireDf(df: number, fn: string): void {
  if (!(df > 0)) throw new StatisticsError(`${fn}: df = ${df}; degrees of freedom must be > 0`);
}
