/**
 * The example experiment hosted on the local GitHub emulator, with a runner home prepared as the
 * runner's one-time data prep would: the stage the demo and the screenshot script both play on.
 * Every job runs the built action (dist/index.js) the way the runner does.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { type ActionRun, runActionProcess } from '../../test/e2e/run-action.js';
import { type GitHubEmulator, startEmulator } from '../../test/emulator/server.js';
import { pushPayload, workflowDispatchPayload } from '../../test/emulator/webhook-payloads.js';

const root = path.resolve(import.meta.dirname, '../..');
const OWNER = 'lab';
const REPO = 'autoresearch-mini';
const RUNNER = 'mac-studio-1';
/** The files of example/ as committed (what a clone has). */
const EXAMPLE_FILES = [
  '.gitignore',
  'README.md',
  'persuasion.txt',
  'prepare.py',
  'protocol.json',
  'train.py',
];

/** The contents of example/'s committed files, by name. */
export async function readExampleFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of EXAMPLE_FILES) files[name] = await readFile(path.join(root, 'example', name), 'utf8');
  return files;
}

/** The lab; close it when done. */
export interface ExampleLab {
  gh: GitHubEmulator;
  /** example/train.py as shipped. */
  trainPy: string;
  /** Establishes the runner baseline with workflow_dispatch. */
  baseline(reason: string): Promise<ActionRun>;
  /** Creates the experiment branch and its open pull request; returns the PR number. */
  openPullRequest(branch: string): Promise<number>;
  /** Commits train.py to the branch and runs the action on the push. */
  pushExperiment(
    branch: string,
    trainPy: string,
    subject: string,
    inputs?: Record<string, string>,
  ): Promise<ActionRun>;
  /** The sticky comment's body on the pull request. */
  comment(pr: number): string | undefined;
  /** results.tsv of the branch on the results branch. */
  resultsTsv(branch: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts the emulator, hosts example/ as lab/autoresearch-mini and prepares the runner's data. */
export async function openExampleLab(): Promise<ExampleLab> {
  const example = path.join(root, 'example');
  const files = await readExampleFiles();
  const home = await mkdtemp(path.join(tmpdir(), 'arci-lab-home-'));
  const gh = await startEmulator();
  await execa('python3', ['prepare.py'], { cwd: example, env: { ...process.env, HOME: home } });
  await gh.createRepo(OWNER, REPO, { files, defaultBranch: 'main' });
  gh.setPermission(OWNER, REPO, 'agent', 'write');
  const base = { gh, owner: OWNER, repo: REPO, home, actor: 'agent', runnerName: RUNNER };
  return {
    gh,
    trainPy: files['train.py']!,
    async baseline(reason) {
      const main = (await gh.resolveRef(OWNER, REPO, 'refs/heads/main'))!;
      const payload = workflowDispatchPayload(gh, OWNER, REPO, {
        ref: 'main',
        inputs: { reason },
        sender: 'agent',
      });
      return runActionProcess({
        ...base,
        eventName: 'workflow_dispatch',
        payload,
        sha: main,
        ref: 'refs/heads/main',
      });
    },
    async openPullRequest(branch) {
      await gh.commitTo(OWNER, REPO, branch, {}, 'start the experiment branch');
      return (
        await gh.addPullRequest(OWNER, REPO, {
          head: branch,
          base: 'main',
          user: 'agent',
          title: `autoresearch: ${branch}`,
        })
      ).number;
    },
    async pushExperiment(branch, trainPy, subject, inputs = {}) {
      const before = (await gh.resolveRef(OWNER, REPO, `refs/heads/${branch}`))!;
      const sha = await gh.commitTo(OWNER, REPO, branch, { 'train.py': trainPy }, subject);
      const payload = await pushPayload(gh, OWNER, REPO, { ref: branch, before, sender: 'agent' });
      return runActionProcess({
        ...base,
        eventName: 'push',
        payload,
        sha,
        ref: `refs/heads/${branch}`,
        inputs,
      });
    },
    comment(pr) {
      return gh.comments(OWNER, REPO, pr).find((c) => c.body.startsWith('<!-- autoresearch-ci'))?.body;
    },
    resultsTsv(branch) {
      return gh.readFile(OWNER, REPO, 'autoresearch-results', `${branch}/${RUNNER}/results.tsv`);
    },
    async close() {
      gh.assertNoViolations();
      await gh.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** The example's train.py with some hyperparameters set (`NAME = value` lines). */
export function withParams(trainPy: string, params: Record<string, number>): string {
  let out = trainPy;
  for (const [name, value] of Object.entries(params)) {
    const line = new RegExp(`^${name} = .*$`, 'm');
    if (!line.test(out)) throw new Error(`example/train.py has no line "${name} = …"`);
    out = out.replace(line, `${name} = ${value}`);
  }
  return out;
}
