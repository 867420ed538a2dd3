import type { CommandRunner } from '../identity/command-runner.js';
import { experimentBlob } from '../identity/experiment-blob.js';
import { identifyRunner, type RunnerIdentity } from '../identity/runner-identity.js';
import type { Outcome, Report, TrainingRun } from '../model.js';
import { planRunAs } from '../run/run-as.js';
import { planSandbox } from '../run/sandbox.js';
import { type RunOnce, runSeries, withTrainingSession } from '../run/training-series.js';
import { ACTION_ADVICE, type Advice } from '../settings/advice.js';
import type { Settings } from '../settings/inputs.js';
import type { Protocol } from '../settings/protocol.js';
import { ensureStateDir } from '../state/atomic-file.js';
import { appendLedger, type LedgerRecord, type LedgerSigma, readLedger } from '../state/ledger.js';
import type { MachineLockHolder } from '../state/machine-lock.js';
import type { Approval } from './hold.js';
import { type BaseReport, baseReport } from './report.js';

/** Everything a baseline or experiment job needs; the same for the action and the local CLI. */
export interface JobRequest {
  settings: Pick<
    Settings,
    | 'stateDir'
    | 'offline'
    | 'repeats'
    | 'baselineRepeats'
    | 'confidence'
    | 'minImprovement'
    | 'decision'
    | 'force'
    | 'timeoutSeconds'
  > &
    Partial<Pick<Settings, 'runAs'>>;
  protocol: Protocol;
  /** The command to run (the `command` input or the protocol's). */
  command: string;
  /** Checkout root of the experiment. */
  workdir: string;
  /** Run directories (run.log) go below it. */
  runsDir: string;
  runnerName: string;
  commit: { sha: string; subject: string; branch: string; ref: string };
  /** Who asked for the job (actor), and why (baselines). */
  triggeredBy: string;
  reason?: string;
  /** Overrides `baseline-repeats` (workflow_dispatch input). */
  repeats?: number;
  /** What the train.py guard found before the runs (experiments; empty or absent: nothing). */
  guardFindings?: readonly string[];
  /** A maintainer's approval of this head: releases a held result (see verdict/hold.ts). */
  approval?: Approval;
  holder: MachineLockHolder;
  /** The environment the training's allowlisted environment is drawn from. */
  parentEnv: NodeJS.ProcessEnv;
  commands: CommandRunner;
  signal?: AbortSignal;
  /** Job log; lines from the training arrive already neutralised. */
  log: (line: string) => void;
  /** The words messages use for what to do (default: the action's inputs). */
  advice?: Advice;
  heartbeatMs?: number;
  graceMs?: number;
  now?: () => Date;
}

/** A job after the preflight: identity known, sandbox planned, helpers bound. */
export interface PreparedJob {
  settings: JobRequest['settings'];
  protocol: Protocol;
  identity: RunnerIdentity;
  trainBlob: string;
  /** The words messages use for what to do. */
  advice: Advice;
  /** The report fields this job's every ending shares. */
  base: BaseReport;
  /** Runs the training up to `runs` times under the machine lock. */
  runSeries(runs: number, stopAfter?: (samples: number[]) => boolean): Promise<TrainingRun[]>;
  /** Holds the machine lock while `body` runs the training as often as it decides. */
  session<T>(body: (runOnce: RunOnce) => Promise<T>): Promise<T>;
  /** Earlier judged experiments of this branch under this key, oldest first. */
  history(): Promise<Report['history']>;
  /** Identifies the runner again (after the runs): the key may have moved while they went on. */
  reidentify(): Promise<RunnerIdentity>;
  /** Appends the ledger line for this job. */
  record(
    report: Report,
    runs: readonly TrainingRun[],
    extra?: LedgerSigma & Pick<LedgerRecord, 'loop'>,
  ): Promise<LedgerRecord>;
}

/**
 * Preflight shared by both modes: the data snapshot must be in place, the runner is identified,
 * the network sandbox planned once (its absence said once), and the experiment blob hashed.
 */
export async function prepareJob(req: JobRequest, mode: Report['mode']): Promise<PreparedJob> {
  const { settings, protocol } = req;
  await ensureStateDir(settings.stateDir);
  const identify = () =>
    identifyRunner({
      protocol,
      command: req.command,
      workdir: req.workdir,
      stateDir: settings.stateDir,
      runnerName: req.runnerName,
      run: req.commands,
    });
  const identity = await identify();
  req.log(`Runner ${identity.hardware.label}; comparability key ${identity.keyHash}`);
  const trainBlob = await experimentBlob(req.workdir, protocol.allowedGlobs);
  const sandbox = await planSandbox({ offline: settings.offline });
  const runAs = settings.runAs ? await planRunAs(settings.runAs) : undefined;
  if (runAs) req.log(`The training runs ${runAs.detail}; all its processes are ended after each run.`);
  if (settings.offline) req.log(`Network isolation: ${sandbox.info.kind} (${sandbox.info.detail})`);
  const timeoutSeconds = settings.timeoutSeconds ?? protocol.hardTimeoutSeconds;
  const now = req.now ?? (() => new Date());
  const started = now();
  const series = {
    protocol,
    command: req.command,
    workdir: req.workdir,
    runsDir: req.runsDir,
    stateDir: settings.stateDir,
    timeoutSeconds,
    offline: settings.offline,
    holder: req.holder,
    parentEnv: req.parentEnv,
    sandbox,
    runAs,
    log: req.log,
    signal: req.signal,
    heartbeatMs: req.heartbeatMs,
    graceMs: req.graceMs,
  };
  return {
    settings,
    protocol,
    identity,
    trainBlob,
    advice: req.advice ?? ACTION_ADVICE,
    base: baseReport(protocol, {
      mode,
      runner: {
        name: req.runnerName,
        label: identity.hardware.label,
        keyHash: identity.keyHash,
        ramBytes: identity.hardware.memoryBytes,
      },
      commit: { sha: req.commit.sha, subject: req.commit.subject, branch: req.commit.branch, trainBlob },
    }),
    runSeries: (runs, stopAfter) => runSeries({ ...series, runs, stopAfter }),
    // The loop policy runs the candidate and the champion's controls: about twice the repeats.
    session: (body) => withTrainingSession({ ...series, runs: 2 * settings.repeats + 1 }, body),
    reidentify: identify,
    async history() {
      const { records } = await readLedger(settings.stateDir, {
        keyHash: identity.keyHash,
        branch: req.commit.branch,
        mode: 'experiment',
      });
      return records
        .filter((r) => r.status !== 'rejected' && r.status !== 'skipped')
        .map((r) => ({
          sha: r.commit ?? '',
          subject: r.subject ?? '',
          value: r.value ?? null,
          status: r.status,
        }));
    },
    async record(report, runs, extra) {
      const record: LedgerRecord = {
        at: now().toISOString(),
        keyHash: identity.keyHash,
        trainBlob,
        status: report.status,
        commit: req.commit.sha,
        subject: req.commit.subject,
        branch: req.commit.branch,
        ref: req.commit.ref,
        mode: report.mode,
        components: { ...identity.components },
        value: report.value ?? null,
        samples: report.samples ?? [],
        metrics: Object.fromEntries(
          Object.entries(runs.at(-1)?.summary.metrics ?? {}).filter(([, v]) => Number.isFinite(v)),
        ),
        outcome: runs.map((r) => outcomeSummary(r.outcome)),
        verdict: report.verdict,
        durations: {
          totalMs: now().getTime() - started.getTime(),
          runsMs: runs.reduce((a, r) => a + r.exit.durationMs, 0),
        },
        runner: { name: req.runnerName, label: identity.hardware.label },
        triggeredBy: req.triggeredBy,
        runDirs: runs.map((r) => r.runDir),
        ...(report.hold ? { hold: { kind: report.hold.kind, reasons: report.hold.reasons } } : {}),
        ...extra,
      };
      await appendLedger(settings.stateDir, record);
      return record;
    },
  };
}

/** Warnings of every run, each said once. */
export function runWarnings(runs: readonly TrainingRun[]): string[] {
  return [...new Set(runs.flatMap((r) => r.warnings))];
}

/** The report's crash section from a crash outcome. */
export function crashSection(outcome: Extract<Outcome, { status: 'crash' }>): NonNullable<Report['crash']> {
  return {
    kind: outcome.kind,
    reason: outcome.reason,
    excerpt: outcome.excerpt,
    hint: outcome.hint,
  };
}

function outcomeSummary(outcome: Outcome): NonNullable<LedgerRecord['outcome']>[number] {
  return outcome.status === 'ok'
    ? { status: 'ok' }
    : { status: 'crash', kind: outcome.kind, reason: outcome.reason };
}
