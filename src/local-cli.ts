import { hostname } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeCheckout } from './event/checkout.js';
import { execaRunner } from './identity/command-runner.js';
import { identifyRunner } from './identity/runner-identity.js';
import type { Report } from './model.js';
import { neutralizeWorkflowCommands } from './run/neutralize.js';
import { readSettings, withDefaults } from './settings/inputs.js';
import { resolveProtocol } from './settings/resolve-protocol.js';
import { readLedger } from './state/ledger.js';
import { establishBaseline } from './verdict/establish-baseline.js';
import type { JobRequest } from './verdict/job.js';
import { judgeExperiment } from './verdict/judge-experiment.js';

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
  --force                run even if this train.py was already scored
  --online               allow network access during training
  --json                 print the result as JSON
  -h, --help             this help`;

/**
 * The local command line: the same engine, state dir and verdict as the action, without GitHub,
 * so an agent on a laptop gets the same judgement. Returns the process exit code.
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
  if (!['run', 'baseline', 'history'].includes(command)) {
    io.err(`unknown command '${command}'\n\n${USAGE}\n`);
    return 2;
  }
  const flags: Record<string, string> = {
    'working-directory': values.cwd ?? '',
    protocol: values.protocol ?? '',
    command: values.command ?? '',
    'state-dir': values['state-dir'] ?? '',
    'cache-dir': values['cache-dir'] ?? '',
    'timeout-seconds': values['timeout-seconds'] ?? '',
    repeats: command === 'run' ? (values.repeats ?? '') : '',
    'baseline-repeats': command === 'baseline' ? (values.repeats ?? '') : '',
    confidence: values.confidence ?? '',
    'min-improvement': values['min-improvement'] ?? '',
    force: values.force ? 'true' : '',
    offline: values.online ? 'false' : '',
  };
  try {
    const settings = readSettings(
      withDefaults((name) => flags[name] ?? ''),
      io.cwd,
    );
    const protocol = resolveProtocol(settings);
    const checkout = await describeCheckout(settings.workingDirectory);
    const runnerName = io.env.RUNNER_NAME ?? hostname();
    const trainingCommand = settings.command ?? protocol.command;
    if (command === 'history') {
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
      ...(command === 'baseline' ? { reason: 'local baseline' } : {}),
      holder: {
        repo: path.basename(settings.workingDirectory),
        runId: 'cli',
        pid: process.pid,
        runner: runnerName,
      },
      parentEnv: io.env,
      commands: execaRunner(),
      log: (line) => io.err(`${neutralizeWorkflowCommands(line)}\n`),
    };
    const { report, runs } =
      command === 'baseline' ? await establishBaseline(request) : await judgeExperiment(request);
    const logs = runs.map((r) => r.logPath);
    if (values.json) io.out(`${JSON.stringify({ ...report, logs }, null, 2)}\n`);
    else io.out(reportTable(report, logs));
    return report.status === 'crash' || report.status === 'rejected' ? 1 : 0;
  } catch (error) {
    io.err(`autoresearch-ci: ${(error as Error).message}\n`);
    return 1;
  }
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
      force: { type: 'boolean' },
      online: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** A plain two-column table of the report for a terminal. */
export function reportTable(report: Report, logs: readonly string[]): string {
  const rows: Array<[string, string]> = [];
  const f6 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(6));
  rows.push(['status', report.status]);
  if (report.verdict) rows.push(['verdict', report.verdict]);
  rows.push([
    report.primary.name,
    `${f6(report.value)}${report.samples && report.samples.length > 1 ? ` (mean of ${report.samples.length})` : ''}`,
  ]);
  if (report.baseline) {
    rows.push([
      'baseline',
      `${f6(report.baseline.mean)} (σ ${report.baseline.sigma.toFixed(4)}, n=${report.baseline.n})`,
    ]);
  }
  if (report.vsBaseline) {
    const d = report.vsBaseline;
    const sigma =
      d.deltaSigma === null ? '' : ` (${d.deltaSigma >= 0 ? '+' : ''}${d.deltaSigma.toFixed(1)}σ)`;
    const p = d.probabilityBetter === undefined ? '' : `, P(better) ${d.probabilityBetter.toFixed(3)}`;
    rows.push(['delta', `${d.delta >= 0 ? '+' : ''}${d.delta.toFixed(4)}${sigma}${p}`]);
  }
  const fig = report.figures;
  if (fig.peakMemoryGb !== undefined) {
    const share =
      fig.memoryShareOfRam === undefined ? '' : ` (${Math.round(fig.memoryShareOfRam * 100)} % of RAM)`;
    rows.push(['peak memory', `${fig.peakMemoryGb.toFixed(1)} GB${share}`]);
  }
  if (fig.trainingSeconds !== undefined)
    rows.push(['training', `${fig.trainingSeconds.toFixed(1)} s of ${report.budgetSeconds} s budget`]);
  if (fig.steps !== undefined) rows.push(['steps', String(Math.round(fig.steps))]);
  if (fig.tokensM !== undefined) rows.push(['tokens', `${fig.tokensM.toFixed(1)}M`]);
  if (fig.paramsM !== undefined) rows.push(['params', `${fig.paramsM.toFixed(1)}M`]);
  if (report.crash) {
    rows.push(['crash', `${report.crash.kind}: ${report.crash.reason}`]);
    if (report.crash.hint) rows.push(['hint', report.crash.hint]);
  }
  rows.push(['runner', report.runner.label]);
  for (const log of logs) rows.push(['log', log]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  const notes = [report.headline, ...report.warnings.map((w) => `warning: ${w}`)];
  if (report.crash?.excerpt) notes.push('', report.crash.excerpt);
  return `${lines.join('\n')}\n\n${notes.join('\n')}\n`;
}

function historyTable(
  records: ReadonlyArray<{
    at: string;
    commit?: string;
    value?: number | null;
    status: string;
    verdict?: string;
    mode?: string;
    [k: string]: unknown;
  }>,
  metric: string,
): string {
  if (records.length === 0) return 'No runs recorded under the current comparability key.\n';
  const header = `${'when (UTC)'.padEnd(16)}  ${'mode'.padEnd(10)}  ${'commit'.padEnd(7)}  ${metric.padEnd(9)}  ${'status'.padEnd(8)}  verdict`;
  const rows = records.map(
    (r) =>
      `${r.at.slice(0, 16).replace('T', ' ')}  ${(r.mode ?? '').padEnd(10)}  ${(r.commit ?? '').slice(0, 7).padEnd(7)}  ${(typeof r.value === 'number' ? r.value.toFixed(6) : 'n/a').padEnd(9)}  ${r.status.padEnd(8)}  ${r.verdict ?? ''}`,
  );
  return `${[header, ...rows].join('\n')}\n`;
}
