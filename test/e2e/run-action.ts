import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import type { GitHubEmulator } from '../emulator/server.js';
import { pushPayload } from '../emulator/webhook-payloads.js';

const root = path.resolve(import.meta.dirname, '../..');
const action = YAML.parse(await readFile(path.join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

/** What one action run left behind, read back the way a workflow would. */
export interface ActionRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The file the `result-json` output named, parsed (read before the job's folder is removed). */
  resultJson?: unknown;
}

/** Options of {@link runActionProcess}. */
export interface RunActionOptions {
  gh: GitHubEmulator;
  owner: string;
  repo: string;
  eventName: string;
  payload: Record<string, unknown>;
  /** Commit the workspace is checked out at (GITHUB_SHA). */
  sha: string;
  ref: string;
  actor?: string;
  inputs?: Record<string, string>;
  home: string;
  runnerName?: string;
  runId?: string;
  /** Extra environment, e.g. GITHUB_TOKEN to prove the training never sees it. */
  env?: Record<string, string>;
  /** Called with the action process and each chunk of its stdout (e.g. to cancel it mid-run). */
  onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void;
  /** Called when the action has exited, before the job's folder is removed (to read its run logs). */
  beforeCleanup?: () => Promise<void>;
}

/** Parses `$GITHUB_OUTPUT` as the runner does: `name<<DELIM` heredocs and `name=value` lines. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]!);
      out[name!] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

/**
 * Runs `node dist/index.js` as the runner does: a workspace cloned over HTTP at the event's commit,
 * every input set (action.yml defaults plus overrides) as INPUT_*, the event file, file commands,
 * and GITHUB_API_URL / GITHUB_SERVER_URL pointing at the emulator. Spawned asynchronously so the
 * in-process emulator keeps serving. Like the runner, which empties RUNNER_TEMP when a job ends,
 * it removes the job's folder (workspace, file commands, runner temp) before returning.
 */
export async function runActionProcess(opts: RunActionOptions): Promise<ActionRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'arci-job-'));
  try {
    return await runJob(dir, opts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runJob(dir: string, opts: RunActionOptions): Promise<ActionRun> {
  const workspace = path.join(dir, 'workspace');
  const auth = `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${opts.gh.token}`).toString('base64')}`;
  const gitEnv = { GIT_TERMINAL_PROMPT: '0', HOME: opts.home };
  await execa(
    'git',
    ['-c', `http.extraHeader=${auth}`, 'clone', '-q', opts.gh.gitUrl(opts.owner, opts.repo), workspace],
    { env: gitEnv },
  );
  await execa('git', ['-c', `http.extraHeader=${auth}`, 'fetch', '-q', 'origin', opts.sha], {
    cwd: workspace,
    env: gitEnv,
  });
  await execa('git', ['checkout', '-q', '--detach', opts.sha], { cwd: workspace, env: gitEnv });

  const eventPath = path.join(dir, 'event.json');
  await writeFile(eventPath, `${JSON.stringify(opts.payload, null, 2)}\n`);
  const outputFile = path.join(dir, 'output');
  const summaryFile = path.join(dir, 'summary.md');
  const runnerTemp = path.join(dir, 'runner-temp');
  await mkdir(runnerTemp);
  for (const f of [
    outputFile,
    summaryFile,
    path.join(dir, 'env'),
    path.join(dir, 'path'),
    path.join(dir, 'state'),
  ]) {
    await writeFile(f, '');
  }
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    inputs[`INPUT_${name.toUpperCase()}`] = String(spec.default ?? '');
  }
  inputs['INPUT_GITHUB-TOKEN'] = opts.gh.token;
  for (const [name, value] of Object.entries(opts.inputs ?? {}))
    inputs[`INPUT_${name.toUpperCase()}`] = value;

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: opts.home,
    LANG: 'C.UTF-8',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: opts.eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `${opts.owner}/${opts.repo}`,
    GITHUB_REPOSITORY_OWNER: opts.owner,
    GITHUB_SHA: opts.sha,
    GITHUB_REF: opts.ref,
    GITHUB_ACTOR: opts.actor ?? opts.owner,
    GITHUB_RUN_ID: opts.runId ?? String(Math.floor(Math.random() * 1e9)),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_API_URL: opts.gh.apiUrl,
    GITHUB_SERVER_URL: opts.gh.serverUrl,
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ENV: path.join(dir, 'env'),
    GITHUB_PATH: path.join(dir, 'path'),
    GITHUB_STATE: path.join(dir, 'state'),
    RUNNER_NAME: opts.runnerName ?? 'mac-mini-1',
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    AUTORESEARCH_CI_RETRY_BASE_MS: '20',
    ...inputs,
    ...(opts.env ?? {}),
  };
  const child = spawn(process.execPath, [path.join(root, 'dist/index.js')], {
    cwd: workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    opts.onStdout?.(d.toString(), child);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await opts.beforeCleanup?.();
  const outputs = parseOutputFile(await readFile(outputFile, 'utf8'));
  const resultPath = outputs['result-json'];
  return {
    exitCode,
    stdout,
    stderr,
    outputs,
    summary: await readFile(summaryFile, 'utf8'),
    ...(resultPath ? { resultJson: JSON.parse(await readFile(resultPath, 'utf8')) } : {}),
  };
}

/**
 * Commits `files` to `branch` of a repository in the emulator (a new branch starts at the default
 * branch, `defaultSha`) and runs the action on that push by `actor` (default alice), as a runner
 * in `home` would.
 */
export async function pushAndRun(
  opts: Pick<RunActionOptions, 'gh' | 'owner' | 'repo' | 'home'> & { defaultSha: string; actor?: string },
  branch: string,
  files: Record<string, string | null>,
  message: string,
  extra: Partial<RunActionOptions> = {},
): Promise<{ sha: string; run: ActionRun }> {
  const { gh, owner, repo } = opts;
  const actor = opts.actor ?? 'alice';
  const before = (await gh.resolveRef(owner, repo, `refs/heads/${branch}`)) ?? opts.defaultSha;
  const sha = await gh.commitTo(owner, repo, branch, files, message);
  const payload = await pushPayload(gh, owner, repo, { ref: branch, before, sender: actor });
  const run = await runActionProcess({
    ...opts,
    eventName: 'push',
    payload,
    sha,
    ref: `refs/heads/${branch}`,
    actor,
    ...extra,
  });
  return { sha, run };
}

/**
 * `pushAndRun` bound to a test file's repository. `context` is read on each call, because the
 * files set their emulator, home and main commit up in `beforeAll`.
 */
export function experimentPusher(
  context: () => Parameters<typeof pushAndRun>[0],
): (
  branch: string,
  files: Record<string, string | null>,
  message: string,
  extra?: Partial<RunActionOptions>,
) => Promise<{ sha: string; run: ActionRun }> {
  return (branch, files, message, extra = {}) => pushAndRun(context(), branch, files, message, extra);
}
