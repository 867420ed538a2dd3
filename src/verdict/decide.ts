/**
 * The verdict: is a candidate's metric truly better than the reference, or is the difference the
 * noise of re-running the same code? A one-sided Student-t test on the difference of means, with
 * the noise σ pooled from every group of repeats that measured it (see docs/verdict-statistics.md
 * for why this test and not a z-test, Welch or a bootstrap).
 */
import type { Direction } from '../model.js';
import { mean, pooledSd, type Spread, sampleSd, studentTCdf } from './statistics.js';
import { checkInput, VerdictInputError } from './verdict-input.js';

export { VerdictInputError } from './verdict-input.js';

/** The runner's stored baseline: repeats of the unchanged code. */
export interface BaselineStats {
  /** The individual repeats; when present they must be `n` finite values. May be empty if only the summary was stored. */
  samples: readonly number[];
  /** Mean of the repeats. */
  mean: number;
  /** Sample standard deviation of the repeats (0 or ignored when n < 2). */
  sigma: number;
  /** Number of repeats. */
  n: number;
}

/** The keep/discard reference when it is not the baseline: the best kept result of the branch. */
export interface ReferenceStats {
  /** The reference's value (the mean of its repeats). */
  value: number;
  /** Its repeats, when known; their count sets how exact `value` is (one run when absent). */
  samples?: readonly number[];
}

/** What the comparisons are made of (everything but the candidate's own measurements). */
export interface VerdictContext {
  baseline: BaselineStats;
  /** Best kept result on the branch; absent → keep/discard is decided against the baseline. */
  reference?: ReferenceStats;
  direction: Direction;
  /** Required posterior probability of being better (or worse), strictly between 0.5 and 1, e.g. 0.95. */
  confidence: number;
  /**
   * Earlier baselines of the same runner and protocol (each one group of repeats of one code
   * version). Their spreads are pooled into σ: the noise level is a property of the machine and
   * the protocol, so every past repeat group is evidence about it.
   */
  noiseHistory?: readonly Spread[];
  /**
   * σ to use when the repeats cannot estimate one (fewer than two runs, or identical values).
   * Default: {@link DEFAULT_RELATIVE_SIGMA_FLOOR} × |baseline mean|.
   */
  sigmaFloor?: number;
}

/** Everything {@link decideVerdict} needs. */
export interface VerdictInput extends VerdictContext {
  /** The candidate's repeats (at least one finite value). */
  candidate: readonly number[];
  /** Smallest improvement, in metric units, worth a keep (0 = any credible improvement). */
  minImprovement: number;
}

/** One comparison of the candidate's mean against a reference value. */
export interface Comparison {
  /** What was compared against. */
  against: 'baseline' | 'reference';
  /** The reference value used. */
  referenceValue: number;
  /** How many runs the reference value is the mean of. */
  referenceRuns: number;
  /**
   * candidate − reference, in metric units: the raw change of the metric, so for val_bpb a negative
   * delta reads "val_bpb went down by …" exactly as the numbers are written in results.tsv.
   */
  delta: number;
  /** The same change signed by direction: positive means better, whatever the direction. */
  improvement: number;
  /** `delta` in units of the single-run noise σ (same sign as `delta`). */
  deltaSigma: number;
  /** Standard error of the difference: σ·√(1/n_candidate + 1/n_reference). */
  standardError: number;
  /** Posterior probability (flat priors) that the candidate's true value is better than the reference's. */
  probabilityBetter: number;
  /** 1 − probabilityBetter: the probability it is truly worse. */
  probabilityWorse: number;
}

/** Where σ came from. */
export type SigmaSource =
  /** The baseline's repeats alone. */
  | 'baseline'
  /** Baseline repeats pooled with other repeat groups (candidate, reference, earlier baselines). */
  | 'pooled'
  /** No usable estimate: the floor was used and treated as known. */
  | 'floor';

/** The single-run noise σ the verdict used. */
export interface SigmaEstimate {
  value: number;
  source: SigmaSource;
  /** Degrees of freedom of the estimate (`Infinity` for the floor, which is treated as known). */
  df: number;
  /** Human note on what was pooled, e.g. "pooled: baseline 3 runs + candidate 2 runs (3 df)". */
  detail: string;
}

/** The verdict of one experiment. */
export interface Decision {
  /** Keep/discard outcome against the reference (the best kept result, else the baseline). */
  kind: 'improved' | 'regressed' | 'within-noise';
  /** The candidate's value: the mean of its repeats. */
  candidateValue: number;
  /** How many repeats the candidate value rests on. */
  candidateRuns: number;
  /** Headline comparison against the runner's baseline. */
  vsBaseline: Comparison;
  /** The comparison that decided `kind` (equal to `vsBaseline` when no reference was given). */
  vsReference: Comparison;
  sigma: SigmaEstimate;
  /** One line a person reads, e.g. "0.041 lower than baseline (2.3σ), P(better)=0.99 ≥ 0.95". */
  reason: string;
  /** Things the reader should know, e.g. that σ is a floor because the baseline has one run. */
  warnings: string[];
}

/**
 * Default σ floor relative to the baseline mean. 1e-4 × val_bpb ≈ 1e-4 is the noise of the most
 * deterministic setups seen (an H100 re-run moves val_bpb by a few 1e-4) and far above print
 * resolution (6 decimals); on a Mac the real noise is ~100× larger, so a floor σ makes the verdict
 * over-confident — hence the warning it carries.
 */
export const DEFAULT_RELATIVE_SIGMA_FLOOR = 1e-4;

/**
 * Decides whether the candidate improved on the reference, regressed, or stayed within noise.
 * `improved` needs P(better) ≥ confidence and an improvement ≥ minImprovement; `regressed` needs
 * P(worse) ≥ confidence; anything else is `within-noise`. Throws {@link VerdictInputError} on bad input.
 */
export function decideVerdict(input: VerdictInput): Decision {
  checkInput(input);
  const ctx = resolveContext(input, input.candidate);
  const { vsBaseline, vsReference, sigma } = ctx;
  const credible = vsReference.probabilityBetter >= input.confidence;
  const bigEnough = vsReference.improvement >= input.minImprovement;
  const kind: Decision['kind'] =
    credible && bigEnough
      ? 'improved'
      : vsReference.probabilityWorse >= input.confidence
        ? 'regressed'
        : 'within-noise';
  return {
    kind,
    candidateValue: ctx.candidateValue,
    candidateRuns: input.candidate.length,
    vsBaseline,
    vsReference,
    sigma,
    reason: explain(kind, input, vsBaseline, vsReference, credible),
    warnings: ctx.warnings,
  };
}

/**
 * Fail-fast between repeats: true once the runs so far are credibly worse than the reference,
 * P(worse) ≥ `stopConfidence` (default: the decision's confidence), so the remaining repeats
 * would be wasted. Stopping only ever removes possible keeps, so it cannot raise the false-keep
 * rate; a lower `stopConfidence` (down to 0.5: "the runs so far are worse than the reference")
 * saves more runs at a small cost in power. An empty list never stops.
 */
export function shouldStopEarly(
  samplesSoFar: readonly number[],
  context: VerdictContext,
  stopConfidence: number = context.confidence,
): boolean {
  if (!(stopConfidence >= 0.5 && stopConfidence < 1)) {
    throw new VerdictInputError(
      `fail-fast stopConfidence is ${stopConfidence}; use a probability from 0.5 (inclusive) to 1 (exclusive)`,
    );
  }
  if (samplesSoFar.length === 0) return false;
  const input: VerdictInput = { ...context, candidate: samplesSoFar, minImprovement: 0 };
  checkInput(input);
  return resolveContext(input, samplesSoFar).vsReference.probabilityWorse >= stopConfidence;
}

interface Resolved {
  candidateValue: number;
  vsBaseline: Comparison;
  vsReference: Comparison;
  sigma: SigmaEstimate;
  warnings: string[];
}

function resolveContext(input: VerdictInput, candidate: readonly number[]): Resolved {
  const warnings: string[] = [];
  const sigma = estimateSigma(input, candidate, warnings);
  const candidateValue = mean(candidate);
  const compare = (
    against: Comparison['against'],
    referenceValue: number,
    referenceRuns: number,
  ): Comparison => {
    const delta = candidateValue - referenceValue;
    const improvement = input.direction === 'minimize' ? -delta : delta;
    const standardError = sigma.value * Math.sqrt(1 / candidate.length + 1 / referenceRuns);
    const probabilityBetter = studentTCdf(improvement / standardError, sigma.df);
    return {
      against,
      referenceValue,
      referenceRuns,
      delta,
      improvement,
      deltaSigma: delta / sigma.value,
      standardError,
      probabilityBetter,
      probabilityWorse: 1 - probabilityBetter,
    };
  };
  const vsBaseline = compare('baseline', input.baseline.mean, input.baseline.n);
  const reference = input.reference;
  const vsReference =
    reference === undefined
      ? vsBaseline
      : compare('reference', reference.value, Math.max(1, reference.samples?.length ?? 1));
  return { candidateValue, vsBaseline, vsReference, sigma, warnings };
}

/**
 * σ of a single run. Every group of repeats measures the same machine noise, so the baseline's
 * spread is pooled with the candidate's (≥ 2 runs), the reference's (≥ 2 runs) and earlier
 * baselines': more degrees of freedom, a tighter t-distribution, more power at the same error rate.
 */
function estimateSigma(input: VerdictInput, candidate: readonly number[], warnings: string[]): SigmaEstimate {
  const { baseline } = input;
  const runs = (n: number): string => `${n} run${n === 1 ? '' : 's'}`;
  const groups: Spread[] = [{ sd: baseline.sigma, n: baseline.n }];
  const used: string[] = baseline.n >= 2 ? [`baseline ${runs(baseline.n)}`] : [];
  if (candidate.length >= 2) {
    groups.push({ sd: sampleSd(candidate), n: candidate.length });
    used.push(`candidate ${runs(candidate.length)}`);
  }
  const refSamples = input.reference?.samples ?? [];
  if (refSamples.length >= 2) {
    groups.push({ sd: sampleSd(refSamples), n: refSamples.length });
    used.push(`reference ${runs(refSamples.length)}`);
  }
  const history = (input.noiseHistory ?? []).filter((g) => g.n >= 2);
  if (history.length > 0) {
    groups.push(...history);
    const total = history.reduce((sum, g) => sum + g.n, 0);
    used.push(`${history.length} earlier baseline${history.length === 1 ? '' : 's'} (${runs(total)})`);
  }
  const pooled = pooledSd(groups);

  if (pooled.df > 0 && pooled.sd > 0) {
    const onlyBaseline = used.length === 1 && baseline.n >= 2;
    return {
      value: pooled.sd,
      source: onlyBaseline ? 'baseline' : 'pooled',
      df: pooled.df,
      detail: `${onlyBaseline ? 'from' : 'pooled:'} ${used.join(' + ')} (${pooled.df} df)`,
    };
  }
  const floor = input.sigmaFloor ?? Math.max(DEFAULT_RELATIVE_SIGMA_FLOOR * Math.abs(baseline.mean), 1e-12);
  const why =
    pooled.df === 0
      ? `σ cannot be estimated from ${baseline.n} baseline run${baseline.n === 1 ? '' : 's'}`
      : 'every repeat gave the identical value (σ = 0)';
  const advice =
    pooled.df === 0
      ? 'verdicts may be over-confident; run the baseline with baseline-repeats ≥ 2 (3 or more recommended)'
      : 'the training looks deterministic, so differences above the floor count as real';
  warnings.push(`${why}; using the floor σ = ${formatAmount(floor)}, treated as known: ${advice}.`);
  return { value: floor, source: 'floor', df: Number.POSITIVE_INFINITY, detail: `floor (${why})` };
}

function explain(
  kind: Decision['kind'],
  input: VerdictInput,
  vsBaseline: Comparison,
  vsReference: Comparison,
  credible: boolean,
): string {
  // The words carry the direction ("lower"), so σ is shown unsigned: "0.041 lower than baseline (2.3σ)".
  const describe = (c: Comparison, name: string): string =>
    c.delta === 0
      ? `equal to ${name} (0σ)`
      : `${formatAmount(Math.abs(c.delta))} ${c.delta < 0 ? 'lower' : 'higher'} than ${name} (${formatAmount(
          Math.abs(c.deltaSigma),
        )}σ)`;
  // The reference value as results.tsv prints it (6 decimals), not its float artefacts.
  const refName =
    vsReference.against === 'baseline'
      ? 'baseline'
      : `best kept ${Number(vsReference.referenceValue.toFixed(6))}`;
  const confidence = input.confidence;
  const pBetter = vsReference.probabilityBetter;
  let decision: string;
  if (kind === 'improved') {
    decision = `P(better)${formatProbability(pBetter, confidence)} ≥ ${confidence}`;
  } else if (kind === 'regressed') {
    decision = `P(worse)${formatProbability(vsReference.probabilityWorse, confidence)} ≥ ${confidence}`;
  } else if (credible) {
    decision = `P(better)${formatProbability(pBetter)}, but below min-improvement ${input.minImprovement}`;
  } else {
    decision = `P(better)${formatProbability(pBetter, confidence)} < ${confidence}`;
  }
  const headline =
    vsReference === vsBaseline
      ? ''
      : `; vs baseline: ${describe(vsBaseline, 'baseline')}, P(better)${formatProbability(vsBaseline.probabilityBetter)}`;
  return `${describe(vsReference, refName)}, ${decision}${headline}`;
}

/** Two significant digits: deltas of 0.041 on a Mac and 0.00034 on an H100 both read well. */
function formatAmount(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return String(Number(x.toPrecision(2)));
}

/**
 * "=0.97"; three decimals near the ends so 0.999 does not print as 1.00, and ">0.999" beyond.
 * Compared with a `threshold`, more decimals are shown until the printed value sits on the same
 * side of it as the true one: 0.9496 prints as 0.9496 < 0.95, never as 0.95 < 0.95.
 */
function formatProbability(p: number, threshold?: number): string {
  if (p > 0.999 && !(threshold !== undefined && threshold > 0.999)) return '>0.999';
  if (p < 0.001) return '<0.001';
  const two = p.toFixed(2);
  let digits = two === '1.00' || two === '0.00' ? 3 : 2;
  if (threshold !== undefined) {
    const above = p >= threshold;
    while (digits < 8 && Number(p.toFixed(digits)) >= threshold !== above) digits += 1;
  }
  return `=${p.toFixed(digits)}`;
}
