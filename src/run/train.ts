/**
 * Runs one training the way the judge needs it: untrusted code with a minimal environment, no
 * network when offline, a hard timeout, its output kept out of the job log, runner files watched
 * for tampering, and the result read from the summary block it printed last.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TrainingRun } from '../model.js';
import { budgetWarnings } from '../result/budget.js';
import { classifyOutcome } from '../result/classify.js';
import { parseSummary } from '../result/summary.js';
import { checkWallClock } from '../result/wall-clock.js';
import type { Protocol } from '../settings/protocol.js';
import { findProgram, parseCommand } from './command-line.js';
import { buildChildEnv } from './environment.js';
import { execute, SpawnError } from './execute.js';
import { changedFileCommands, snapshotFileCommands } from './file-commands.js';
import { neutralizeWorkflowCommands } from './neutralize.js';
import { describeProgress } from './progress.js';
import type { RunAsPlan } from './run-as.js';
import { planSandbox, type SandboxPlan } from './sandbox.js';

/** Options of {@link runTraining}. */
export interface RunTrainingOptions {
  protocol: Protocol;
  /** Overrides the protocol's `execution.command`. */
  command?: string;
  /** Directory the command runs in (the protocol's cwd already resolved against the checkout). */
  cwd: string;
  /** Directory for this run's files; created if needed. run.log is written there. */
  runDir: string;
  /** Hard timeout of the whole command, in seconds. */
  timeoutSeconds: number;
  /** Cut the training off the network (offline environment variables and the sandbox). */
  offline: boolean;
  /** The runner's environment (defaults to `process.env`); only an allowlist reaches the child. */
  parentEnv?: NodeJS.ProcessEnv;
  /** Aborting it cancels the run (the process group is killed). */
  signal?: AbortSignal;
  /** Receives progress heartbeats and notices, already neutralised for the job log. */
  log?: (line: string) => void;
  /** Minimum time between progress heartbeats (default 30 s). */
  heartbeatMs?: number;
  /** Time between SIGTERM and SIGKILL (default 5 s). */
  graceMs?: number;
  /** A sandbox plan made once per job (the caller prints its detail); planned here when absent. */
  sandbox?: SandboxPlan;
  /** Run as this dedicated user (the `run-as` input): every process of that user ends with the run. */
  runAs?: RunAsPlan;
}

/**
 * Runs the training command once and reads its result.
 * @throws CommandError when the command cannot be parsed, SpawnError when it cannot be started,
 *   Error when the run directory or run.log cannot be written
 */
export async function runTraining(opts: RunTrainingOptions): Promise<TrainingRun> {
  const { protocol } = opts;
  const say = (line: string): void => opts.log?.(neutralizeWorkflowCommands(line));
  const parentEnv = opts.parentEnv ?? process.env;
  const command = opts.command ?? protocol.command;
  const { argv } = parseCommand(command);
  const sandbox = opts.sandbox ?? (await planSandbox({ offline: opts.offline }));
  const warnings: string[] = [];
  if (opts.offline && sandbox.info.kind === 'none') {
    const warning = `the training ran without network isolation: ${sandbox.info.detail}`;
    warnings.push(warning);
    // A plan made by the caller is announced by the caller, once per job rather than once per run.
    if (!opts.sandbox) say(`warning: ${warning}`);
  }

  try {
    await mkdir(opts.runDir, { recursive: true });
  } catch (error) {
    throw new Error(`cannot create the run directory ${opts.runDir}: ${(error as Error).message}`);
  }
  const logPath = path.join(opts.runDir, 'run.log');
  const env = buildChildEnv(parentEnv, { offline: opts.offline });
  const runAs = opts.runAs;
  // The runner's own temp directory is not the training user's to write.
  if (runAs) env['TMPDIR'] = '/tmp';
  if (!findProgram(argv[0]!, env, opts.cwd)) {
    throw new SpawnError(
      `cannot start the training command ${JSON.stringify(command)}: ${JSON.stringify(argv[0])} is not an executable ` +
        `file in ${opts.cwd} or on PATH (${env['PATH'] ?? 'unset'}). Install it on the runner or fix execution.command in the protocol.`,
    );
  }
  const before = await snapshotFileCommands(parentEnv);

  say(
    `running ${command} in ${opts.cwd} (network: ${sandbox.info.kind}, hard timeout ${opts.timeoutSeconds} s)`,
  );
  const result = await execute({
    argv: runAs ? runAs.wrap(sandbox.wrap(argv), env) : sandbox.wrap(argv),
    cwd: opts.cwd,
    env,
    logPath,
    timeoutMs: opts.timeoutSeconds * 1000,
    ...(opts.graceMs === undefined ? {} : { graceMs: opts.graceMs }),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
    onHeartbeat: (progress) => say(`training: ${describeProgress(progress)}`),
    ...(runAs
      ? {
          ...runAs.spawn,
          // Every process of the training user, whatever group, session or environment it chose.
          endLeftovers: async () => {
            await runAs.endAll();
            return [];
          },
        }
      : {}),
  });
  const { exit, tail } = result;
  say(
    `training ended after ${(exit.durationMs / 1000).toFixed(1)} s: ${
      exit.timedOut
        ? 'hard timeout'
        : exit.cancelled
          ? 'cancelled'
          : exit.signal
            ? `killed by ${exit.signal}`
            : `exit code ${exit.exitCode}`
    }, ${result.outputBytes} bytes of output in ${logPath}`,
  );

  const tampered = await changedFileCommands(before);
  const summary = parseSummary(tail, protocol);
  // Crash reasons quote the command and the timeout; name the ones that really applied.
  const outcome = classifyOutcome({
    exit,
    tail,
    summary,
    protocol: { ...protocol, command, hardTimeoutSeconds: opts.timeoutSeconds },
    tampered,
    outputBytes: result.outputBytes,
  });
  warnings.push(...budgetWarnings(summary, protocol));
  const wallClock = checkWallClock(exit.durationMs, summary, protocol);
  if (outcome.status === 'ok') warnings.push(...wallClock.warnings);
  if (result.cutBytes > 0) {
    warnings.push(
      `run.log passed its size cap: ${(result.cutBytes / 1024 / 1024).toFixed(0)} MiB of output were cut from its middle (its head and its end are kept in ${logPath})`,
    );
  }
  if (result.leftovers.length > 0) {
    warnings.push(
      `the training left ${result.leftovers.length} process(es) running outside its process group (pid ${result.leftovers.join(', ')}); they were ended`,
    );
  }
  return {
    runDir: opts.runDir,
    logPath,
    exit,
    tail,
    outputBytes: result.outputBytes,
    ...(result.lastProgress ? { lastProgress: result.lastProgress } : {}),
    summary,
    outcome,
    warnings,
    sandbox: sandbox.info,
    tampered,
    ...(outcome.status === 'ok' && wallClock.overrun ? { overrun: wallClock.overrun } : {}),
  };
}
