/**
 * The attacks and faults of docs/security.md, each run the way a runner runs the action
 * (`node dist/index.js`, file commands, the GitHub emulator): first the attack, then what stops it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type GitHubEmulator, startEmulator } from '../emulator/server.js';
import { pullRequestPayload, pushPayload, workflowDispatchPayload } from '../emulator/webhook-payloads.js';
import { PREPARE_PY, protocolJson, trainPy } from './project.js';
import { type ActionRun, experimentPusher, type RunActionOptions, runActionProcess } from './run-action.js';

const sharedProtocol = JSON.parse(
  await readFile(
    path.resolve(import.meta.dirname, '../fixtures/protocol/autoresearch-mlx.protocol.json'),
    'utf8',
  ),
);
// Several tests run the action two or three times, each a real training; the machine is shared.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const OWNER = 'lab';
const REPO = 'hard';
const RESULTS = 'autoresearch-results';
/** Budget 1 s; a run may take 1 + 6 s by the runner's clock before it is not comparable. */
const ALLOWANCE_SECONDS = 6;

let gh: GitHubEmulator;
let home: string;
let mainSha: string;

function runJob(
  opts: Omit<RunActionOptions, 'gh' | 'owner' | 'repo' | 'home'> & Partial<RunActionOptions>,
): Promise<ActionRun> {
  return runActionProcess({ gh, owner: OWNER, repo: REPO, home, ...opts });
}

/** Commits to a branch (new branches start at main) and runs the action on the push. */
const pushExperiment = experimentPusher(() => ({ gh, owner: OWNER, repo: REPO, home, defaultSha: mainSha }));

/** Runs the action on a pull request event of lab/hard. */
function pullRequestJob(
  number: number,
  action: 'opened' | 'synchronize' | 'reopened' | 'labeled',
  actor: string,
  label?: string,
  extra: Partial<RunActionOptions> = {},
) {
  const payload = pullRequestPayload(gh, OWNER, REPO, number, action, { sender: actor });
  if (label) payload.label = { ...(payload.label as object), name: label };
  const pr = gh.state.pullsOf(`${OWNER}/${REPO}`).get(number)!;
  return runJob({
    eventName: 'pull_request',
    payload,
    sha: pr.head.sha,
    ref: `refs/pull/${number}/merge`,
    actor,
    ...extra,
  });
}

/** Commits with plain git (links and submodules), on top of `from`, and pushes to `branch`. */
async function commitWithGit(
  branch: string,
  from: string,
  change: (dir: string) => Promise<void>,
  message: string,
): Promise<string> {
  const { gitDir } = gh.state.requireRepo(OWNER, REPO);
  const dir = await mkdtemp(path.join(tmpdir(), 'arci-raw-'));
  const git = (...args: string[]) =>
    execa('git', args, {
      cwd: dir,
      env: {
        HOME: home,
        GIT_AUTHOR_NAME: 'a',
        GIT_AUTHOR_EMAIL: 'a@x',
        GIT_COMMITTER_NAME: 'a',
        GIT_COMMITTER_EMAIL: 'a@x',
      },
    });
  await execa('git', ['clone', '-q', gitDir, dir]);
  await git('checkout', '-q', '-B', branch, from);
  await change(dir);
  await git('add', '-A');
  await git('commit', '-q', '-m', message);
  await git('push', '-q', '-f', 'origin', `HEAD:refs/heads/${branch}`);
  const sha = (await git('rev-parse', 'HEAD')).stdout.trim();
  await rm(dir, { recursive: true, force: true });
  return sha;
}

/** The report the job wrote (result.json), unescaped. */
const reportOf = async (run: ActionRun) => run.resultJson as Record<string, any>;

const ledger = async () =>
  (await readFile(path.join(home, '.autoresearch-ci', 'ledger.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l));
const resultsRows = (branch: string) => gh.readFile(OWNER, REPO, RESULTS, `${branch}/mac-mini-1/results.tsv`);
const comment = (pr: number) =>
  gh.comments(OWNER, REPO, pr).find((c) => c.body.startsWith('<!-- autoresearch-ci:runner=mac-mini-1 -->'))
    ?.body ?? '';

beforeAll(async () => {
  gh = await startEmulator();
  home = await mkdtemp(path.join(tmpdir(), 'arci-home-'));
  const protocol = JSON.parse(protocolJson(sharedProtocol));
  protocol.integrity = { wallClock: { allowanceSeconds: ALLOWANCE_SECONDS } };
  await gh.createRepo(OWNER, REPO, {
    defaultBranch: 'main',
    files: {
      'prepare.py': PREPARE_PY,
      'train.py': trainPy({ value: 1.8 }),
      'protocol.json': `${JSON.stringify(protocol, null, 2)}\n`,
      'README.md': '# hard\n',
    },
  });
  mainSha = (await gh.resolveRef(OWNER, REPO, 'refs/heads/main'))!;
  const prep = await mkdtemp(path.join(tmpdir(), 'arci-prep-'));
  await writeFile(path.join(prep, 'prepare.py'), PREPARE_PY);
  await execa('python3', ['prepare.py'], { cwd: prep, env: { ...process.env, HOME: home } });
  await rm(prep, { recursive: true });
  gh.setPermission(OWNER, REPO, 'alice', 'write');
  gh.setPermission(OWNER, REPO, 'mallory', 'read');
  const baseline = await runJob({
    eventName: 'workflow_dispatch',
    payload: workflowDispatchPayload(gh, OWNER, REPO, { ref: 'main', sender: 'alice' }),
    sha: mainSha,
    ref: 'refs/heads/main',
    actor: 'alice',
    inputs: { 'baseline-repeats': '3' },
  });
  expect(baseline.outputs.status, baseline.stdout + baseline.stderr).toBe('keep');
});

afterAll(async () => {
  gh.assertNoViolations();
  await gh.close();
  await rm(home, { recursive: true, force: true });
});

describe("the metric is the harness's, not whatever train.py prints", () => {
  it('holds a summary printed without training as suspicious; the next honest run is judged against the baseline', async () => {
    const fake = 'print("---")\nprint("val_bpb:          0.123456")\nprint("training_seconds: 1.0")\n';
    const pr = await gh.openBranchPullRequest(OWNER, REPO, 'autoresearch/fake');
    const { sha, run } = await pushExperiment(
      'autoresearch/fake',
      { 'train.py': fake },
      'experiment: skip training',
    );
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'discard', verdict: 'improved' });
    expect(run.summary).toContain('Held: suspicious');
    expect((await reportOf(run)).headline).toContain(
      'Held as suspicious — not kept: val_bpb 0.123456 beats the best this runner has measured',
    );
    expect(comment(pr.number)).toContain('Held as suspicious');
    expect(comment(pr.number)).toContain("adds the label 'autoresearch-approve'");
    expect(await resultsRows('autoresearch/fake')).toMatch(
      new RegExp(`^${sha.slice(0, 7)}\\t0\\.123456\\t0\\.0\\tdiscard\\t`, 'm'),
    );
    expect((await ledger()).at(-1)).toMatchObject({ status: 'discard', hold: { kind: 'suspicious' } });
    expect((await ledger()).at(-1).hold.reasons).toContain(
      "train.py:1: never calls prepare.evaluate_bpb, so the metric it prints is not the harness's",
    );

    const honest = await pushExperiment(
      'autoresearch/fake',
      { 'train.py': trainPy({ value: 1.77 }) },
      'experiment: honest',
    );
    expect(honest.run.outputs).toMatchObject({ status: 'keep', verdict: 'improved' });
    // Compared with the baseline: the held value is nobody's reference.
    expect((await reportOf(honest.run)).vsBest).toBeUndefined();
  });

  it('holds val_bpb -5 from a replaced evaluation: impossible, and the replacement is named', async () => {
    const { run } = await pushExperiment(
      'autoresearch/negative',
      { 'train.py': trainPy({ before: 'evaluate_bpb = lambda model: -5.0' }) },
      'experiment: negative bpb',
    );
    expect(run.outputs.status).toBe('discard');
    expect((await reportOf(run)).hold.reasons).toContain('val_bpb -5 is impossible: it must be above 0');
    expect((await ledger()).at(-1).hold.reasons).toContain(
      'train.py:3: rebinds the harness name evaluate_bpb',
    );
  });

  it('holds a monkeypatched harness for review even with a believable number, until a maintainer approves', async () => {
    const pr = await gh.openBranchPullRequest(OWNER, REPO, 'autoresearch/patch');
    const patched = trainPy({
      value: 1.74,
      before: 'import prepare\nprepare.evaluate_bpb = lambda model: model["value"]',
    });
    const { run } = await pushExperiment(
      'autoresearch/patch',
      { 'train.py': patched },
      'experiment: patched eval',
    );
    expect(run.outputs).toMatchObject({ status: 'discard', verdict: 'improved' });
    expect(run.summary).toContain('Held: needs review');
    expect((await reportOf(run)).hold).toMatchObject({
      kind: 'needs-review',
      reasons: ['train.py:4: assigns to prepare.evaluate_bpb, a name of the harness'],
    });
    expect(comment(pr.number)).toContain('Held for review');

    // Labelled by a maintainer: that job re-runs the head, and the approval releases the hold.
    await gh.refreshPullRequest(OWNER, REPO, pr.number);
    const approved = await pullRequestJob(pr.number, 'labeled', 'alice', 'autoresearch-approve');
    expect(approved.outputs, approved.stdout).toMatchObject({ status: 'keep', verdict: 'improved' });
    expect(approved.summary).toContain('it was approved by alice');
    // The approval held for that head only: a later push of the same PR is judged on its own.
    const later = await pushExperiment(
      'autoresearch/patch',
      { 'train.py': `${patched}\n# again\n` },
      'experiment: again',
    );
    expect(later.run.outputs.status).toBe('discard');
    expect(later.run.summary).toContain('Held: needs review');
  });

  it('keeps a suspicious result only after an approval whose re-run confirms it', async () => {
    const pr = await gh.openBranchPullRequest(OWNER, REPO, 'autoresearch/leap');
    const { run } = await pushExperiment(
      'autoresearch/leap',
      { 'train.py': trainPy({ value: 1.0 }) },
      'experiment: big leap',
    );
    expect(run.outputs.status).toBe('discard');
    expect(run.summary).toContain('Held: suspicious');
    await gh.refreshPullRequest(OWNER, REPO, pr.number);
    const confirmed = await pullRequestJob(pr.number, 'labeled', 'alice', 'autoresearch-approve');
    expect(confirmed.outputs, confirmed.stdout).toMatchObject({ status: 'keep', verdict: 'improved' });
    expect(confirmed.summary).toContain('this re-run confirmed it');
  });

  it('does not compare a run far past budget plus allowance, whatever training_seconds it prints', async () => {
    const { run } = await pushExperiment(
      'autoresearch/slow',
      { 'train.py': trainPy({ value: 1.7, sleep: ALLOWANCE_SECONDS + 3 }) },
      'experiment: train longer than the budget',
    );
    expect(run.outputs).toMatchObject({ status: 'discard', verdict: 'not-comparable' });
    expect(run.summary).toMatch(/the training ran \d+\.\d s by the runner's clock, past the budget 1\.0 s/);
    expect((await reportOf(run)).warnings.join('\n')).toContain(
      'train.py reports training_seconds 1.0 s, but the process ran',
    );
  });
});

describe('the training cannot reach the job after its checks', () => {
  it('ends a helper that left the session before it writes status=keep and BASH_ENV into the file commands', async () => {
    const witness = path.join(home, 'helper-was-alive');
    const helper = [
      'if os.fork() == 0:',
      '    os.setsid()',
      '    if os.fork() == 0:',
      '        time.sleep(2)',
      `        open("${witness}", "a").write("still alive\\n")`,
      '        open("../output", "a").write("status=keep\\n")',
      '        open("../env", "a").write("BASH_ENV=/tmp/evil\\n")',
      '        os._exit(0)',
      '    os._exit(0)',
    ].join('\n');
    const { run } = await pushExperiment(
      'autoresearch/escape',
      { 'train.py': trainPy({ value: 1.95, before: helper }) },
      'experiment: leave a helper behind',
    );
    expect(run.outputs).toMatchObject({ status: 'discard', verdict: 'regressed' });
    expect(run.summary).toMatch(/the training left 1 process\(es\) running outside its process group/);
    // The job's folder is gone with the job; the helper's own witness file outlives it.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(existsSync(witness)).toBe(false);
  });
});

describe('baselines measure only vetted code', () => {
  it('refuses a baseline dispatched on another branch, and one whose checkout is another commit', async () => {
    const other = await gh.commitTo(
      OWNER,
      REPO,
      'autoresearch/base',
      { 'train.py': trainPy({ value: 2.5 }) },
      'worse',
    );
    const onBranch = await runJob({
      eventName: 'workflow_dispatch',
      payload: workflowDispatchPayload(gh, OWNER, REPO, { ref: 'autoresearch/base', sender: 'alice' }),
      sha: other,
      ref: 'refs/heads/autoresearch/base',
      actor: 'alice',
    });
    expect(onBranch.outputs.status).toBe('skipped');
    expect(onBranch.summary).toContain('baselines are measured only on the default branch main');
    // main dispatched, but the workflow checked out another commit (an `inputs.ref`).
    const otherRef = await runJob({
      eventName: 'workflow_dispatch',
      payload: workflowDispatchPayload(gh, OWNER, REPO, { ref: 'main', sender: 'alice' }),
      sha: other,
      ref: 'refs/heads/main',
      actor: 'alice',
      env: { GITHUB_SHA: mainSha },
    });
    expect(otherRef.outputs.status).toBe('rejected');
    expect(otherRef.summary).toContain('a baseline is measured only on the head of main the event names');
    const baselines = JSON.parse(
      await readFile(path.join(home, '.autoresearch-ci', 'baselines.json'), 'utf8'),
    );
    expect(JSON.stringify(baselines)).not.toContain(other);
  });
});

describe('approvals and bases', () => {
  it("removes a fork's safe-to-test label when its head moves, and runs nothing for the new head", async () => {
    await gh.createRepo('mallory', REPO, { forkOf: `${OWNER}/${REPO}` });
    await gh.commitTo(
      'mallory',
      REPO,
      'autoresearch/fork',
      { 'train.py': trainPy({ value: 1.79 }) },
      'reviewed',
    );
    const pr = await gh.addPullRequest(OWNER, REPO, {
      head: 'autoresearch/fork',
      headRepo: `mallory/${REPO}`,
      base: 'main',
      user: 'mallory',
      labels: ['safe-to-test'],
    });
    await gh.commitTo(
      'mallory',
      REPO,
      'autoresearch/fork',
      { 'train.py': trainPy({ value: 0.5 }) },
      'unreviewed',
    );
    await gh.refreshPullRequest(OWNER, REPO, pr.number);
    const before = (await ledger()).length;
    // A maintainer's "Update branch" (or the author's push): the label was given to another head.
    const run = await pullRequestJob(pr.number, 'synchronize', 'alice', undefined, {
      inputs: { 'allow-forks': 'true' },
    });
    expect(run.outputs.status).toBe('skipped');
    expect(run.summary).toContain('approves only the head it was added to');
    expect(gh.state.pullsOf(`${OWNER}/${REPO}`).get(pr.number)!.labels).toEqual([]);
    expect(await ledger()).toHaveLength(before);
  });

  it('guards a pull request into another branch against the default branch too', async () => {
    const { gitDir } = gh.state.requireRepo(OWNER, REPO);
    const dev = await gh.commitTo(
      OWNER,
      REPO,
      'dev',
      { 'prepare.py': `${PREPARE_PY}\nTIME_BUDGET = 100\n` },
      'dev: longer budget',
    );
    await execa('git', ['--git-dir', gitDir, 'update-ref', 'refs/heads/autoresearch/ondev', dev]);
    await gh.commitTo(
      OWNER,
      REPO,
      'autoresearch/ondev',
      { 'train.py': trainPy({ value: 1.7 }) },
      'experiment: on dev',
    );
    const pr = await gh.addPullRequest(OWNER, REPO, {
      head: 'autoresearch/ondev',
      base: 'dev',
      user: 'alice',
    });
    const run = await pullRequestJob(pr.number, 'opened', 'alice');
    expect(run.outputs.status).toBe('rejected');
    expect(run.summary).toContain('prepare.py is part of the immutable harness');
  });
});

describe('what may change on a branch', () => {
  it('refuses train.py as a symbolic link or a submodule', async () => {
    const link = await commitWithGit(
      'autoresearch/link',
      mainSha,
      async (dir) => {
        await writeFile(path.join(home, 'outside.py'), trainPy({ value: 1.6 }));
        await rm(path.join(dir, 'train.py'));
        await execa('ln', ['-s', path.join(home, 'outside.py'), path.join(dir, 'train.py')]);
      },
      'experiment: link',
    );
    const linked = await runJob({
      eventName: 'push',
      payload: await pushPayload(gh, OWNER, REPO, {
        ref: 'autoresearch/link',
        before: mainSha,
        sender: 'alice',
      }),
      sha: link,
      ref: 'refs/heads/autoresearch/link',
      actor: 'alice',
    });
    expect(linked.outputs.status).toBe('rejected');
    expect(linked.summary).toContain('train.py is a symbolic link; only regular files may change');

    const sub = await commitWithGit(
      'autoresearch/sub',
      mainSha,
      async (dir) => {
        // An embedded repository at train.py: `git add` records it as a gitlink.
        const inner = path.join(dir, 'train.py');
        await rm(inner);
        const env = {
          HOME: home,
          GIT_AUTHOR_NAME: 'a',
          GIT_AUTHOR_EMAIL: 'a@x',
          GIT_COMMITTER_NAME: 'a',
          GIT_COMMITTER_EMAIL: 'a@x',
        };
        await execa('git', ['init', '-q', inner], { env });
        await writeFile(path.join(inner, 'x.py'), 'print(1)\n');
        await execa('git', ['add', '-A'], { cwd: inner, env });
        await execa('git', ['commit', '-q', '-m', 'inner'], { cwd: inner, env });
      },
      'experiment: submodule',
    );
    const gitlink = await runJob({
      eventName: 'push',
      payload: await pushPayload(gh, OWNER, REPO, {
        ref: 'autoresearch/sub',
        before: mainSha,
        sender: 'alice',
      }),
      sha: sub,
      ref: 'refs/heads/autoresearch/sub',
      actor: 'alice',
    });
    expect(gitlink.outputs.status, gitlink.stdout + gitlink.stderr).toBe('rejected');
    expect(gitlink.summary).toContain('train.py is a submodule (gitlink); only regular files may change');
    expect(gitlink.summary).not.toContain('EISDIR');
  });

  it('with results on the experiment branch, refuses a commit that rewrites its rows', async () => {
    const inline = { inputs: { 'results-branch': '' } };
    const first = await pushExperiment(
      'autoresearch/inline',
      { 'train.py': trainPy({ value: 1.79 }) },
      'experiment: inline',
      inline,
    );
    expect(first.run.outputs.status, first.run.stdout).toMatch(/^(keep|discard)$/);
    const rows = await gh.readFile(OWNER, REPO, 'autoresearch/inline', 'results.tsv');
    const forged = rows.replace(/\t1\.7\d{5}\t/, '\t0.100000\t').replace(/\t(discard)\t/, '\tkeep\t');
    const { run } = await pushExperiment(
      'autoresearch/inline',
      { 'results.tsv': forged, 'train.py': trainPy({ value: 1.78 }) },
      'experiment: rewrite history',
      inline,
    );
    expect(run.outputs.status).toBe('rejected');
    expect(run.summary).toMatch(
      /results\.tsv has rows changed or removed in [0-9a-f]{7}; only the action appends rows/,
    );
  });
});

describe('results.tsv on the results branch', () => {
  it('substitutes results-path placeholders once, neutralises formulas, survives a hung API call', async () => {
    gh.hangNext(1);
    const branch = 'autoresearch/{runner}';
    const { sha, run } = await pushExperiment(
      branch,
      { 'train.py': trainPy({ value: 1.81 }) },
      '=HYPERLINK("http://x","click")',
      {
        env: { AUTORESEARCH_CI_REQUEST_TIMEOUT_MS: '1000' },
      },
    );
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const tsv = await gh.readFile(OWNER, REPO, RESULTS, 'autoresearch/{runner}/mac-mini-1/results.tsv');
    expect(tsv).toContain(`${sha.slice(0, 7)}\t`);
    expect(tsv).toContain(`\t'=HYPERLINK("http://x","click")`);
  });

  it('does not follow results.tsv when it is a link on the results branch; the row stays in the summary', async () => {
    const results = await gh.resolveRef(OWNER, REPO, `refs/heads/${RESULTS}`);
    await commitWithGit(
      RESULTS,
      results!,
      async (dir) => {
        await execa('mkdir', ['-p', path.join(dir, 'autoresearch/linked/mac-mini-1')]);
        await execa('ln', [
          '-s',
          '/etc/passwd',
          path.join(dir, 'autoresearch/linked/mac-mini-1/results.tsv'),
        ]);
      },
      'link',
    );
    const { run } = await pushExperiment(
      'autoresearch/linked',
      { 'train.py': trainPy({ value: 1.82 }) },
      'experiment: linked',
    );
    expect(run.summary).toContain('is a symbolic link; the action writes only regular files there');
    expect(run.summary).toMatch(/val\\?_bpb/);
    expect(await gh.readFile(OWNER, REPO, RESULTS, 'autoresearch/linked/mac-mini-1/results.tsv')).toBe(
      '/etc/passwd',
    );
  });

  it('does not fail the step when only the "training…" comment failed and the verdict was published', async () => {
    const pr = await gh.openBranchPullRequest(OWNER, REPO, 'autoresearch/flaky');
    let armed = false;
    const { run } = await pushExperiment(
      'autoresearch/flaky',
      { 'train.py': trainPy({ value: 1.8 }) },
      'experiment: flaky API',
      {
        // The gate's last line comes right before the progress comment: its requests get 500 four times.
        onStdout: (chunk) => {
          if (!armed && chunk.includes('train.py guard:')) {
            armed = true;
            gh.failNext(4, 500);
          }
        },
      },
    );
    expect(armed).toBe(true);
    expect(run.stdout).toMatch(/::warning::the "training…" comment could not be written/);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(comment(pr.number)).toMatch(/\*\*(Keep|Discard)\*\*/);
  });

  it('names a file in the way of state-dir', async () => {
    const file = path.join(home, 'not-a-dir');
    await writeFile(file, 'x');
    const { run } = await pushExperiment(
      'autoresearch/statefile',
      { 'train.py': trainPy({ value: 1.8 }) },
      'experiment: x',
      {
        inputs: { 'state-dir': file },
      },
    );
    expect(run.exitCode).toBe(1);
    expect(run.stdout + run.summary).toContain('a file is in the way');
  });
});
