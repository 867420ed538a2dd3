import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exitCodeFor, type SignalWatch, watchStopSignals } from './cli-signals.js';
import { historyTable, reportTable } from './cli-tables.js';
import { describeCheckout } from './event/checkout.js';
import { execaRunner } from './identity/command-runner.js';
import { identifyRunner } from './identity/runner-identity.js';
import { writeProgressReport } from './publish/progress-report.js';
import { neutralizeWorkflowCommands } from './run/neutralize.js';
import { CLI_ADVICE } from './settings/advice.js';
import { expandTilde } from './settings/home-path.js';
import {
  InputError,
  type InputLabel,
  type InputName,
  readSettings,
  type Settings,
  withDefaults,
} from './settings/inputs.js';
import { resolveProtocol } from './settings/resolve-protocol.js';
import { readLedger } from './state/ledger.js';
import { establishBaseline } from './verdict/establish-baseline.js';
import type { JobRequest } from './verdict/job.js';
import { type Judgement, judgeExperiment } from './verdict/judge-experiment.js';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const USAGE = `Usage: autoresearch-ci <command> [options]

Commands:
  run        judge the experiment in --cwd against this machine's baseline (one training, or --repeats)
  baseline   establish this machine's baseline from --repeats runs (default 8)
  history    list the judged experiments under the current comparability key
  report     write the progress page (index.html) of the state dir into --out DIR

Options:
  --cwd DIR              experiment checkout (default: current directory)
  --protocol FILE        protocol JSON (default: protocol.json in --cwd, else built-in autoresearch-mlx)
  --command CMD          training command (overrides the protocol's)
  --state-dir DIR        baselines, ledger and machine lock (default ~/.autoresearch-ci)
  --cache-dir DIR        data snapshot root (default ~/.cache/autoresearch)
  --timeout-seconds N    hard timeout (default: the protocol's)
  --repeats N            runs (run: default 1; baseline: default 8)
  --confidence P         one-sided confidence (default 0.95)
  --min-improvement X    smallest improvement that may be kept (default 0)
  --decision RULE        loop (default: expected gain for the night) or strict (t-test per experiment)
  --force                run even if this train.py was already scored
  --online               allow network access during training
  --out DIR              where report writes index.html
  --json                 print the result as JSON
  -h, --help             this help`;

/** CLI flag of each input the CLI sets, for messages (`--repeats`, not `input 'repeats'`). */
const FLAG_OF: Partial<Record<InputName, string>> = {
  'working-directory': '--cwd',
  'baseline-repeats': '--repeats',
  offline: '--online',
};
const cliInputLabel: InputLabel = (name) => FLAG_OF[name] ?? `--${name}`;

/** A mistake in how the CLI was called: printed with the usage, exit 2. */
class UsageError extends Error {}

/**
 * The local command line: the same engine, state dir and verdict as the action, without GitHub,
 * so an agent on a laptop gets the same judgement. Returns the process exit code: 0, 1 for a
 * crashed or rejected experiment or an error, 2 for bad usage, 128 + n when signal n stopped it.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    io.out(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  if (!['run', 'baseline', 'history', 'report'].includes(command)) {
    io.err(`unknown command '${command}'\n\n${USAGE}\n`);
    return 2;
  }
  if (command === 'report' && !values.out) {
    io.err(`report needs --out DIR: the folder to write index.html into\n\n${USAGE}\n`);
    return 2;
  }
  let stop: SignalWatch | undefined;
  try {
    const settings = cliSettings(command, values, io.cwd);
    const protocol = resolveProtocol(settings, CLI_ADVICE);
    const runnerName = io.env.RUNNER_NAME ?? hostname();
    const trainingCommand = settings.command ?? protocol.command;
    if (command === 'report') {
      io.out(
        `${await writeProgressReport(settings.stateDir, path.resolve(io.cwd, values.out ?? '.'), protocol)}\n`,
      );
      return 0;
    }
    if (command === 'history') {
      // Reading must not create the state directory (identifying the runner writes a cache there).
      if (!existsSync(settings.stateDir)) {
        if (values.json) io.out('[]\n');
        else io.out(`No runs recorded: ${settings.stateDir} does not exist.\n`);
        return 0;
      }
      const identity = await identifyRunner({
        protocol,
        command: trainingCommand,
        workdir: settings.workingDirectory,
        stateDir: settings.stateDir,
        runnerName,
        run: execaRunner(),
      });
      const { records } = await readLedger(settings.stateDir, { keyHash: identity.keyHash });
      if (values.json) io.out(`${JSON.stringify(records, null, 2)}\n`);
      else io.out(historyTable(records, protocol.primary.name));
      return 0;
    }
    const checkout = await describeCheckout(settings.workingDirectory);
    stop = watchStopSignals((line) => io.err(`${line}\n`));
    let judgement: Judgement;
    try {
      const request: JobRequest = {
        settings,
        protocol,
        command: trainingCommand,
        workdir: settings.workingDirectory,
        runsDir: path.join(settings.stateDir, 'runs', `${command}-${Date.now()}`),
        runnerName,
        commit: {
          sha: checkout?.sha ?? 'local',
          subject: checkout
            ? `${checkout.subject}${checkout.dirty ? ' (uncommitted changes)' : ''}`
            : 'local run',
          branch: checkout?.branch ?? 'local',
          ref: checkout?.branch ? `refs/heads/${checkout.branch}` : 'local',
        },
        triggeredBy: io.env.USER ?? 'local',
        reason: command === 'baseline' ? 'local baseline' : undefined,
        holder: {
          repo: path.basename(settings.workingDirectory),
          runId: 'cli',
          pid: process.pid,
          runner: runnerName,
        },
        parentEnv: io.env,
        commands: execaRunner(),
        signal: stop.signal,
        log: (line) => io.err(`${neutralizeWorkflowCommands(line)}\n`),
        advice: CLI_ADVICE,
      };
      judgement = command === 'baseline' ? await establishBaseline(request) : await judgeExperiment(request);
    } finally {
      stop.dispose();
    }
    const { report, runs } = judgement;
    const logs = runs.map((r) => r.logPath);
    if (values.json) io.out(`${JSON.stringify({ ...report, logs }, null, 2)}\n`);
    else io.out(reportTable(report, logs));
    const signal = stop.received();
    if (signal) return exitCodeFor(signal);
    return report.status === 'crash' || report.status === 'rejected' ? 1 : 0;
  } catch (error) {
    const signal = stop?.received();
    if (signal) {
      // Stopped before any training ran (e.g. while waiting for the machine lock): nothing to record.
      io.err(`autoresearch-ci: ${(error as Error).message}\n`);
      return exitCodeFor(signal);
    }
    if (error instanceof UsageError || error instanceof InputError) {
      io.err(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    io.err(`autoresearch-ci: ${(error as Error).message}\n`);
    return 1;
  }
}

/**
 * The settings from the flags, through the action's own validation. Paths given on the command
 * line resolve against the shell's directory, as in any CLI; the experiment directory must exist.
 */
function cliSettings(command: string, values: ReturnType<typeof parse>['values'], cwd: string): Settings {
  const fromShell = (p: string | undefined) => (p ? path.resolve(cwd, expandTilde(p)) : '');
  const flags: Partial<Record<InputName, string>> = {
    'working-directory': values.cwd ?? '',
    protocol: fromShell(values.protocol),
    command: values.command ?? '',
    'state-dir': fromShell(values['state-dir']),
    'cache-dir': fromShell(values['cache-dir']),
    'timeout-seconds': values['timeout-seconds'] ?? '',
    repeats: command === 'run' ? (values.repeats ?? '') : '',
    'baseline-repeats': command === 'baseline' ? (values.repeats ?? '') : '',
    confidence: values.confidence ?? '',
    'min-improvement': values['min-improvement'] ?? '',
    decision: values.decision ?? '',
    force: values.force ? 'true' : '',
    offline: values.online ? 'false' : '',
  };
  const settings = readSettings(
    withDefaults((name) => flags[name as InputName] ?? ''),
    cwd,
    cliInputLabel,
  );
  const dir = settings.workingDirectory;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`--cwd ${values.cwd ?? dir}: no such directory`);
  }
  return settings;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      cwd: { type: 'string' },
      protocol: { type: 'string' },
      command: { type: 'string' },
      'state-dir': { type: 'string' },
      'cache-dir': { type: 'string' },
      'timeout-seconds': { type: 'string' },
      repeats: { type: 'string' },
      confidence: { type: 'string' },
      'min-improvement': { type: 'string' },
      decision: { type: 'string' },
      force: { type: 'boolean' },
      online: { type: 'boolean' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
