import { describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../src/state/ledger.js';
import { baselineOutlier } from '../src/verdict/policy/baseline-outliers.js';
import { DEFAULT_PRIOR, EFFECT_GRID, learnPrior, priorShares } from '../src/verdict/policy/effect-prior.js';
import { explainDecision } from '../src/verdict/policy/explain.js';
import { replayBranch } from '../src/verdict/policy/ledger-replay.js';
import {
  closeJob,
  diffuseState,
  jobLevelVariance,
  observe,
  openJob,
  predict,
} from '../src/verdict/policy/level-filter.js';
import {
  assess,
  conclude,
  controlFit,
  decide,
  defaultLoopSettings,
  jobLogEvidence,
  nextStep,
  type Run,
  startFromBaseline,
} from '../src/verdict/policy/loop-policy.js';
import { controlWorth } from '../src/verdict/policy/value-of-information.js';
import { createRng } from '../src/verdict/statistics.js';

const SIGMA = 0.015;
const settings = defaultLoopSettings(SIGMA);
const rng = createRng(11);
const baselineRuns = (level: number, n = 8, from = 0): Run[] =>
  Array.from({ length: n }, (_, i) => ({ value: level + SIGMA * rng.gaussian(), t: from + i }));
const empty = { candidate: [], controls: [] };

describe('the champion filter', () => {
  it('pools every run of the same level: the mean, with variance σ²/n', () => {
    const drift = { slopeSd: 0, levelWalkSd: 0 };
    let s = diffuseState(0, 1.6, SIGMA, drift);
    const values = [1.61, 1.59, 1.6, 1.62, 1.58];
    values.forEach((v, t) => {
      s = observe(predict(s, t, drift), v, 0, SIGMA).state;
    });
    expect(s.level).toBeCloseTo(1.6, 4);
    expect(s.pLL).toBeCloseTo(SIGMA ** 2 / 5, 7);
  });

  it('learns a steady drift from repeated runs and follows it', () => {
    const drift = { slopeSd: 0.001, levelWalkSd: 0 };
    let s = diffuseState(0, 1.6, SIGMA, drift);
    for (let t = 0; t < 200; t++) s = observe(predict(s, t, drift), 1.6 - 0.0005 * t, 0, SIGMA).state;
    expect(s.slope).toBeCloseTo(-0.0005, 5);
    expect(predict(s, 250, drift).level).toBeCloseTo(1.6 - 0.0005 * 250, 3);
  });
});

describe('job offsets', () => {
  const still = { slopeSd: 0, levelWalkSd: 0 };
  const within = SIGMA / 3.5;
  const tau2 = SIGMA ** 2 - within ** 2;

  it("a baseline in one job pins down its job's level, and the machine's level only to ±τ", () => {
    let s = openJob(diffuseState(0, 1.6, SIGMA, still), tau2);
    for (let t = 0; t < 8; t++)
      s = observe(predict(s, t, still), 1.6 + (t % 2 ? 1 : -1) * within, 0, within).state;
    expect(jobLevelVariance(s)).toBeCloseTo(within ** 2 / 8, 9);
    const after = closeJob(s);
    expect(after.pLL).toBeGreaterThan(0.9 * tau2);
    expect(after.pOO).toBe(0);
  });

  it('a control run in the candidate’s job cancels the offset: the difference is known to √2 × the noise within a job', () => {
    // The champion's level is known exactly; the job's offset is not.
    const known = { ...diffuseState(0, 1.6, SIGMA, still), pLL: 0 };
    let s = openJob(known, tau2);
    s = observe(s, 1.6 + 0.012, 0, within).state;
    // The candidate's run, under a hypothesised effect of zero: its prediction includes the offset.
    expect(s.level + s.offset).toBeCloseTo(1.6 + 0.012 * (tau2 / (tau2 + within ** 2)), 6);
    expect(jobLevelVariance(s) + within ** 2).toBeCloseTo(within ** 2 * (1 + tau2 / (tau2 + within ** 2)), 9);
    // Without the control, the same prediction is only known to √(τ² + σ_w²) = σ.
    expect(jobLevelVariance(openJob(known, tau2)) + within ** 2).toBeCloseTo(SIGMA ** 2, 9);
  });

  it('is the plain filter when jobs share nothing', () => {
    let a = diffuseState(0, 1.6, SIGMA, still);
    let b = openJob(a, 0);
    for (const [t, v] of [1.61, 1.59, 1.62].entries()) {
      a = observe(predict(a, t, still), v, 0, SIGMA).state;
      b = observe(predict(b, t, still), v, 0, SIGMA).state;
    }
    expect(closeJob(b)).toEqual(a);
  });

  /** Runs of the champion's code in one job on a machine whose jobs differ by `jobSd`. */
  const jobOn = (draw: ReturnType<typeof createRng>, jobSd: number) => (n: number, t: number) => {
    const offset = jobSd * draw.gaussian();
    return Array.from({ length: n }, (_, i) => ({
      value: 1.6 + offset + within * draw.gaussian(),
      t: t + i,
    }));
  };

  it('control runs in jobs of their own tell how much of the noise is per job', () => {
    const under = (s: number) => ({ ...defaultLoopSettings(within / Math.sqrt(1 - s)), jobShare: s });
    const [none, large] = [under(0), under(0.92)];
    // Log-likelihood ratio of a 0.92 share over none, from a baseline and six jobs of one control run each.
    const evidence = (jobSd: number) => {
      const job = jobOn(createRng(5), jobSd);
      const baseline = job(8, 0);
      let [a, b] = [startFromBaseline(baseline, none), startFromBaseline(baseline, large)];
      let ratio = 0;
      for (let k = 0; k < 6; k++) {
        const controls = { candidate: [], controls: job(1, 8 + k) };
        ratio += controlFit(b, controls, large).logLik - controlFit(a, controls, none).logLik;
        [a, b] = [conclude(a, controls, false, none), conclude(b, controls, false, large)];
      }
      return ratio;
    };
    expect(evidence(Math.sqrt(tau2))).toBeGreaterThan(Math.log(100));
    expect(evidence(0)).toBeLessThan(-Math.log(10));
  });

  it('warns in the Why section that σ is too small when the champion’s control runs in separate jobs fall far from its level', () => {
    // The default policy (no job share), σ from back-to-back baseline runs.
    const s = defaultLoopSettings(within);
    const why = (jobSd: number, controlJobs: number) => {
      const job = jobOn(createRng(8), jobSd);
      let belief = startFromBaseline(job(8, 0), s);
      for (let k = 0; k < controlJobs; k++) {
        belief = conclude(belief, { candidate: [], controls: job(1, 8 + k) }, false, s);
      }
      const candidate = { candidate: [{ value: 1.6, t: 8 + controlJobs }], controls: [] };
      return explainDecision({
        keep: false,
        assessment: assess(belief, candidate, s),
        settings: s,
        direction: 'minimize',
        metric: 'val_bpb',
        champion: { commit: 'c'.repeat(40), isBaseline: true, carriedOver: false },
        candidateRuns: 1,
        controlRuns: 0,
        priorExperiments: 0,
        nextStep: nextStep(belief, empty, 9 + controlJobs, s),
        controlFit: { jobs: belief.controlJobs, squares: belief.controlSquares },
      }).explanation.join('\n');
    };
    expect(why(Math.sqrt(tau2), 4)).toMatch(
      /σ looks too small for this machine: .* in 4 jobs since the baseline/,
    );
    expect(why(0, 4)).not.toContain('σ looks too small');
    // One job is not enough to say, however far it fell.
    expect(why(Math.sqrt(tau2) * 10, 1)).not.toContain('σ looks too small');
  });

  it('values a control in the candidate’s job by how much of the noise it cancels', () => {
    const worth = (jobShare: number) => {
      const s = { ...defaultLoopSettings(SIGMA), jobShare };
      const belief = startFromBaseline(baselineRuns(1.6), s);
      return controlWorth(belief, belief.state.pLL + jobShare * SIGMA ** 2, s);
    };
    const [none, half, most] = [worth(0), worth(0.5), worth(0.92)];
    expect(none.control).toBeLessThan(0.01 * none.fresh);
    expect(half.control).toBeGreaterThan(none.control);
    expect(most.control).toBeGreaterThan(half.control);
    // Without the control, a run is worth less: a one-job baseline knows the machine's level to ±τ.
    expect(most.fresh).toBeLessThan(none.fresh);
  });

  it('calibration runs a control in the first jobs after a baseline, then stops', () => {
    const calibrating = { ...settings, calibrationJobs: 2 };
    let belief = startFromBaseline(baselineRuns(1.6), calibrating);
    const kinds: string[] = [];
    for (let k = 0; k < 3; k++) {
      const step = nextStep(belief, empty, 8 + 2 * k, calibrating);
      kinds.push(step.kind);
      const controls = step.kind === 'run-control' ? [{ value: 1.6, t: 8 + 2 * k }] : [];
      belief = conclude(belief, { candidate: [{ value: 1.6, t: 9 + 2 * k }], controls }, false, calibrating);
    }
    expect(kinds).toEqual(['run-control', 'run-control', 'run-candidate']);
  });
});

describe('the learned prior', () => {
  it('moves toward what the evidence says: null changes raise the null share, gains the gain share', () => {
    const nulls = learnPrior(Array.from({ length: 60 }, (_, i) => ({ z: ((i % 7) - 3) * 0.3, se: 1 })));
    const gains = learnPrior(Array.from({ length: 60 }, () => ({ z: 2.5, se: 1 })));
    const base = priorShares(DEFAULT_PRIOR);
    expect(priorShares(nulls).none).toBeGreaterThan(base.none);
    expect(priorShares(gains).gain).toBeGreaterThan(0.6);
  });

  it('stays a prior when an experiment points where the prior has no weight', () => {
    // A base prior with nothing beyond ±1σ, and evidence of a 4σ gain measured to ±0.05σ: its
    // likelihood underflows to zero wherever the prior has weight.
    const narrow = EFFECT_GRID.map((d) => (Math.abs(d) <= 1 ? 1 / 9 : 0));
    const learned = learnPrior(
      [
        { z: 4, se: 0.05 },
        { z: 0, se: 1 },
      ],
      narrow,
      5,
    );
    expect(learned.every(Number.isFinite)).toBe(true);
    expect(learned.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(learned.filter((_, i) => Math.abs(EFFECT_GRID[i]!) > 1).every((w) => w === 0)).toBe(true);
  });

  it("learns from the runner's most recent experiments only, however long its ledger", () => {
    // Fixed runs: the shared generator's draws belong to the tests that follow.
    const fixed = [0.3, -0.5, 0.1, 0.8, -1.2, 0.4, -0.2, 0.3].map((z, t) => ({ value: 1.6 + z * SIGMA, t }));
    // A year of changes that helped, then a week of changes that did nothing.
    const year = Array.from({ length: 3000 }, () => ({ z: 2.5, se: 1 }));
    const week = Array.from({ length: 500 }, (_, i) => ({ z: ((i % 7) - 3) * 0.3, se: 1 }));
    const belief = startFromBaseline(fixed, settings, [...year, ...week]);
    expect(belief.evidence).toHaveLength(500);
    expect(priorShares(belief.prior).gain).toBeLessThan(priorShares(DEFAULT_PRIOR).gain);
    // Each judged experiment pushes the oldest out.
    const after = conclude(
      belief,
      { candidate: [{ value: 1.6 - 2.5 * SIGMA, t: 8 }], controls: [] },
      false,
      settings,
    );
    expect(after.evidence).toHaveLength(500);
    expect(after.evidence[0]).toBe(belief.evidence[1]);
    // With the year in memory, the prior would say most changes help.
    const everything = startFromBaseline(fixed, { ...settings, priorMemory: 4000 }, [...year, ...week]);
    expect(priorShares(everything.prior).gain).toBeGreaterThan(0.5);
    // The Why section says which experiments the prior comes from.
    const priorLine = (priorExperiments: number) =>
      explainDecision({
        keep: false,
        assessment: assess(belief, { candidate: [{ value: 1.6, t: 8 }], controls: [] }, settings),
        settings,
        direction: 'minimize',
        metric: 'val_bpb',
        champion: { commit: 'c'.repeat(40), isBaseline: true, carriedOver: false },
        candidateRuns: 1,
        controlRuns: 0,
        priorExperiments,
        nextStep: { kind: 'run-candidate', why: 'first run of the candidate' },
      }).explanation.find((line) => line.startsWith('Prior from'));
    expect(priorLine(belief.evidence.length)).toMatch(
      /^Prior from this runner's 500 most recent judged experiments \(/,
    );
    expect(priorLine(12)).toMatch(/^Prior from 12 judged experiments on this runner \(/);
  });
});

describe('the loop policy', () => {
  const belief = startFromBaseline(baselineRuns(1.6), settings);

  it('keeps a clear gain and discards a clear harm, each after one run', () => {
    const better = { candidate: [{ value: 1.6 - 4 * SIGMA, t: 8 }], controls: [] };
    expect(nextStep(belief, better, 9, settings)).toMatchObject({ kind: 'decide', keep: true });
    const worse = { candidate: [{ value: 1.6 + 4 * SIGMA, t: 8 }], controls: [] };
    const step = decide(belief, worse, settings);
    expect(step.keep).toBe(false);
    expect(step.assessment.probabilityWorse).toBeGreaterThan(0.95);
  });

  it('moves the champion by the expected gain, not to the lucky run that got it kept', () => {
    const lucky = { candidate: [{ value: 1.6 - 3 * SIGMA, t: 8 }], controls: [] };
    const { keep } = decide(belief, lucky, settings);
    expect(keep).toBe(true);
    const after = conclude(belief, lucky, true, settings);
    // Between the old champion and the run: the prior says most changes are not 3σ gains.
    expect(after.state.level).toBeGreaterThan(belief.state.level - 3 * SIGMA);
    expect(after.state.level).toBeLessThan(belief.state.level);
  });

  it('follows a change far beyond the prior grid (tens of σ on a quiet machine) all the way', () => {
    const huge = { candidate: [{ value: belief.state.level - 40 * SIGMA, t: 8 }], controls: [] };
    const { keep, assessment } = decide(belief, huge, settings);
    expect(keep).toBe(true);
    expect(assessment.expectedGain).toBeGreaterThan(35);
    const after = conclude(belief, huge, true, settings);
    expect(after.state.level).toBeCloseTo(belief.state.level - 40 * SIGMA, 2);
    // The next change, a little worse than the kept one, is not kept against a stale champion.
    const worse = { candidate: [{ value: belief.state.level - 36 * SIGMA, t: 9 }], controls: [] };
    expect(decide(after, worse, settings).keep).toBe(false);
  });

  it('asks for a control run of the champion when its level is poorly known, and not otherwise', () => {
    expect(nextStep(belief, empty, 8, settings).kind).toBe('run-candidate');
    const vague = { ...belief, state: { ...belief.state, pLL: 2 * SIGMA ** 2 } };
    expect(nextStep(vague, empty, 8, settings).kind).toBe('run-control');
    const measured = { candidate: [], controls: [{ value: 1.6, t: 8 }] };
    expect(assess(vague, measured, settings).champion.sd).toBeLessThan(Math.sqrt(2) * SIGMA);
  });

  it('runs the candidate a third time only when two runs leave the decision on the edge', () => {
    const still = startFromBaseline(
      [0.3, -0.5, 0.1, 0.8, -1.2, 0.4, -0.2, 0.3].map((z, t) => ({ value: 1.6 + z * SIGMA, t })),
      settings,
    );
    const runs = (...gains: number[]) => ({
      candidate: gains.map((g, i) => ({ value: still.state.level - g * SIGMA, t: 8 + i })),
      controls: [],
    });
    // Two runs 1σ better: P(better) sits near the 30 % the keep rule asks for.
    const edge = runs(1, 1);
    expect(decide(still, edge, settings).assessment.probabilityBetter).toBeCloseTo(0.3, 1);
    expect(nextStep(still, edge, 10, settings).kind).toBe('run-candidate');
    expect(nextStep(still, edge, 10, { ...settings, maxCandidateRuns: 2 }).kind).toBe('decide');
    // Off the edge, two runs decide.
    expect(nextStep(still, runs(1, 0), 10, settings).kind).toBe('decide');
    expect(nextStep(still, runs(1, 2.5), 10, settings).kind).toBe('decide');
  });

  it('runs the candidate at least `minCandidateRuns` times unless it is clearly worse', () => {
    const twice = { ...settings, minCandidateRuns: 2 };
    const close = { candidate: [{ value: 1.6, t: 8 }], controls: [] };
    expect(nextStep(belief, close, 9, twice).kind).toBe('run-candidate');
    const bad = { candidate: [{ value: 1.6 + 5 * SIGMA, t: 8 }], controls: [] };
    expect(nextStep(belief, bad, 9, twice)).toMatchObject({ kind: 'decide', keep: false });
  });
});

describe('how well a belief explains a job', () => {
  it('favours the σ that runs of the champion were drawn with; candidate runs cannot tell σ from small effects', () => {
    const values = Array.from({ length: 40 }, () => 1.6 + SIGMA * rng.gaussian());
    const evidence = (sigma: number, as: 'controls' | 'candidate') => {
      const s = defaultLoopSettings(sigma);
      let belief = startFromBaseline(baselineRuns(1.6), s);
      let total = 0;
      values.forEach((value, i) => {
        const run = [{ value, t: 8 + i }];
        const job = as === 'controls' ? { candidate: [], controls: run } : { candidate: run, controls: [] };
        total += jobLogEvidence(belief, job, s);
        belief = conclude(belief, job, false, s);
      });
      return total;
    };
    expect(evidence(SIGMA, 'controls')).toBeGreaterThan(evidence(SIGMA / 2, 'controls'));
    expect(evidence(SIGMA, 'controls')).toBeGreaterThan(evidence(SIGMA * 2, 'controls'));
    // Null changes judged as candidates are explained as well by half the σ and a spread of small
    // effects: why the σ-learning probe in the loop benchmark drifts low.
    expect(evidence(SIGMA / 2, 'candidate')).toBeGreaterThan(evidence(SIGMA, 'candidate') - 1);
  });

  it("finds a run at the champion's level likelier than one 10σ away", () => {
    const belief = startFromBaseline(baselineRuns(1.6), settings);
    const near = jobLogEvidence(belief, { candidate: [{ value: 1.6, t: 8 }], controls: [] }, settings);
    const far = jobLogEvidence(
      belief,
      { candidate: [{ value: 1.6 + 10 * SIGMA, t: 8 }], controls: [] },
      settings,
    );
    expect(near).toBeGreaterThan(far + 5);
  });
});

describe('replaying the ledger', () => {
  const base = (date: string, level: number) => ({
    samples: baselineRuns(level).map((r) => r.value),
    date,
    commit: `base-${date.slice(8, 10)}`,
    trainBlob: 'b'.repeat(40),
  });
  const record = (at: string, status: 'keep' | 'discard', values: number[], commit: string) => ({
    at,
    keyHash: 'k',
    trainBlob: commit.padEnd(40, '0'),
    status,
    commit,
    branch: 'autoresearch/x',
    mode: 'experiment' as const,
    verdict: status === 'keep' ? ('improved' as const) : ('within-noise' as const),
    loop: { runs: values.map((value) => ({ kind: 'candidate' as const, value })) },
  });

  it('rebuilds the same belief as concluding the jobs one by one', () => {
    const first = base('2026-03-01T00:00:00.000Z', 1.6);
    const records = [
      record('2026-03-01T01:00:00.000Z', 'keep', [1.55], 'c1'),
      record('2026-03-01T02:00:00.000Z', 'discard', [1.58], 'c2'),
    ];
    const replayed = replayBranch({
      baselines: [first],
      records,
      branch: 'autoresearch/x',
      direction: 'minimize',
      settings,
    });
    let direct = startFromBaseline(
      first.samples.map((value, t) => ({ value, t })),
      settings,
    );
    direct = conclude(direct, { candidate: [{ value: 1.55, t: 8 }], controls: [] }, true, settings);
    direct = conclude(direct, { candidate: [{ value: 1.58, t: 9 }], controls: [] }, false, settings);
    expect(replayed.belief.state.level).toBeCloseTo(direct.state.level, 12);
    expect(replayed.now).toBe(10);
    expect(replayed.champion.commit).toBe('c1');
    expect(replayed.carried).toBe(false);
  });

  it('carries a kept champion over a re-baseline and re-measures it first', () => {
    const records = [record('2026-03-01T01:00:00.000Z', 'keep', [1.5], 'c1')];
    const replayed = replayBranch({
      baselines: [base('2026-03-01T00:00:00.000Z', 1.6), base('2026-03-02T00:00:00.000Z', 1.7)],
      records,
      branch: 'autoresearch/x',
      direction: 'minimize',
      settings,
    });
    expect(replayed.carried).toBe(true);
    expect(replayed.champion.commit).toBe('c1');
    // Its advantage over the old baseline is kept, on top of the new baseline's level.
    expect(replayed.belief.state.level).toBeLessThan(1.7);
    expect(nextStep(replayed.belief, empty, replayed.now, settings).kind).toBe('run-control');
  });

  it("starts a new branch from the baseline's code, with the prior the runner's other branches taught", () => {
    // An earlier night on another branch: 90 experiments, most of them clearly worse.
    const earlier = Array.from({ length: 90 }, (_, k) => {
      const value = 1.6 + (k % 3 === 0 ? 0 : 2 * SIGMA) + 0.3 * SIGMA * rng.gaussian();
      const z = (1.6 - value) / SIGMA;
      return {
        ...record(
          `2026-03-01T${String(1 + Math.floor(k / 60)).padStart(2, '0')}:${String(k % 60).padStart(2, '0')}:00.000Z`,
          'discard',
          [value],
          `e${k}`,
        ),
        branch: 'autoresearch/earlier',
        loop: { runs: [{ kind: 'candidate' as const, value }], evidence: { z, se: 1.05 } },
      };
    });
    const replay = (records: LedgerRecord[]) =>
      replayBranch({
        baselines: [base('2026-03-01T00:00:00.000Z', 1.6)],
        records,
        branch: 'autoresearch/tonight',
        direction: 'minimize',
        settings,
      });
    const tonight = replay(earlier);
    expect(tonight.champion.commit).toBe('base-01');
    expect(tonight.judged).toBe(0);
    // Time counts every run on the machine, the other branch's too.
    expect(tonight.now).toBe(8 + 90);
    // The other branch's evidence taught the prior that most changes here do harm.
    expect(priorShares(tonight.belief.prior).harm).toBeGreaterThan(priorShares(DEFAULT_PRIOR).harm + 0.2);
    expect(
      replay(earlier.map(({ loop, ...r }) => ({ ...r, loop: { runs: loop.runs } }))).belief.prior,
    ).toEqual(DEFAULT_PRIOR);
    // 90 runs after the baseline, a drift the filter allows could have moved the machine by more
    // than the policy judges against: the first job re-measures the baseline's code.
    const first = nextStep(tonight.belief, empty, tonight.now, settings);
    expect(first).toMatchObject({ kind: 'run-control' });
    expect(first.kind === 'run-control' && first.why).toContain(
      '90 training runs on this machine since the last run of its code or of a change to it',
    );
    expect(nextStep(replay([]).belief, empty, 8, settings).kind).toBe('run-candidate');
  });

  it('ignores a superseded baseline and results that were not judged on their values', () => {
    const replayed = replayBranch({
      baselines: [base('2026-03-01T00:00:00.000Z', 1.6)],
      records: [
        { ...record('2026-03-01T01:00:00.000Z', 'keep', [1.2], 'b'), mode: 'baseline' as const },
        { ...record('2026-03-01T02:00:00.000Z', 'keep', [1.3], 'n'), verdict: 'no-baseline' as const },
      ],
      branch: 'autoresearch/x',
      direction: 'minimize',
      settings,
    });
    expect(replayed.judged).toBe(0);
    expect(replayed.champion.commit).toBe('base-01');
  });
});

describe('baseline outliers', () => {
  it('finds one run far from the others and nothing in ordinary noise', () => {
    const runs = [1.6, 1.61, 1.59, 1.605, 1.595, 1.6, 1.61, 1.59];
    expect(baselineOutlier(runs)).toBeUndefined();
    expect(baselineOutlier([...runs.slice(0, 7), 1.6 + 5 * 0.01])).toBe(7);
    expect(baselineOutlier([1.6, 1.7, 1.5])).toBeUndefined();
  });
});
