import { describe, expect, it } from 'vitest';
import { statusOf } from '../src/model.js';
import {
  type BaselineStats,
  DEFAULT_RELATIVE_SIGMA_FLOOR,
  decideVerdict,
  shouldStopEarly,
  type VerdictContext,
  type VerdictInput,
  VerdictInputError,
} from '../src/verdict/decide.js';
import { createRng, mean, normalCdf, sampleSd, studentTCdf } from '../src/verdict/statistics.js';

/** A Mac-like baseline: three repeats of val_bpb with σ = 0.03 exactly. */
const baseline: BaselineStats = { samples: [1.3, 1.33, 1.27], mean: 1.3, sigma: 0.03, n: 3 };
const defaults = { baseline, direction: 'minimize', confidence: 0.95, minImprovement: 0 } as const;

function decide(overrides: Partial<VerdictInput> & Pick<VerdictInput, 'candidate'>) {
  return decideVerdict({ ...defaults, ...overrides });
}

/** Student t with 2 df has a closed-form CDF, so expected probabilities are computed by hand. */
function t2Cdf(t: number): number {
  return 0.5 + t / (2 * Math.sqrt(t * t + 2));
}

describe('decideVerdict against the baseline', () => {
  it('keeps a clear improvement and explains it in one line', () => {
    const d = decide({ candidate: [1.15] });
    expect(d.kind).toBe('improved');
    expect(d.candidateValue).toBe(1.15);
    expect(d.vsBaseline.delta).toBeCloseTo(-0.15, 12);
    expect(d.vsBaseline.improvement).toBeCloseTo(0.15, 12);
    expect(d.vsBaseline.deltaSigma).toBeCloseTo(-5, 10);
    // se = 0.03·√(1 + 1/3); t = 0.15 / se with the baseline's 2 degrees of freedom.
    const se = 0.03 * Math.sqrt(4 / 3);
    expect(d.vsBaseline.standardError).toBeCloseTo(se, 12);
    expect(d.vsBaseline.probabilityBetter).toBeCloseTo(t2Cdf(0.15 / se), 12);
    expect(d.sigma).toMatchObject({ value: 0.03, source: 'baseline', df: 2 });
    expect(d.vsReference).toBe(d.vsBaseline);
    expect(d.reason).toBe('0.15 lower than baseline (5σ), P(better)=0.98 ≥ 0.95');
    expect(d.warnings).toEqual([]);
  });

  it('flags a clear regression', () => {
    const d = decide({ candidate: [1.45] });
    expect(d.kind).toBe('regressed');
    expect(d.vsBaseline.delta).toBeCloseTo(0.15, 12);
    expect(d.vsBaseline.probabilityWorse).toBeGreaterThanOrEqual(0.95);
    expect(d.reason).toBe('0.15 higher than baseline (5σ), P(worse)=0.98 ≥ 0.95');
  });

  it('calls a difference the size of the noise within noise, even when it is lower', () => {
    const d = decide({ candidate: [1.28] });
    expect(d.kind).toBe('within-noise');
    expect(d.vsBaseline.delta).toBeLessThan(0);
    expect(d.vsBaseline.probabilityBetter).toBeCloseTo(t2Cdf(0.02 / (0.03 * Math.sqrt(4 / 3))), 12);
    expect(d.reason).toMatch(/^0\.02 lower than baseline \(0\.67σ\), P\(better\)=0\.69 < 0\.95$/);
  });

  it('does not keep a credible improvement smaller than min-improvement', () => {
    const d = decide({ candidate: [1.15], minImprovement: 0.2 });
    expect(d.vsBaseline.probabilityBetter).toBeGreaterThanOrEqual(0.95);
    expect(d.kind).toBe('within-noise');
    expect(d.reason).toContain('below min-improvement 0.2');
    expect(decide({ candidate: [1.15], minImprovement: 0.1 }).kind).toBe('improved');
  });

  it('reads higher as better for a maximized metric', () => {
    const accuracy: BaselineStats = { samples: [0.7, 0.71, 0.69], mean: 0.7, sigma: 0.01, n: 3 };
    const up = decide({ baseline: accuracy, direction: 'maximize', candidate: [0.75] });
    expect(up.kind).toBe('improved');
    expect(up.vsBaseline.delta).toBeCloseTo(0.05, 12);
    expect(up.vsBaseline.improvement).toBeCloseTo(0.05, 12);
    expect(up.reason).toMatch(/^0\.05 higher than baseline/);
    const down = decide({ baseline: accuracy, direction: 'maximize', candidate: [0.65] });
    expect(down.kind).toBe('regressed');
    expect(down.vsBaseline.improvement).toBeCloseTo(-0.05, 12);
    // The same numbers under minimize flip the verdict.
    expect(decide({ baseline: accuracy, candidate: [0.75] }).kind).toBe('regressed');
  });
});

describe('decideVerdict with a best-kept reference', () => {
  it('decides keep/discard against the reference while the headline stays against the baseline', () => {
    const d = decide({ candidate: [1.15], reference: { value: 1.16 } });
    expect(d.kind).toBe('within-noise');
    expect(d.vsReference.against).toBe('reference');
    expect(d.vsReference.delta).toBeCloseTo(-0.01, 12);
    // One reference run: se = σ·√(1 + 1).
    expect(d.vsReference.standardError).toBeCloseTo(0.03 * Math.SQRT2, 12);
    expect(d.vsBaseline.against).toBe('baseline');
    expect(d.vsBaseline.delta).toBeCloseTo(-0.15, 12);
    expect(d.vsBaseline.probabilityBetter).toBeGreaterThanOrEqual(0.95);
    expect(d.reason).toBe(
      '0.01 lower than best kept 1.16 (0.33σ), P(better)=0.58 < 0.95; ' +
        'vs baseline: 0.15 lower than baseline (5σ), P(better)=0.98',
    );
  });

  it('keeps a candidate that clearly beats the reference, whose repeats sharpen σ', () => {
    const refSamples = [1.19, 1.21];
    const d = decide({ candidate: [1.05], reference: { value: 1.2, samples: refSamples } });
    expect(d.kind).toBe('improved');
    expect(d.vsReference.referenceRuns).toBe(2);
    // Pooled by hand: (2·0.03² + 1·sd(ref)²) / 3 degrees of freedom.
    const pooled = Math.sqrt((2 * 0.03 ** 2 + sampleSd(refSamples) ** 2) / 3);
    expect(d.sigma).toMatchObject({ source: 'pooled', df: 3 });
    expect(d.sigma.value).toBeCloseTo(pooled, 12);
    expect(d.sigma.detail).toBe('pooled: baseline 3 runs + reference 2 runs (3 df)');
  });
});

describe('decideVerdict with repeated candidates and noise history', () => {
  it('pools the candidate’s own spread into σ and gains confidence from more runs', () => {
    const candidate = [1.2, 1.22];
    const d = decide({ candidate });
    const sigma = Math.sqrt((2 * 0.03 ** 2 + 1 * sampleSd(candidate) ** 2) / 3);
    expect(d.sigma).toMatchObject({ source: 'pooled', df: 3 });
    expect(d.sigma.value).toBeCloseTo(sigma, 12);
    expect(d.candidateValue).toBeCloseTo(1.21, 12);
    expect(d.candidateRuns).toBe(2);
    const se = sigma * Math.sqrt(1 / 2 + 1 / 3);
    expect(d.vsBaseline.standardError).toBeCloseTo(se, 12);
    expect(d.vsBaseline.probabilityBetter).toBeCloseTo(studentTCdf(0.09 / se, 3), 12);
    expect(d.kind).toBe('improved');
    // The same mean from one run is not enough.
    expect(decide({ candidate: [1.21] }).kind).toBe('within-noise');
  });

  it('pools earlier baselines of the runner into σ', () => {
    const d = decide({
      candidate: [1.21],
      noiseHistory: [
        { sd: 0.02, n: 3 },
        { sd: 0.04, n: 3 },
        { sd: 0, n: 1 },
      ],
    });
    expect(d.sigma.df).toBe(6);
    expect(d.sigma.value).toBeCloseTo(Math.sqrt((2 * 0.03 ** 2 + 2 * 0.02 ** 2 + 2 * 0.04 ** 2) / 6), 12);
    expect(d.sigma.detail).toBe('pooled: baseline 3 runs + 2 earlier baselines (6 runs) (6 df)');
    // More degrees of freedom, same σ-scale difference: more confident than the baseline alone.
    expect(d.vsBaseline.probabilityBetter).toBeGreaterThan(
      decide({ candidate: [1.21] }).vsBaseline.probabilityBetter,
    );
  });
});

describe('decideVerdict on degenerate σ', () => {
  it('uses a documented floor, treated as known, when the baseline has one run', () => {
    const single: BaselineStats = { samples: [1.3], mean: 1.3, sigma: 0, n: 1 };
    const d = decide({ baseline: single, candidate: [1.299] });
    const floor = DEFAULT_RELATIVE_SIGMA_FLOOR * 1.3;
    expect(d.sigma).toMatchObject({ source: 'floor', df: Number.POSITIVE_INFINITY });
    expect(d.sigma.value).toBeCloseTo(floor, 15);
    expect(d.vsBaseline.probabilityBetter).toBeCloseTo(normalCdf(0.001 / (floor * Math.SQRT2)), 12);
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/cannot be estimated from 1 baseline run.*baseline-repeats ≥ 2/);
  });

  it('uses the floor when every repeat is identical, and honours a given floor', () => {
    const flat: BaselineStats = { samples: [1.3, 1.3, 1.3], mean: 1.3, sigma: 0, n: 3 };
    const same = decide({ baseline: flat, candidate: [1.3] });
    expect(same.kind).toBe('within-noise');
    expect(same.sigma.source).toBe('floor');
    expect(same.reason).toMatch(/^equal to baseline \(0σ\)/);
    expect(same.warnings[0]).toMatch(/identical value/);
    expect(decide({ baseline: flat, candidate: [1.2999] }).kind).toBe('within-noise');
    expect(decide({ baseline: flat, candidate: [1.299] }).kind).toBe('improved');
    const wide = decide({ baseline: flat, candidate: [1.299], sigmaFloor: 0.01 });
    expect(wide.sigma.value).toBe(0.01);
    expect(wide.kind).toBe('within-noise');
  });

  it('estimates σ from the candidate when only it has repeats', () => {
    const single: BaselineStats = { samples: [], mean: 1.3, sigma: 0, n: 1 };
    const d = decide({ baseline: single, candidate: [1.2, 1.22] });
    expect(d.sigma).toMatchObject({ source: 'pooled', df: 1, detail: 'pooled: candidate 2 runs (1 df)' });
    expect(d.warnings).toEqual([]);
  });
});

describe('decideVerdict input errors', () => {
  it('names the bad field and what to do', () => {
    const cases: Array<[Partial<VerdictInput> & Pick<VerdictInput, 'candidate'>, RegExp]> = [
      [{ candidate: [] }, /candidate is empty/],
      [
        { candidate: [1.2, Number.NaN] },
        /candidate\[1\] is NaN; every measured value must be a finite number/,
      ],
      [
        { candidate: [1.2], baseline: { ...baseline, mean: Number.POSITIVE_INFINITY } },
        /baseline\.mean is Infinity/,
      ],
      [{ candidate: [1.2], baseline: { ...baseline, sigma: -0.1 } }, /baseline\.sigma is -0\.1/],
      [{ candidate: [1.2], baseline: { ...baseline, n: 0, samples: [] } }, /baseline\.n is 0/],
      [
        { candidate: [1.2], baseline: { ...baseline, n: 2 } },
        /baseline\.n is 2 but baseline\.samples holds 3 values/,
      ],
      [{ candidate: [1.2], reference: { value: Number.NaN } }, /reference\.value is NaN/],
      [
        { candidate: [1.2], reference: { value: 1.2, samples: [1.2, Number.NaN] } },
        /reference\.samples\[1\]/,
      ],
      [{ candidate: [1.2], confidence: 1 }, /confidence is 1; use a probability between 0\.5 and 1/],
      [{ candidate: [1.2], confidence: 0.4 }, /confidence is 0\.4/],
      [{ candidate: [1.2], minImprovement: -0.01 }, /minImprovement is -0\.01/],
      [{ candidate: [1.2], sigmaFloor: 0 }, /sigmaFloor is 0/],
      [{ candidate: [1.2], noiseHistory: [{ sd: Number.NaN, n: 3 }] }, /noiseHistory\[0\]\.sd is NaN/],
      [{ candidate: [1.2], direction: 'lower' as never }, /direction is lower; use 'minimize' or 'maximize'/],
    ];
    for (const [input, message] of cases) {
      expect(() => decide(input)).toThrow(VerdictInputError);
      expect(() => decide(input)).toThrow(message);
    }
  });
});

describe('shouldStopEarly', () => {
  const context: VerdictContext = { baseline, direction: 'minimize', confidence: 0.95 };

  it('stops once the runs so far are credibly worse than the baseline', () => {
    expect(shouldStopEarly([], context)).toBe(false);
    expect(shouldStopEarly([1.31], context)).toBe(false);
    expect(shouldStopEarly([1.5], context)).toBe(true);
    // A lower stop confidence ("worse than the reference so far") stops on the mild case too.
    expect(shouldStopEarly([1.31], context, 0.5)).toBe(true);
    expect(shouldStopEarly([1.29], context, 0.5)).toBe(false);
    expect(() => shouldStopEarly([1.31], context, 0.3)).toThrow(/stopConfidence is 0\.3/);
    expect(() => shouldStopEarly([Number.NaN], context)).toThrow(/candidate\[0\] is NaN/);
  });

  it('judges against the reference when there is one', () => {
    const withRef: VerdictContext = { ...context, reference: { value: 1.2 } };
    // 1.35 is within noise of the baseline (1.30) but clearly worse than the best kept 1.20.
    expect(shouldStopEarly([1.35], context)).toBe(false);
    expect(shouldStopEarly([1.35], withRef)).toBe(true);
    expect(shouldStopEarly([1.3], withRef)).toBe(false);
  });

  it('ends a repeat loop early for a regression and runs every repeat for an improvement', () => {
    const rng = createRng(11);
    const runLoop = (trueValue: number, repeats: number): number[] => {
      const samples: number[] = [];
      while (samples.length < repeats) {
        samples.push(rng.normal(trueValue, 0.03));
        if (samples.length < repeats && shouldStopEarly(samples, context)) break;
      }
      return samples;
    };
    // A 10σ regression is credibly worse after its first run; a 4σ improvement never is.
    expect(runLoop(1.6, 3)).toHaveLength(1);
    expect(runLoop(1.18, 3)).toHaveLength(3);
  });
});

describe('error rates on simulated noise', () => {
  it('keeps about 5 % of null changes at confidence 0.95 — the rate the test promises', () => {
    // 4,000 null experiments, each with its own 3-run baseline: σ is re-estimated every time.
    const rng = createRng(20260101);
    const experiments = 4_000;
    let keeps = 0;
    for (let i = 0; i < experiments; i++) {
      const samples = Array.from({ length: 3 }, () => rng.normal(1.3, 0.03));
      const b: BaselineStats = { samples, mean: mean(samples), sigma: sampleSd(samples), n: 3 };
      if (decide({ baseline: b, candidate: [rng.normal(1.3, 0.03)] }).kind === 'improved') keeps++;
    }
    // Binomial 4-SE band around 5 %: the naive rule (50 %) or a z-test with estimated σ (~12 %) fail it.
    const se = Math.sqrt((0.05 * 0.95) / experiments);
    expect(Math.abs(keeps / experiments - 0.05)).toBeLessThan(4 * se);
  });
});

describe('statusOf', () => {
  it('maps verdicts to results.tsv statuses', () => {
    expect(statusOf('improved')).toBe('keep');
    expect(statusOf('crashed')).toBe('crash');
    for (const kind of ['regressed', 'within-noise', 'not-comparable', 'no-baseline'] as const) {
      expect(statusOf(kind)).toBe('discard');
    }
  });
});

describe('the reason never prints a comparison that reads false', () => {
  it('shows enough decimals when P(better) rounds onto the confidence', () => {
    // Bisect for a candidate whose P(better) lies just below 0.95 (it would round to 0.95).
    let lo = 1.0;
    let hi = 1.3;
    let d = decide({ candidate: [1.25] });
    for (let i = 0; i < 80; i++) {
      const mid = (lo + hi) / 2;
      d = decide({ candidate: [mid] });
      if (d.vsBaseline.probabilityBetter >= 0.9496) lo = mid;
      else hi = mid;
    }
    d = decide({ candidate: [lo] });
    expect(d.vsBaseline.probabilityBetter).toBeGreaterThanOrEqual(0.9496);
    expect(d.vsBaseline.probabilityBetter).toBeLessThan(0.95);
    expect(d.kind).toBe('within-noise');
    const shown = Number(/P\(better\)=([0-9.]+) < 0\.95/.exec(d.reason)?.[1]);
    expect(shown).toBeLessThan(0.95);
  });

  it('prints the best kept value rounded as results.tsv writes it', () => {
    const d = decide({ candidate: [1.15], reference: { value: 1.7995584999999998 } });
    expect(d.reason).toContain('best kept 1.799558 ');
  });
});
