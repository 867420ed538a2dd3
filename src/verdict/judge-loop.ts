/**
 * `decision: loop` inside one job: the branch's champion is rebuilt from the ledger, then the
 * policy decides run by run (a control run of the champion, the candidate, the candidate again)
 * under one hold of the machine lock, and gives the job its final keep or discard.
 */
import type { LoopDecisionView, TrainingRun } from '../model.js';
import { readChampionFile, restoreInterruptedSwap, withFileSwapped } from '../run/champion-file.js';
import { type BaselineEntry, readBaselines } from '../state/baselines.js';
import type { LedgerRecord } from '../state/ledger.js';
import { DEFAULT_RELATIVE_SIGMA_FLOOR, type Decision, type VerdictContext } from './decide.js';
import type { JobRequest, PreparedJob } from './job.js';
import { explainDecision } from './policy/explain.js';
import { replayBranch, type StoredBaseline, type StoredRun } from './policy/ledger-replay.js';
import { conclude, defaultLoopSettings, type JobRuns, nextStep, type Run } from './policy/loop-policy.js';
import { pooledSd } from './statistics.js';

/** What the loop job produced. */
export interface LoopJobResult {
  /** Every run in the order it ran (candidate and control runs). */
  runs: TrainingRun[];
  /** The candidate's runs. */
  candidateRuns: TrainingRun[];
  /** The candidate's values (metric units). */
  samples: number[];
  /** The candidate's first crashed run, if any: the job ends as a crash. */
  crashed?: TrainingRun;
  /** Set when the candidate was judged. */
  keep?: boolean;
  decision?: LoopDecisionView;
  /** The ledger's `loop` field. */
  ledger: NonNullable<LedgerRecord['loop']>;
  notes: string[];
}

/** Runs and decides one experiment with the loop policy. */
export async function judgeWithLoop(opts: {
  job: PreparedJob;
  req: JobRequest;
  /** Every baseline of the key, oldest first (the last is the current one). */
  baselines: readonly BaselineEntry[];
  /** The key's ledger records, oldest first. */
  records: readonly LedgerRecord[];
  /** The run-to-run noise σ (pooled over the runner's history), metric units. */
  sigma: number;
}): Promise<LoopJobResult> {
  const { job, req } = opts;
  const { protocol, settings } = job;
  const direction = protocol.primary.direction;
  const loss = (v: number) => (direction === 'minimize' ? v : -v);
  const policy = {
    ...defaultLoopSettings(opts.sigma, settings.minImprovement),
    // `repeats` asks for that many candidate runs (fail-fast still stops a clearly worse one).
    minCandidateRuns: settings.repeats,
    stopConfidence: settings.confidence,
  };
  policy.maxCandidateRuns = Math.max(policy.maxCandidateRuns, settings.repeats);
  const stored: StoredBaseline[] = opts.baselines.map((b) => ({
    samples: b.samples,
    date: b.date,
    commit: b.commit,
    ...(b.trainBlob ? { trainBlob: b.trainBlob } : {}),
  }));
  const replay = replayBranch({
    baselines: stored,
    records: opts.records,
    branch: req.commit.branch,
    direction,
    settings: policy,
  });
  let t = replay.now;
  const belief = replay.belief;
  const jobRuns: { candidate: Run[]; controls: Run[] } = { candidate: [], controls: [] };
  const result: LoopJobResult = { runs: [], candidateRuns: [], samples: [], ledger: { runs: [] }, notes: [] };
  const record = (kind: StoredRun['kind'], value: number) => {
    (kind === 'control' ? jobRuns.controls : jobRuns.candidate).push({ value: loss(value), t: t++ });
    result.ledger.runs.push({ kind, value });
  };
  // Control runs need the champion's one experiment file; several files cannot be swapped as one.
  const files = protocol.allowedGlobs.filter((g) => !/[*?[\]{}]/.test(g));
  let maxControls = policy.maxControls;
  let controlProblem: string | undefined;
  const stopControls = (why: string) => {
    controlProblem = why;
    maxControls = jobRuns.controls.length;
  };

  let step = nextStep(belief, jobRuns, t, { ...policy, maxControls });
  // Why the job measured the champion first, for the Why section.
  let controlReason: string | undefined;
  await job.session(async (runOnce) => {
    const restored = await restoreInterruptedSwap(settings.stateDir);
    if (restored) result.notes.push(`restored ${restored}, left swapped by an interrupted control run`);
    while (step.kind !== 'decide') {
      if (step.kind === 'run-control') {
        if (files.length !== 1) {
          stopControls(
            'the protocol allows several experiment files, so the champion cannot be put back as one',
          );
        } else {
          const file = await readChampionFile({
            workdir: req.workdir,
            blob: replay.champion.trainBlob,
            commands: req.commands,
          });
          if ('missing' in file) stopControls(file.missing);
          else {
            req.log(`Control run: ${step.why}`);
            controlReason ??= step.why;
            const run = await withFileSwapped(
              { stateDir: settings.stateDir, workdir: req.workdir, file: files[0]!, contents: file.contents },
              () =>
                runOnce(
                  `control ${jobRuns.controls.length + 1} (champion ${replay.champion.commit.slice(0, 7)})`,
                ),
            );
            result.runs.push(run);
            const value = run.summary.primary;
            if (run.outcome.status === 'crash' || value === null) {
              stopControls("the champion's control run did not produce a value");
            } else record('control', value);
          }
        }
      } else {
        if (jobRuns.candidate.length > 0 && jobRuns.candidate.length >= settings.repeats) req.log(step.why);
        const k = jobRuns.candidate.length + 1;
        const run = await runOnce(
          `${k}/${settings.repeats}${k > settings.repeats ? ' (one more: the decision is close)' : ''}`,
        );
        result.runs.push(run);
        result.candidateRuns.push(run);
        const value = run.summary.primary;
        if (run.outcome.status === 'crash' || value === null) {
          result.crashed = run;
          return;
        }
        result.samples.push(value);
        record('candidate', value);
      }
      step = nextStep(belief, jobRuns, t, { ...policy, maxControls });
    }
  });
  if (result.crashed || step.kind !== 'decide') return result;
  if (jobRuns.candidate.length < settings.repeats) {
    req.log(
      `Stopping after ${jobRuns.candidate.length} run(s): the candidate is already clearly worse than the champion.`,
    );
  }

  const after = conclude(belief, jobRuns as JobRuns, step.keep, policy);
  const evidence = step.assessment.evidence;
  if (evidence) result.ledger.evidence = { z: evidence.z, se: evidence.se };
  result.keep = step.keep;
  result.decision = explainDecision({
    keep: step.keep,
    assessment: step.assessment,
    settings: policy,
    direction,
    metric: protocol.primary.name,
    champion: {
      commit: replay.champion.commit,
      isBaseline: replay.champion.record === undefined,
      carriedOver: replay.carried,
    },
    candidateRuns: jobRuns.candidate.length,
    controlRuns: jobRuns.controls.length,
    ...(controlReason && jobRuns.controls.length > 0 ? { controlReason } : {}),
    priorExperiments: belief.evidence.length,
    nextStep: nextStep(after, { candidate: [], controls: [] }, t, policy),
    ...(controlProblem ? { controlProblem } : {}),
    // The runs since the baseline, this job's included.
    controlFit: { jobs: after.controlJobs, squares: after.controlSquares },
  });
  return result;
}

/** Every baseline of a key, oldest first (the current one last). */
export async function baselinesOf(stateDir: string, keyHash: string): Promise<BaselineEntry[]> {
  const record = (await readBaselines(stateDir)).keys[keyHash];
  return record ? [...record.history, record.current] : [];
}

/**
 * The σ the loop policy works with: the baseline's spread pooled with the runner's earlier
 * repeat groups, as the strict test pools it (or the floor when nothing can be pooled).
 */
export function loopSigma(context: VerdictContext): number {
  const pooled = pooledSd([
    { sd: context.baseline.sigma, n: context.baseline.n },
    ...(context.noiseHistory ?? []),
  ]);
  if (pooled.df > 0 && pooled.sd > 0) return pooled.sd;
  return (
    context.sigmaFloor ?? Math.max(DEFAULT_RELATIVE_SIGMA_FLOOR * Math.abs(context.baseline.mean), 1e-12)
  );
}

/** The verdict word of a loop decision: kept is improved; discarded and credibly worse is regressed. */
export function loopVerdict(
  view: LoopDecisionView,
  confidence: number,
): 'improved' | 'regressed' | 'within-noise' {
  if (view.kept) return 'improved';
  return view.probabilityWorse >= confidence ? 'regressed' : 'within-noise';
}

/** The headline's reason for a loop decision, with the baseline comparison after it. */
export function loopReason(view: LoopDecisionView, metric: string, vsBaseline: Decision): string {
  const sign = view.expectedGainSigma >= 0 ? '+' : '−';
  const champion = view.champion.commit ? `champion ${view.champion.commit.slice(0, 7)}` : 'the champion';
  const baseline = vsBaseline.vsBaseline;
  return `${view.kept ? 'kept' : 'discarded'}, expected gain ${sign}${Math.abs(view.expectedGainSigma).toFixed(2)}σ over ${champion} (P(better) ${Math.round(view.probabilityBetter * 100)} %); ${metric} ${baseline.delta <= 0 ? '' : '+'}${Number(baseline.delta.toPrecision(2))} vs baseline (${Number(baseline.deltaSigma.toPrecision(2))}σ)`;
}
