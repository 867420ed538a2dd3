/**
 * Whole nights of the autoresearch loop: an agent proposes a change to the kept code, the judge
 * keeps or discards it, the next change builds on the kept code, until a budget of training runs
 * (baselines, repeats and control runs included) is spent. Every policy sees the same nights:
 * the same proposals (true effects, in σ) and the same noise for the n-th training run of the night.
 *
 * Policies: the oracle (knows every true effect), the ceiling (knows the effect mix and the
 * champion's true level, one run per experiment, keeps on positive expected gain), naive greedy
 * (keep if lower than the last kept run), `decision: strict` (the one-sided t-test against the best
 * kept run, `decideVerdict`) and `decision: loop` (src/verdict/policy, the default), on a runner's
 * first night (its baseline paid from the budget) and on a later night (the baseline and the prior
 * replayed from the ledger of an earlier night, as the action starts a new branch). Both real
 * policies run the code the action runs.
 *
 * Env: LOOP_NIGHTS (200), LOOP_BUDGET (100); LOOP_MIXES, LOOP_NOISES pick cells by index.
 * Probes of what limits the policy (docs/verdict-statistics.md, "What it would take"):
 * - LOOP_VARIANTS: the loop policy with other settings, or told what a real runner cannot know
 *   (`knowsMix`: the true effect mix as its prior; `trueSigma`; `peek`: the kept code's true level,
 *   to ±peek·σ, after each keep), or on a later night (`laterNight`; `ledgerPrior: false` forgets
 *   what the earlier night taught the prior);
 * - LOOP_FRONTIER=0,0.3: the ceiling holding its keeps to P(better) ≥ p, with and without the
 *   baseline's runs;
 * - LOOP_SIGMA_LEARNING=3: σ learned through the night from a k-run baseline;
 * - LOOP_SPREAD_BASELINE=5+3: a baseline of 5 runs in one job and 3 in jobs of their own;
 * - LOOP_SHARE=0,2: the share of the noise that is per job learned from control runs, after k
 *   calibration jobs (told it instead: LOOP_VARIANTS with `trueSigma` and `jobShare`);
 * - LOOP_ONLY_VARIANTS=1 drops the standard rows but the oracle.
 */
import { INPUT_DEFAULTS } from '../src/settings/inputs.js';
import type { LedgerRecord } from '../src/state/ledger.js';
import { decideVerdict } from '../src/verdict/decide.js';
import { baselineOutlier } from '../src/verdict/policy/baseline-outliers.js';
import { EFFECT_GRID, mixturePrior } from '../src/verdict/policy/effect-prior.js';
import { replayBranch, type StoredBaseline } from '../src/verdict/policy/ledger-replay.js';
import {
  assess,
  type ChampionBelief,
  conclude,
  controlFit,
  decide,
  defaultLoopSettings,
  type JobRuns,
  jobLogEvidence,
  type LoopSettings,
  nextStep,
  type Run,
  startFromBaseline,
} from '../src/verdict/policy/loop-policy.js';
import { createRng, mean, type Rng, sampleSd } from '../src/verdict/statistics.js';

const NIGHTS = Number(process.env['LOOP_NIGHTS'] ?? 200);
const BUDGET = Number(process.env['LOOP_BUDGET'] ?? 100);
const SIGMA = 0.015;
const START = 1.6;
const BASELINE_RUNS = Number(INPUT_DEFAULTS['baseline-repeats']);
const CONFIDENCE = Number(INPUT_DEFAULTS.confidence);

/** An effect mix: the true effect of a proposal in σ, positive = better. */
interface Mix {
  name: string;
  draw(rng: Rng): number;
  /** Density of the continuous part and the null share, for the ceiling's exact posterior. */
  density(d: number): number;
  nullShare: number;
}

const uniform = (rng: Rng, a: number, b: number) => a + (b - a) * rng.uniform();
const box = (d: number, a: number, b: number, share: number) => (d >= a && d <= b ? share / (b - a) : 0);

const OPTIMISTIC: Mix = {
  name: 'optimistic',
  draw: (rng) => {
    const u = rng.uniform();
    return u < 0.2 ? uniform(rng, 1, 3) : u < 0.6 ? 0 : -uniform(rng, 0.5, 3);
  },
  density: (d) => box(d, 1, 3, 0.2) + box(d, -3, -0.5, 0.4),
  nullShare: 0.4,
};
const HARSH: Mix = {
  name: 'harsh',
  draw: (rng) => {
    const u = rng.uniform();
    return u < 0.1 ? uniform(rng, 0.5, 2) : u < 0.6 ? 0 : -uniform(rng, 0, 1);
  },
  density: (d) => box(d, 0.5, 2, 0.1) + box(d, -1, 0, 0.4),
  nullShare: 0.5,
};
const ALL_NULL: Mix = { name: 'all null', draw: () => 0, density: () => 0, nullShare: 1 };

/** How the machine measures: noise shape, drift per run (metric units), one outlier baseline run. */
interface Noise {
  name: string;
  draw(rng: Rng): number;
  driftPerRun: number;
  outlier: boolean;
  /**
   * Share of the noise's variance that is per job (shared by the runs of one job, new for each):
   * what the real example shows, where 8 back-to-back baseline runs see a quarter of the σ that
   * runs in separate jobs do (docs/benchmarks.md, "Real noise").
   */
  jobShare?: number;
}

const GAUSSIAN: Noise = { name: 'Gaussian', draw: (rng) => rng.gaussian(), driftPerRun: 0, outlier: false };
const NOISES: Noise[] = [
  GAUSSIAN,
  { name: 'Student-t 3 df', draw: studentT3, driftPerRun: 0, outlier: false },
  { name: 'outlier baseline run +5σ', draw: (rng) => rng.gaussian(), driftPerRun: 0, outlier: true },
  { name: 'drift −0.0005/run', draw: (rng) => rng.gaussian(), driftPerRun: -0.0005, outlier: false },
  { name: 'drift +0.0005/run', draw: (rng) => rng.gaussian(), driftPerRun: 0.0005, outlier: false },
  {
    name: 'job offsets (baseline sees σ/3.5)',
    draw: (rng) => rng.gaussian(),
    driftPerRun: 0,
    outlier: false,
    jobShare: 0.92,
  },
];

/** Student-t with 3 df scaled to unit variance (a t₃ has variance 3). */
function studentT3(rng: Rng): number {
  const z = rng.gaussian();
  let chi = 0;
  for (let i = 0; i < 3; i++) chi += rng.gaussian() ** 2;
  return z / Math.sqrt(chi / 3) / Math.sqrt(3);
}

/** One night's draws, shared by every policy. */
interface Night {
  effects: number[];
  noise: number[];
  /** Each job's offset, for a noise with a per-job share. */
  jobNoise: number[];
  outlierAt: number;
  scenario: { mix: Mix; noise: Noise };
  seed: number;
}

function drawNight(mix: Mix, noise: Noise, seed: number): Night {
  const effects = createRng(seed);
  const runs = createRng(seed + 7_777_777);
  return {
    effects: Array.from({ length: BUDGET + 1 }, () => mix.draw(effects)),
    noise: Array.from({ length: BUDGET + 20 }, () => noise.draw(runs)),
    jobNoise: ((jobs) => Array.from({ length: BUDGET + 20 }, () => jobs.gaussian()))(
      createRng(seed + 3_333_333),
    ),
    outlierAt: Math.floor(effects.uniform() * BASELINE_RUNS),
    scenario: { mix, noise },
    seed,
  };
}

/** The machine of one night: measures code of a given true value, counts the budget. */
class Machine {
  /** Runs made this night. */
  t = 0;
  private job = 0;
  /** @param before runs the machine made before this night (its drift kept going through them) */
  constructor(
    private readonly night: Night,
    private readonly before = 0,
  ) {}
  get left(): number {
    return BUDGET - this.t;
  }
  /** The runner's time: its training runs so far, earlier nights included. */
  get now(): number {
    return this.before + this.t;
  }
  /** The runs from here on belong to a new job (a new offset, for a noise with a per-job share). */
  startJob(): this {
    this.job++;
    return this;
  }
  /** One training run of code whose true value is `truth`; `baselineIndex` marks a baseline run. */
  run(truth: number, baselineIndex?: number): number {
    const { noise } = this.night.scenario;
    const outlier =
      noise.outlier && baselineIndex !== undefined && baselineIndex === this.night.outlierAt % BASELINE_RUNS
        ? 5 * SIGMA
        : 0;
    const share = noise.jobShare ?? 0;
    const draw =
      share === 0
        ? this.night.noise[this.t]!
        : Math.sqrt(1 - share) * this.night.noise[this.t]! +
          Math.sqrt(share) * this.night.jobNoise[this.job]!;
    const value = truth + noise.driftPerRun * this.now + SIGMA * draw + outlier;
    this.t++;
    return value;
  }
}

interface NightResult {
  gain: number;
  harmfulKeeps: number;
  nullKeeps: number;
  experiments: number;
  experimentRuns: number;
}

/** Tracks the true champion as experiments are kept. */
class Loop {
  champion = START;
  result: NightResult = { gain: 0, harmfulKeeps: 0, nullKeeps: 0, experiments: 0, experimentRuns: 0 };
  constructor(readonly night: Night) {}
  effect(k: number): number {
    return this.night.effects[k]!;
  }
  candidate(k: number): number {
    return this.champion - this.effect(k) * SIGMA;
  }
  judged(k: number, keep: boolean, runs: number): void {
    this.result.experiments++;
    this.result.experimentRuns += runs;
    if (!keep) return;
    const e = this.effect(k);
    if (e < 0) this.result.harmfulKeeps++;
    if (e === 0) this.result.nullKeeps++;
    this.champion = this.candidate(k);
  }
  finish(): NightResult {
    return { ...this.result, gain: (START - this.champion) / SIGMA };
  }
}

type Policy = (night: Night) => NightResult;

const oracle: Policy = (night) => {
  const loop = new Loop(night);
  for (let k = 0; k < BUDGET; k++) loop.judged(k, loop.effect(k) > 0, 1);
  return loop.finish();
};

/**
 * Knows the mix and the champion's level exactly; one run; keeps when E[effect | run] > 0 and, for
 * the frontier rows, P(better | run) ≥ `minBetter`. `skip` training runs go first (a baseline that
 * tells it nothing it does not know).
 */
function ceilingPolicy(minBetter = 0, skip = 0): Policy {
  return (night) => {
    const loop = new Loop(night);
    const machine = new Machine(night);
    const { mix } = night.scenario;
    for (let i = 0; i < skip; i++) machine.run(loop.champion, i);
    for (let k = 0; machine.left > 0; k++) {
      const level = loop.champion + night.scenario.noise.driftPerRun * machine.now;
      const z = (level - machine.startJob().run(loop.candidate(k))) / SIGMA;
      const posterior = effectPosterior(mix, z);
      loop.judged(k, posterior.mean > 0 && posterior.better >= minBetter, 1);
    }
    return loop.finish();
  };
}
const ceiling = ceilingPolicy();

/** The exact posterior mean of the effect and P(effect > 0), given one run's z against the true champion. */
function effectPosterior(mix: Mix, z: number): { mean: number; better: number } {
  const phi = (x: number) => Math.exp(-0.5 * x * x);
  let num = 0;
  let better = 0;
  let den = mix.nullShare * phi(z);
  for (let d = -4; d <= 4; d += 0.01) {
    const w = mix.density(d) * 0.01 * phi(z - d);
    num += w * d;
    den += w;
    if (d > 0) better += w;
  }
  return den === 0 ? { mean: 0, better: 0 } : { mean: num / den, better: better / den };
}

/** Naive greedy: one baseline run, then keep whatever comes out lower than the last kept run. */
const greedy: Policy = (night) => {
  const loop = new Loop(night);
  const machine = new Machine(night);
  let reference = machine.run(loop.champion, 0);
  for (let k = 0; machine.left > 0; k++) {
    const y = machine.startJob().run(loop.candidate(k));
    const keep = y < reference;
    if (keep) reference = y;
    loop.judged(k, keep, 1);
  }
  return loop.finish();
};

/** `decision: strict`: the action's one-sided t-test against the best kept run (decideVerdict). */
const strict: Policy = (night) => {
  const loop = new Loop(night);
  const machine = new Machine(night);
  const base = Array.from({ length: BASELINE_RUNS }, (_, i) => machine.run(loop.champion, i));
  const baseline = { samples: base, mean: mean(base), sigma: sampleSd(base), n: base.length };
  let best: number | undefined;
  for (let k = 0; machine.left > 0; k++) {
    const y = machine.startJob().run(loop.candidate(k));
    const decision = decideVerdict({
      baseline,
      ...(best !== undefined && best < baseline.mean ? { reference: { value: best } } : {}),
      direction: 'minimize',
      confidence: CONFIDENCE,
      candidate: [y],
      minImprovement: 0,
    });
    const keep = decision.kind === 'improved';
    if (keep && (best === undefined || y < best)) best = y;
    loop.judged(k, keep, 1);
  }
  return loop.finish();
};

/** `decision: loop` (the default): src/verdict/policy driving every run of the night. */
function loopPolicy(
  tune: (s: LoopSettings) => LoopSettings = (s) => s,
  baselineRuns = BASELINE_RUNS,
  told: { mix?: boolean; peek?: number } = {},
): Policy {
  return (night) => {
    const loop = new Loop(night);
    const machine = new Machine(night);
    const baseline = baselineJob(machine, loop.champion, baselineRuns, true);
    const tuned = tune(defaultLoopSettings(sampleSd(baseline.map((r) => r.value))));
    const settings = told.mix ? toldMix(tuned, night.scenario.mix) : tuned;
    followBaseline(loop, machine, baseline, settings, {
      adjust: (belief, keep) => {
        // Design probe: told the kept code's true level (to ±`peek`σ) after each keep.
        if (!keep || told.peek === undefined) return belief;
        const level = loop.champion + night.scenario.noise.driftPerRun * machine.now;
        return { ...belief, state: { ...belief.state, level, pLL: (told.peek * SIGMA) ** 2, pLS: 0 } };
      },
    });
    return loop.finish();
  };
}

/**
 * The night after a baseline: one belief, started from the baseline's runs and concluded job by
 * job. `judged` sees each job with the belief it was judged on; `adjust` may change the belief after.
 */
function followBaseline(
  loop: Loop,
  machine: Machine,
  baseline: readonly Run[],
  settings: LoopSettings,
  hooks: {
    judged?: (before: ChampionBelief, job: JobRuns, keep: boolean) => void;
    adjust?: (belief: ChampionBelief, keep: boolean) => ChampionBelief;
  } = {},
): void {
  let belief = startFromBaseline(baseline, settings);
  driveJobs(
    loop,
    machine,
    () => ({ belief, settings }),
    (job, keep) => {
      hooks.judged?.(belief, job, keep);
      const after = conclude(belief, job, keep, settings);
      belief = hooks.adjust ? hooks.adjust(after, keep) : after;
    },
  );
}

/**
 * Runs the night's jobs until the budget is spent: each job follows `lead()` (a belief and its
 * settings) step by step, as the action's job does, and `concluded` learns its outcome.
 */
function driveJobs(
  loop: Loop,
  machine: Machine,
  lead: () => { belief: ChampionBelief; settings: LoopSettings },
  concluded: (job: JobRuns, keep: boolean) => void,
): void {
  for (let k = 0; machine.left > 0; k++) {
    const job = { candidate: [] as Run[], controls: [] as Run[] };
    machine.startJob();
    const { belief, settings } = lead();
    for (;;) {
      const step =
        machine.left > 0 ? nextStep(belief, job, machine.now, settings) : decide(belief, job, settings);
      if (step.kind === 'decide') {
        if (job.candidate.length > 0) loop.judged(k, step.keep, job.candidate.length + job.controls.length);
        concluded(job, step.keep);
        break;
      }
      const truth = step.kind === 'run-control' ? loop.champion : loop.candidate(k);
      const run = { t: machine.now, value: machine.run(truth) };
      (step.kind === 'run-control' ? job.controls : job.candidate).push(run);
    }
    if (job.candidate.length === 0) break;
  }
}

/**
 * `decision: loop` on a later night of an established runner, started the way the action starts a
 * new branch: the runner's ledger holds its baseline and an earlier night (another branch, the same
 * kind of proposals, the same policy from that fresh baseline), and `replayBranch` builds the
 * belief from them: the baseline's level and σ, and the prior learned from the earlier night's
 * experiments (unless `ledgerPrior` is false; `knowsMix` tells both nights the true mix instead).
 * The baseline is not run again, so the night's budget goes to experiments and to the control runs
 * the policy asks for (the machine may have drifted).
 */
function laterNightPolicy(
  tuned: (s: LoopSettings) => LoopSettings = (s) => s,
  opts: { ledgerPrior?: boolean; knowsMix?: boolean } = {},
): Policy {
  return (night) => {
    const tune = opts.knowsMix ? (s: LoopSettings) => toldMix(tuned(s), night.scenario.mix) : tuned;
    const earlier = earlierNight(
      drawNight(night.scenario.mix, night.scenario.noise, night.seed + 55_555),
      tune,
    );
    const settings = tune(defaultLoopSettings(sampleSd(earlier.baseline.samples)));
    let { belief } = replayBranch({
      baselines: [earlier.baseline],
      records:
        opts.ledgerPrior === false
          ? earlier.records.map(({ loop, ...r }) => (loop ? { ...r, loop: { runs: loop.runs } } : r))
          : earlier.records,
      branch: 'autoresearch/tonight',
      direction: 'minimize',
      settings,
    });
    const loop = new Loop(night);
    const machine = new Machine(night, earlier.runs);
    driveJobs(
      loop,
      machine,
      () => ({ belief, settings }),
      (job, keep) => {
        belief = conclude(belief, job, keep, settings);
      },
    );
    return loop.finish();
  };
}

/** A runner's first night as its ledger keeps it: the baseline, and one record per judged experiment. */
function earlierNight(
  night: Night,
  tune: (s: LoopSettings) => LoopSettings,
): { baseline: StoredBaseline; records: LedgerRecord[]; runs: number } {
  const loop = new Loop(night);
  const machine = new Machine(night);
  const runs = baselineJob(machine, loop.champion, BASELINE_RUNS, true);
  const settings = tune(defaultLoopSettings(sampleSd(runs.map((r) => r.value))));
  const day = Date.parse('2026-01-01T00:00:00Z');
  const records: LedgerRecord[] = [];
  followBaseline(loop, machine, runs, settings, {
    judged: (belief, job, keep) => {
      if (job.candidate.length === 0) return;
      const inOrder = [
        ...job.controls.map((r) => ({ ...r, kind: 'control' as const })),
        ...job.candidate.map((r) => ({ ...r, kind: 'candidate' as const })),
      ].sort((a, b) => a.t - b.t);
      const evidence = assess(belief, job, settings).evidence;
      records.push({
        at: new Date(day + 1000 * (records.length + 1)).toISOString(),
        keyHash: 'runner',
        trainBlob: `experiment-${records.length}`,
        status: keep ? 'keep' : 'discard',
        mode: 'experiment',
        branch: 'autoresearch/earlier',
        verdict: keep ? 'improved' : 'within-noise',
        loop: {
          runs: inOrder.map(({ kind, value }) => ({ kind, value })),
          ...(evidence ? { evidence: { ...evidence } } : {}),
        },
      });
    },
  });
  const baseline = {
    samples: runs.map((r) => r.value),
    date: new Date(day).toISOString(),
    commit: 'baseline',
  };
  return { baseline, records, runs: machine.now };
}

/**
 * Design probe: a baseline spread over jobs. `inJob` runs in one job, then `apart` single runs each
 * in a job of its own; σ for the night is what a run in a new job varies by: from the apart runs'
 * deviations from the in-job mean (E[d²] = 2τ² + (1 + 1/inJob)σ_w², where τ is the job offset and
 * σ_w the in-job noise), never less than σ_w.
 */
function spreadBaselinePolicy(inJob: number, apart: number): Policy {
  return (night) => {
    const loop = new Loop(night);
    const machine = new Machine(night);
    const first = baselineJob(machine, loop.champion, inJob, true);
    const others: Run[] = [];
    for (let i = 0; i < apart; i++)
      others.push({ t: machine.startJob().now, value: machine.run(loop.champion) });
    const within = sampleSd(first.map((r) => r.value));
    const centre = mean(first.map((r) => r.value));
    const d2 = mean(others.map((r) => (r.value - centre) ** 2));
    const between = Math.sqrt(Math.max(within ** 2, d2 / 2 + (within ** 2 * (1 - 1 / inJob)) / 2));
    followBaseline(loop, machine, [...first, ...others], defaultLoopSettings(between));
    return loop.finish();
  };
}

/**
 * The baseline job: `runs` runs of the baseline code. Like the action's, it may set aside one run
 * far from the others and run once more.
 */
function baselineJob(machine: Machine, truth: number, runs: number, replaceOutlier: boolean): Run[] {
  const baseline: Run[] = [];
  for (let i = 0; i < runs; i++) baseline.push({ t: machine.now, value: machine.run(truth, i) });
  const outlier = replaceOutlier ? baselineOutlier(baseline.map((r) => r.value)) : undefined;
  if (outlier !== undefined) {
    baseline.splice(outlier, 1);
    baseline.push({ t: machine.now, value: machine.run(truth) });
  }
  return baseline;
}

/** Settings told the true mix as a prior that evidence does not move (a design probe). */
function toldMix(settings: LoopSettings, mix: Mix): LoopSettings {
  return { ...settings, basePrior: gridPrior(mix), pseudoCount: 1e6 };
}

/** The mix on the policy's grid (for the design variant that is told the mix). */
function gridPrior(mix: Mix): number[] {
  const w = EFFECT_GRID.map((d) => {
    if (d === 0) return mix.nullShare;
    let mass = 0;
    for (let x = d - 0.125; x < d + 0.125; x += 0.005) mass += mix.density(x + 0.0025) * 0.005;
    return mass;
  });
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / total);
}

/**
 * Design probe: σ learned through the night. One belief per σ on a grid around the baseline's
 * estimate, each weighted by how well it explained every run so far; the job follows the best.
 */
function sigmaLearningPolicy(baselineRuns: number): Policy {
  return (night) => {
    const loop = new Loop(night);
    const machine = new Machine(night);
    const baseline = baselineJob(machine, loop.champion, baselineRuns, false);
    const values = baseline.map((r) => r.value);
    const s0 = values.length > 1 ? Math.max(sampleSd(values), 1e-6) : SIGMA;
    const m = mean(values);
    const ss = values.reduce((a, v) => a + (v - m) ** 2, 0);
    const models = Array.from({ length: 13 }, (_, j) => {
      const sigma = s0 * Math.exp(-1.5 + (3 * j) / 12);
      const settings = defaultLoopSettings(sigma);
      return {
        settings,
        belief: startFromBaseline(baseline, settings),
        logEv: -(values.length - 1) * Math.log(sigma) - ss / (2 * sigma * sigma),
      };
    });
    followMostProbable(loop, machine, models, jobLogEvidence);
    return loop.finish();
  };
}

/**
 * Runs the night under several models at once: each job follows the one with the highest log
 * evidence, and every model learns each job's `evidence` (computed on its belief before the job)
 * and its outcome.
 */
function followMostProbable(
  loop: Loop,
  machine: Machine,
  models: Array<{ settings: LoopSettings; belief: ChampionBelief; logEv: number }>,
  evidence: (belief: ChampionBelief, job: JobRuns, settings: LoopSettings) => number,
): void {
  driveJobs(
    loop,
    machine,
    () => models.reduce((a, b) => (b.logEv > a.logEv ? b : a)),
    (job, keep) => {
      for (const model of models) {
        model.logEv += evidence(model.belief, job, model.settings);
        model.belief = conclude(model.belief, job, keep, model.settings);
      }
    },
  );
}

/** Job offsets with variance 0, 1, 3, 9 and 27 times the noise within a job, as shares of σ². */
const JOB_SHARES = [0, 1 / 2, 3 / 4, 9 / 10, 27 / 28];
/** No job offsets as likely as all the others together. */
const SHARE_PRIOR = JOB_SHARES.map((s) => (s === 0 ? 1 / 2 : 1 / 8));

/**
 * Design probe: the job share learned through the night. The policy runs under each share of
 * JOB_SHARES (σ from the baseline's spread is the noise within a job; σ of a run in a job of its
 * own follows from the share), and the job follows the share that the control runs make most
 * probable (`controlFit`): runs of the champion's code in jobs of their own. A candidate's runs
 * never vote: its unknown effect absorbs any offset. The first `calibrationJobs` jobs after the
 * baseline run a control, so that there is something to learn from.
 */
function shareLearningPolicy(calibrationJobs: number): Policy {
  return (night) => {
    const loop = new Loop(night);
    const machine = new Machine(night);
    const baseline = baselineJob(machine, loop.champion, BASELINE_RUNS, true);
    const within = defaultLoopSettings(sampleSd(baseline.map((r) => r.value)));
    const models = JOB_SHARES.map((jobShare, i) => {
      const scale = 1 / Math.sqrt(1 - jobShare);
      const settings: LoopSettings = {
        ...within,
        sigma: within.sigma * scale,
        jobShare,
        calibrationJobs,
        drift: { slopeSd: within.drift.slopeSd * scale, levelWalkSd: within.drift.levelWalkSd * scale },
      };
      return { settings, belief: startFromBaseline(baseline, settings), logEv: Math.log(SHARE_PRIOR[i]!) };
    });
    followMostProbable(
      loop,
      machine,
      models,
      (belief, job, settings) => controlFit(belief, job, settings).logLik,
    );
    return loop.finish();
  };
}

interface Summary {
  gain: number;
  harmfulKeeps: number;
  nullKeeps: number;
  experiments: number;
  runsPerExperiment: number;
  nullKeepShare: number;
}

function summarise(policy: Policy, mix: Mix, noise: Noise, seedBase: number): Summary {
  const results: NightResult[] = [];
  for (let i = 0; i < NIGHTS; i++) results.push(policy(drawNight(mix, noise, seedBase + i * 101)));
  const avg = (f: (r: NightResult) => number) => results.reduce((a, r) => a + f(r), 0) / results.length;
  const experiments = avg((r) => r.experiments);
  return {
    gain: avg((r) => r.gain),
    harmfulKeeps: avg((r) => r.harmfulKeeps),
    nullKeeps: avg((r) => r.nullKeeps),
    experiments,
    runsPerExperiment: avg((r) => r.experimentRuns) / experiments,
    nullKeepShare: avg((r) => r.nullKeeps) / experiments,
  };
}

const POLICIES: Array<[string, Policy]> = [
  ['oracle', oracle],
  ['ceiling (knows mix and champion)', ceiling],
  ['naive greedy', greedy],
  ['decision: strict', strict],
  ['**decision: loop (default)**', loopPolicy()],
  ['**decision: loop, a later night**', laterNightPolicy()],
].filter((_, i) => !process.env['LOOP_ONLY_VARIANTS'] || i === 0) as Array<[string, Policy]>;
for (const spec of (process.env['LOOP_SPREAD_BASELINE'] ?? '').split(',').filter(Boolean)) {
  const [inJob, apart] = spec.split('+').map(Number) as [number, number];
  POLICIES.push([
    `loop, baseline of ${inJob} runs + ${apart} in jobs of their own`,
    spreadBaselinePolicy(inJob, apart),
  ]);
}
if (process.env['LOOP_SHARE']) {
  for (const k of process.env['LOOP_SHARE'].split(',').map(Number))
    POLICIES.push([`loop, job share learned, ${k} calibration jobs`, shareLearningPolicy(k)]);
}
for (const k of (process.env['LOOP_SIGMA_LEARNING'] ?? '').split(',').filter(Boolean).map(Number))
  POLICIES.push([`loop, σ learned, ${k}-run baseline`, sigmaLearningPolicy(k)]);
// The frontier: the ceiling holding its keeps to P(better) ≥ p, with and without an 8-run baseline.
// LOOP_FRONTIER=0,0.3,0.5
for (const p of (process.env['LOOP_FRONTIER'] ?? '').split(',').filter(Boolean).map(Number)) {
  POLICIES.push([`ceiling, P(better) ≥ ${p}`, ceilingPolicy(p)]);
  POLICIES.push([
    `ceiling after ${BASELINE_RUNS} baseline runs, P(better) ≥ ${p}`,
    ceilingPolicy(p, BASELINE_RUNS),
  ]);
}
// Design variants: LOOP_VARIANTS='[{"name":"no controls","maxControls":0,"prior":[0.6,0.3,3]}]'
// (prior = null share, harm share, range in σ of the base prior).
for (const variant of JSON.parse(process.env['LOOP_VARIANTS'] ?? '[]') as Array<Record<string, unknown>>) {
  const {
    name,
    prior,
    driftScale,
    sigmaScale,
    trueSigma,
    baseline,
    knowsMix,
    peek,
    laterNight,
    ledgerPrior,
    ...overrides
  } = variant as {
    name: string;
    /** Run as a later night of an established runner (no baseline run; see laterNightPolicy). */
    laterNight?: boolean;
    /** For a later night: false forgets what the earlier night taught the prior. */
    ledgerPrior?: boolean;
    knowsMix?: boolean;
    peek?: number;
    baseline?: number;
    prior?: [number, number, number, number?];
    driftScale?: number;
    sigmaScale?: number;
    trueSigma?: boolean;
  } & Partial<LoopSettings>;
  const tune = (s: LoopSettings): LoopSettings => ({
    ...s,
    ...overrides,
    ...(sigmaScale ? { sigma: s.sigma * sigmaScale } : {}),
    ...(trueSigma ? { sigma: SIGMA } : {}),
    ...(prior
      ? {
          basePrior: mixturePrior({
            nullShare: prior[0],
            harmShare: prior[1],
            range: prior[2],
            from: prior[3] ?? 0,
          }),
        }
      : {}),
    ...(driftScale === undefined
      ? {}
      : {
          drift: { slopeSd: s.drift.slopeSd * driftScale, levelWalkSd: s.drift.levelWalkSd * driftScale },
        }),
  });
  if (laterNight && (peek !== undefined || baseline !== undefined))
    throw new Error(`LOOP_VARIANTS "${name}": peek and baseline do not apply to a later night`);
  POLICIES.push([
    `loop, ${name}`,
    laterNight
      ? laterNightPolicy(tune, {
          ...(ledgerPrior === undefined ? {} : { ledgerPrior }),
          ...(knowsMix ? { knowsMix } : {}),
        })
      : loopPolicy(tune, baseline, {
          ...(knowsMix ? { mix: true } : {}),
          ...(peek === undefined ? {} : { peek }),
        }),
  ]);
}
const pick = <T>(all: T[], env: string): T[] =>
  process.env[env] ? process.env[env].split(',').map((i) => all[Number(i)]!) : all;

const fmt = (x: number, d = 1) => x.toFixed(d);
const pct = (x: number) => `${Math.round(x * 100)} %`;
const started = Date.now();
console.log(
  `${NIGHTS} nights per cell, ${BUDGET} training runs per night (baselines, repeats and control runs included), σ = ${SIGMA}; every policy sees the same draws.\n`,
);
for (const [mi, mix] of [OPTIMISTIC, HARSH].entries()) {
  if (!pick([0, 1], 'LOOP_MIXES').includes(mi)) continue;
  console.log(`### ${mix.name} mix\n`);
  console.log(
    '| policy | noise | gain (σ) | share of oracle | harmful keeps / night | null keeps / night | experiments | runs / experiment |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const [ni, noise] of NOISES.entries()) {
    if (!pick([0, 1, 2, 3, 4, 5], 'LOOP_NOISES').includes(ni)) continue;
    const seed = 1_000_000 * (mi + 1) + 10_000 * ni;
    const reference = summarise(oracle, mix, noise, seed).gain;
    for (const [name, policy] of POLICIES) {
      const s = summarise(policy, mix, noise, seed);
      console.log(
        `| ${name} | ${noise.name} | ${fmt(s.gain)} | ${pct(s.gain / reference)} | ${fmt(s.harmfulKeeps, 2)} | ${fmt(s.nullKeeps, 2)} | ${fmt(s.experiments, 0)} | ${fmt(s.runsPerExperiment, 2)} |`,
      );
    }
  }
  console.log('');
}
console.log('### all-null night (every change does nothing): share of experiments kept\n');
const nullNoises = NOISES.filter((_, ni) => pick([0, 1, 2, 3, 4, 5], 'LOOP_NOISES').includes(ni));
console.log(`| policy | ${nullNoises.map((n) => n.name).join(' | ')} |`);
console.log(`|---|${nullNoises.map(() => '---:').join('|')}|`);
for (const [name, policy] of POLICIES.filter(([n]) => n !== 'oracle' && !n.startsWith('ceiling'))) {
  // Seeded by the noise model's place in NOISES, so a run of some columns reproduces the full table's.
  const cells = nullNoises.map((noise) =>
    pct(summarise(policy, ALL_NULL, noise, 9_000_000 + NOISES.indexOf(noise)).nullKeepShare),
  );
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
