// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow expressions are data here
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { readExampleFiles } from '../scripts/demo/example-lab.js';
import { runActionProcess } from './e2e/run-action.js';
import { type GitHubEmulator, startEmulator } from './emulator/server.js';
import { pullRequestPayload } from './emulator/webhook-payloads.js';

/**
 * .github/workflows/try-it.yml played step by step, as a hosted runner would on a pull request
 * that changes example/train.py: its `run:` scripts in bash, its `uses: ./` steps as
 * `node dist/index.js` with the step's inputs, against the local GitHub emulator.
 */

const root = path.resolve(import.meta.dirname, '..');
const OWNER = 'someone';
const REPO = 'autoresearch-ci';

type Step = { id?: string; name?: string; uses?: string; run?: string; with?: Record<string, string> };
const workflow = YAML.parse(await readFile(path.join(root, '.github/workflows/try-it.yml'), 'utf8'));
const steps: Step[] = workflow.jobs.demonstration.steps;
const step = (test: (s: Step) => boolean, what: string): Step => {
  const found = steps.find(test);
  if (!found) throw new Error(`try-it.yml has no ${what} step`);
  return found;
};

describe('the try-it workflow on a pull request that changes example/train.py', () => {
  let gh: GitHubEmulator;
  let dir: string;
  beforeAll(async () => {
    gh = await startEmulator();
    dir = await mkdtemp(path.join(tmpdir(), 'arci-try-it-'));
  });
  afterAll(async () => {
    gh.assertNoViolations();
    await gh.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('measures the base branch, judges the change and comments the verdict', async () => {
    const files: Record<string, string> = { 'README.md': '# a fork of autoresearch-ci\n' };
    for (const [name, text] of Object.entries(await readExampleFiles())) files[`example/${name}`] = text;
    await gh.createRepo(OWNER, REPO, { files, defaultBranch: 'main' });
    gh.setPermission(OWNER, REPO, OWNER, 'admin');
    const trainPy = files['example/train.py']!.replace(/^LEARNING_RATE = .*$/m, 'LEARNING_RATE = 0.5');
    await gh.commitTo(OWNER, REPO, 'faster-learning', { 'example/train.py': trainPy }, 'learning rate 0.5');
    const pr = await gh.addPullRequest(OWNER, REPO, {
      head: 'faster-learning',
      base: 'main',
      user: OWNER,
      title: 'Try a learning rate of 0.5',
    });
    const payload = pullRequestPayload(gh, OWNER, REPO, pr.number, 'opened', { sender: OWNER });
    const headSha = pr.head.sha;
    const baseSha = pr.base.sha;

    // The runner's view: a home, a temp directory, and the checkout of the pull request's head.
    const home = path.join(dir, 'home');
    const runnerTemp = path.join(dir, 'runner-temp');
    const workspace = path.join(dir, 'workspace');
    await mkdir(home);
    await mkdir(runnerTemp);
    const auth = `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${gh.token}`).toString('base64')}`;
    await execa('git', ['-c', `http.extraHeader=${auth}`, 'clone', '-q', gh.gitUrl(OWNER, REPO), workspace]);
    await execa('git', ['checkout', '-q', '--detach', headSha], { cwd: workspace });
    const bash = (script: string, cwd: string, env: Record<string, string> = {}) =>
      execa('bash', ['-e', '-c', script], {
        cwd,
        env: { ...process.env, HOME: home, RUNNER_TEMP: runnerTemp, ...env },
      });

    const worktree = step((s) => s.run?.includes('git worktree add') ?? false, 'base checkout');
    await bash(worktree.run!, workspace, { BASE_SHA: baseSha });
    const prepare = step((s) => s.run?.includes('prepare.py') ?? false, 'data preparation');
    await bash(prepare.run!, path.join(workspace, 'example'));

    const inputsOf = (s: Step): Record<string, string> =>
      Object.fromEntries(
        Object.entries(s.with ?? {}).map(([k, v]) => [
          k,
          String(v).replaceAll('${{ runner.temp }}', runnerTemp),
        ]),
      );
    const common = {
      gh,
      owner: OWNER,
      repo: REPO,
      eventName: 'pull_request',
      payload,
      sha: headSha,
      ref: `refs/pull/${pr.number}/merge`,
      actor: OWNER,
      home,
      runnerName: 'GitHub Actions 7',
    };
    const baseline = await runActionProcess({
      ...common,
      inputs: inputsOf(step((s) => s.id === 'baseline', 'baseline')),
    });
    expect(baseline.outputs.status, baseline.stdout + baseline.stderr).toBe('keep');
    expect(baseline.stdout).toContain(`Baseline established`);
    const judge = await runActionProcess({
      ...common,
      inputs: inputsOf(step((s) => s.id === 'judge', 'judge')),
    });
    expect(judge.exitCode, judge.stdout + judge.stderr).toBe(0);
    expect(judge.outputs).toMatchObject({ status: 'keep', verdict: 'improved' });

    const comment = gh
      .comments(OWNER, REPO, pr.number)
      .find((c) => c.body.startsWith('<!-- autoresearch-ci'));
    expect(comment?.body).toContain('**Keep** — improved');
    expect(comment?.body).toContain('(n=3)');
    expect(judge.outputs['comment-url']).toContain(`#issuecomment-${comment?.id}`);
    const rows = await gh.readFile(OWNER, REPO, 'autoresearch-results', 'try-it/faster-learning/results.tsv');
    expect(rows).toContain(`${headSha.slice(0, 7)}\t`);
    expect(rows).toContain('\tkeep\tlearning rate 0.5');
  }, 300_000);
});
