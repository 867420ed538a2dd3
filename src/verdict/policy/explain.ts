/**
 * The loop policy's decision in plain words: what the champion is and how well it is measured,
 * the expected gain and its uncertainty, whether drift was corrected for, and what the next job
 * will do first. Numbers go back to metric units and the metric's own direction.
 */
import type { Direction, LoopDecisionView } from '../../model.js';
import type { Assessment, LoopSettings, Step } from './loop-policy.js';

/** What {@link explainDecision} needs. */
export interface ExplainInput {
  keep: boolean;
  assessment: Assessment;
  settings: LoopSettings;
  direction: Direction;
  metric: string;
  champion: { commit: string; isBaseline: boolean; carriedOver: boolean };
  candidateRuns: number;
  controlRuns: number;
  /** Why this job ran the champion's code before the candidate (the first control run's reason). */
  controlReason?: string;
  /** Experiments whose evidence the prior learned from (the most recent `settings.priorMemory` at most). */
  priorExperiments: number;
  /** What the policy would do first in the next job. */
  nextStep: Step;
  /** Why control runs were wanted but not made (e.g. the champion's blob is not in the checkout). */
  controlProblem?: string;
  /** Control runs since the baseline: in how many jobs, and their squared distances from the expected level, in sd. */
  controlFit?: { jobs: number; squares: number };
}

/**
 * Control runs this far from the expected level on average (mean square, in sd²) mean σ is
 * understated: with 2 jobs a correct σ gets there 1 time in 400.
 */
const UNDERSTATED_SIGMA = 6;

/** The warning when the champion's control runs say σ is too small, or undefined. */
function understatedSigma(fit: ExplainInput['controlFit']): string | undefined {
  if (!fit || fit.jobs < 2 || fit.squares / fit.jobs <= UNDERSTATED_SIGMA) return undefined;
  const rms = Math.sqrt(fit.squares / fit.jobs);
  return `σ looks too small for this machine: the champion's control runs in ${fit.jobs} jobs since the baseline fell ${rms.toFixed(1)} standard deviations from its expected level on average (about 1 if σ were right). Runs in separate jobs vary more than the baseline's back-to-back runs, so keeps are less certain than they read; see "Changes that do nothing are kept" in docs/troubleshooting.md.`;
}

/** Builds the report's decision section. */
export function explainDecision(input: ExplainInput): LoopDecisionView {
  const { assessment: a, settings, metric } = input;
  const sigma = settings.sigma;
  const sign = input.direction === 'minimize' ? 1 : -1;
  const championValue = sign * a.champion.level;
  const gain = a.expectedGain * sigma;
  const gainSd = a.gainSd * sigma;
  const who = input.champion.isBaseline
    ? 'the baseline code'
    : `the champion ${input.champion.commit.slice(0, 7)} (the last kept experiment)`;
  const measured = [
    input.controlRuns > 0
      ? `re-measured by ${input.controlRuns} control run${input.controlRuns === 1 ? '' : 's'} in this job`
      : 'from every earlier run of its lineage',
    input.champion.carriedOver
      ? 'carried over from the previous baseline and re-judged against the new one'
      : '',
  ].filter(Boolean);
  const pct = (p: number) => `${Math.round(p * 100)} %`;
  const amount = (x: number) => fmt(Math.abs(x));
  const better = input.direction === 'minimize' ? 'lower' : 'higher';
  const warning = understatedSigma(input.controlFit);
  const lines = [
    // The control run's reason stays on this line: the Why section's lines keep their number.
    `Judged against ${who}: ${metric} ${fmt(championValue, 6)} ± ${amount(a.champion.sd * 1)} now (${(a.champion.sd / sigma).toFixed(2)}σ), ${measured.join(', ')}.${input.controlReason ? ` The control run was made because ${input.controlReason}.` : ''}`,
    `Expected gain of this change: ${gain >= 0 ? '' : '−'}${amount(gain)} ${metric} (${a.expectedGain >= 0 ? '+' : '−'}${Math.abs(a.expectedGain).toFixed(2)}σ, ${gain >= 0 ? better : 'worse'}) ± ${amount(gainSd)} from ${input.candidateRuns} run${input.candidateRuns === 1 ? '' : 's'}; P(better) ${pct(a.probabilityBetter)}, P(worse) ${pct(a.probabilityWorse)}, σ = ${fmt(sigma)}.`,
    input.keep
      ? `Kept: the expected gain is positive${settings.minProbabilityBetter > 0 ? ` and P(better) ≥ ${pct(settings.minProbabilityBetter)}` : ''}. Over a night a kept change that does nothing costs little, while a real gain thrown away is lost for good; the champion moves by the expected gain, not by this run's value.`
      : `Discarded: ${a.expectedGain <= settings.margin + settings.minGain / sigma ? 'the expected gain is not positive' : `P(better) ${pct(a.probabilityBetter)} is below ${pct(settings.minProbabilityBetter)}`}. Build the next change on the champion.`,
    `Drift: the machine's level moves by ${a.drift.slope * sign >= 0 ? '+' : '−'}${amount(a.drift.slope)} per run (± ${amount(a.drift.sd)}), estimated from every run since the baseline and corrected for.`,
    `Prior from ${priorSource(input.priorExperiments, input.settings.priorMemory)} (with a cautious default): ${pct(a.priorShares.gain)} of changes help, ${pct(a.priorShares.none)} do nothing, ${pct(a.priorShares.harm)} hurt.`,
    ...(input.controlProblem ? [`No control run: ${input.controlProblem}.`] : []),
    ...(warning ? [warning] : []),
  ];
  const next =
    input.nextStep.kind === 'run-control'
      ? `The next job will first run the champion once more: ${input.nextStep.why}.`
      : 'The next job runs its candidate straight away: the champion is known well enough.';
  return {
    rule: 'loop',
    kept: input.keep,
    champion: {
      commit: input.champion.commit,
      value: championValue,
      sd: a.champion.sd,
      controlRuns: input.controlRuns,
      carriedOver: input.champion.carriedOver,
    },
    expectedGain: gain,
    gainSd,
    expectedGainSigma: a.expectedGain,
    probabilityBetter: a.probabilityBetter,
    probabilityWorse: a.probabilityWorse,
    candidateRuns: input.candidateRuns,
    drift: { perRun: a.drift.slope * sign, sd: a.drift.sd },
    next,
    explanation: [...lines, next],
  };
}

/** Two significant digits (six decimals for levels): 0.041 on a Mac and 0.00034 on an H100 both read well. */
function fmt(x: number, decimals?: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (decimals !== undefined) return x.toFixed(decimals);
  if (x === 0) return '0';
  return String(Number(x.toPrecision(2)));
}

/** Where the prior comes from: the runner's judged experiments, the most recent only once it has more. */
function priorSource(experiments: number, memory: number): string {
  if (experiments >= memory) return `this runner's ${memory} most recent judged experiments`;
  return `${experiments} judged experiment${experiments === 1 ? '' : 's'} on this runner`;
}
