import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubEmulator, startEmulator } from '../emulator/server.js';
import { pullRequestPayload, pushPayload, workflowDispatchPayload } from '../emulator/webhook-payloads.js';
import { launchCommentBrowser } from '../support/browser.js';
import { PREPARE_PY, protocolJson, trainPy } from './project.js';
import { type ActionRun, experimentPusher, type RunActionOptions, runActionProcess } from './run-action.js';

const sharedProtocol = JSON.parse(
  await readFile(
    path.resolve(import.meta.dirname, '../../src/settings/autoresearch-mlx.protocol.json'),
    'utf8',
  ),
);
const OWNER = 'lab';
const REPO = 'mini';
const RESULTS = 'autoresearch-results';

let gh: GitHubEmulator;
let home: string;
let mainSha: string;

/** Pushes a commit to an experiment branch and runs the action on its push event. */
/** Runs the action on an event of lab/mini, in the runner's home; fields of `opts` win. */
function runJob(
  opts: Omit<RunActionOptions, 'gh' | 'owner' | 'repo' | 'home'> & Partial<RunActionOptions>,
): Promise<ActionRun> {
  return runActionProcess({ gh, owner: OWNER, repo: REPO, home, ...opts });
}

/** A fork of lab/mini by mallory with `train.py` on `branch`, and its pull request against main. */
async function forkPullRequest(branch: string, value: number, subject: string, labels: string[] = []) {
  if (!gh.state.repo('mallory', REPO)) await gh.createRepo('mallory', REPO, { forkOf: `${OWNER}/${REPO}` });
  await gh.commitTo('mallory', REPO, branch, { 'train.py': trainPy({ value }) }, subject);
  return gh.addPullRequest(OWNER, REPO, {
    head: branch,
    headRepo: `mallory/${REPO}`,
    base: 'main',
    user: 'mallory',
    labels,
  });
}

/** Commits to a branch (new branches start at main) and runs the action on the push. */
const pushExperiment = experimentPusher(() => ({ gh, owner: OWNER, repo: REPO, home, defaultSha: mainSha }));

async function resultsFile(file = 'autoresearch/exp/mac-mini-1/results.tsv'): Promise<string> {
  return gh.readFile(OWNER, REPO, RESULTS, file);
}

function stickyComments(pr: number) {
  return gh
    .comments(OWNER, REPO, pr)
    .filter((c) => c.body.startsWith('<!-- autoresearch-ci:runner=mac-mini-1 -->'));
}

const ledgerLines = async () =>
  (await readFile(path.join(home, '.autoresearch-ci', 'ledger.jsonl'), 'utf8')).trim().split('\n');

beforeAll(async () => {
  gh = await startEmulator();
  home = await mkdtemp(path.join(tmpdir(), 'arci-home-'));
  const repo = await gh.createRepo(OWNER, REPO, {
    defaultBranch: 'main',
    files: {
      'prepare.py': PREPARE_PY,
      'train.py': trainPy({ value: 1.8 }),
      'protocol.json': protocolJson(sharedProtocol),
      'README.md': '# mini\n',
    },
  });
  mainSha = (await gh.resolveRef(OWNER, REPO, 'refs/heads/main'))!;
  expect(repo.fullName).toBe('lab/mini');
  // The runner's one-time data prep, into the runner's home.
  const prep = await mkdtemp(path.join(tmpdir(), 'arci-prep-'));
  await writeFile(path.join(prep, 'prepare.py'), PREPARE_PY);
  await execa('python3', ['prepare.py'], { cwd: prep, env: { ...process.env, HOME: home } });
  await rm(prep, { recursive: true });
  gh.setPermission(OWNER, REPO, 'alice', 'write');
  gh.setPermission(OWNER, REPO, 'mallory', 'read');
});

afterAll(async () => {
  gh.assertNoViolations();
  await gh.close();
  await rm(home, { recursive: true, force: true });
});

describe('the GitHub round trip', () => {
  let prNumber: number;
  let betterSha: string;

  it('establishes the baseline on workflow_dispatch and records it', async () => {
    const payload = workflowDispatchPayload(gh, OWNER, REPO, {
      ref: 'main',
      inputs: { reason: 'first baseline' },
      sender: 'alice',
    });
    const run = await runJob({
      eventName: 'workflow_dispatch',
      payload,
      sha: mainSha,
      ref: 'refs/heads/main',
      actor: 'alice',
    });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.status).toBe('keep');
    expect(Number(run.outputs['baseline-val-bpb'])).toBeCloseTo(1.8, 1);
    expect(Number(run.outputs.sigma)).toBeGreaterThan(0);
    expect(run.summary).toContain('Baseline established');
    const tsv = await gh.readFile(OWNER, REPO, RESULTS, 'main/mac-mini-1/results.tsv');
    expect(tsv.split('\n')[0]).toBe('commit\tval_bpb\tmemory_gb\tstatus\tdescription');
    expect(tsv).toMatch(
      new RegExp(
        `^${mainSha.slice(0, 7)}\\t1\\.[78]\\d{5}\\t2\\.0\\tkeep\\tbaseline \\(n=8, σ=0\\.\\d{4}\\)$`,
        'm',
      ),
    );
  });

  it('keeps a better experiment pushed to its branch, comments on its PR and appends the row', async () => {
    const pr = await gh.openBranchPullRequest(OWNER, REPO, 'autoresearch/exp');
    prNumber = pr.number;
    let runLog = '';
    const { sha, run } = await pushExperiment(
      'autoresearch/exp',
      { 'train.py': trainPy({ value: 1.7 }) },
      'experiment: lower the learning rate',
      {
        env: { GITHUB_TOKEN: 'ghs_shouldNeverReachTraining000000000000' },
        // The run log lives in the job's temporary folder, removed when the job ends.
        beforeCleanup: async () => {
          const runDir = JSON.parse((await ledgerLines()).at(-1)!).runDirs[0];
          runLog = await readFile(path.join(runDir, 'run.log'), 'utf8');
        },
      },
    );
    betterSha = sha;
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({
      status: 'keep',
      verdict: 'improved',
      runner: expect.stringContaining('mac-mini-1'),
    });
    expect(Number(run.outputs.delta)).toBeLessThan(-0.05);
    expect(run.outputs['comment-url']).toMatch(/\/pull\/\d+#issuecomment-\d+$/);
    expect(run.outputs['results-commit']).toMatch(/^[0-9a-f]{40}$/);
    expect(run.resultJson).toMatchObject({ status: 'keep', verdict: 'improved', commit: { sha } });
    // The training's `::set-output` line never became a workflow command.
    expect(run.stdout).not.toMatch(/^::set-output/m);
    const comments = stickyComments(prNumber);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('Improved');
    expect(await resultsFile()).toMatch(
      new RegExp(`^${sha.slice(0, 7)}\\t1\\.[67]\\d{5}\\t2\\.0\\tkeep\\tlower the learning rate$`, 'm'),
    );
    expect(runLog).toContain('val_bpb');
    expect(runLog).not.toContain('ghs_shouldNeverReachTraining');
  });

  it('discards a worse experiment and updates the same comment', async () => {
    const { run } = await pushExperiment(
      'autoresearch/exp',
      { 'train.py': trainPy({ value: 1.95 }) },
      'experiment: wider model',
    );
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'discard', verdict: 'regressed' });
    const comments = stickyComments(prNumber);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('Regressed');
    expect((await resultsFile()).trim().split('\n')).toHaveLength(3);
  });

  it('rewrites the progress page at the results branch root, which renders offline in Chromium', async () => {
    const html = await gh.readFile(OWNER, REPO, RESULTS, 'index.html');
    const browser = await launchCommentBrowser();
    try {
      const { page, requests, pageErrors } = await browser.open(html);
      expect(requests).toEqual([]);
      expect(pageErrors).toEqual([]);
      const section = page.locator('section', { hasText: 'autoresearch/exp on mac-mini-1' });
      expect(await section.locator('svg path.kept').count()).toBe(1);
      expect(await section.locator('svg path.discarded').count()).toBe(1);
      expect(await section.locator('svg rect.band').count()).toBe(1);
      // The kept experiment in the kept table, with its Δ and σ; the runner's baseline below.
      const [kept, baselines] = await section.locator('table').all();
      expect(await kept!.locator('tbody tr').allTextContents()).toEqual([
        expect.stringMatching(/lower the learning rate.*−0\.\d{4}.*−\d+\.\dσ/),
      ]);
      expect(await baselines!.locator('tbody tr').count()).toBe(1);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('records a crash, fails the step and writes a crash row', async () => {
    const { sha, run } = await pushExperiment(
      'autoresearch/exp',
      { 'train.py': trainPy({ crash: true }) },
      'experiment: bigger batch',
    );
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ status: 'crash', verdict: 'crashed' });
    expect(run.summary).toContain('ValueError');
    expect(await resultsFile()).toMatch(
      new RegExp(`^${sha.slice(0, 7)}\\t0\\.000000\\t0\\.0\\tcrash\\tbigger batch$`, 'm'),
    );
    expect(stickyComments(prNumber)[0]!.body).toContain('exception');
  });

  it('rejects a commit touching the immutable harness without running it', async () => {
    const before = (await ledgerLines()).length;
    const { run } = await pushExperiment(
      'autoresearch/exp',
      { 'train.py': trainPy({ value: 1.5 }), 'prepare.py': `${PREPARE_PY}\n# tweak\n` },
      'experiment: faster eval',
    );
    expect(run.exitCode).toBe(1);
    expect(run.outputs.status).toBe('rejected');
    expect(run.summary).toContain('prepare.py is part of the immutable harness');
    expect(await ledgerLines()).toHaveLength(before);
    // Put the harness back for the next experiments.
    await gh.commitTo(OWNER, REPO, 'autoresearch/exp', { 'prepare.py': PREPARE_PY }, 'restore prepare.py');
  });

  it('refuses a fork pull request without running any of its code', async () => {
    const pr = await forkPullRequest('autoresearch/evil', 0.1, 'experiment: totally legit');
    const payload = pullRequestPayload(gh, OWNER, REPO, pr.number, 'opened', { sender: 'mallory' });
    const before = (await ledgerLines()).length;
    const run = await runJob({
      eventName: 'pull_request',
      payload,
      sha: mainSha,
      ref: `refs/pull/${pr.number}/merge`,
      actor: 'mallory',
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.status).toBe('skipped');
    expect(run.stdout).toMatch(/::notice::.*fork/);
    expect(run.summary).toContain('fork');
    expect(await ledgerLines()).toHaveLength(before);
  });

  it('runs a fork pull request once a maintainer labels it safe-to-test, with allow-forks on', async () => {
    const pr = await forkPullRequest('autoresearch/ok', 1.74, 'experiment: reviewed fork change', [
      'safe-to-test',
    ]);
    const payload = pullRequestPayload(gh, OWNER, REPO, pr.number, 'labeled', { sender: 'alice' });
    payload.label = { ...(payload.label as object), name: 'safe-to-test' };
    const common = {
      eventName: 'pull_request',
      payload,
      sha: pr.head.sha,
      ref: `refs/pull/${pr.number}/merge`,
    };
    const refused = await runJob({ ...common, actor: 'alice' });
    expect(refused.outputs.status).toBe('skipped');
    expect(refused.summary).toContain('fork');
    const judged = await runJob({ ...common, actor: 'alice', inputs: { 'allow-forks': 'true' } });
    expect(judged.exitCode, judged.stdout + judged.stderr).toBe(0);
    expect(judged.outputs.status).toMatch(/^(keep|discard)$/);
    expect(judged.stdout).toContain("fork pull request labelled 'safe-to-test', actor alice has write");
    // The label alone is not enough: an actor without write access is still refused.
    const byMallory = await runJob({ ...common, actor: 'mallory', inputs: { 'allow-forks': 'true' } });
    expect(byMallory.outputs.status).toBe('skipped');
  });

  it('does not run or duplicate a train.py already scored on this runner', async () => {
    const rowsBefore = await resultsFile();
    const payload = await pushPayload(gh, OWNER, REPO, {
      ref: 'autoresearch/exp',
      before: mainSha,
      after: betterSha,
      sender: 'alice',
    });
    const run = await runJob({
      eventName: 'push',
      payload,
      sha: betterSha,
      ref: 'refs/heads/autoresearch/exp',
      actor: 'alice',
    });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.status).toBe('keep');
    expect(run.summary).toContain('already scored');
    expect(await resultsFile()).toBe(rowsBefore);
  });

  it('lands both rows when two jobs push results at once', async () => {
    const [a, b] = await Promise.all([
      pushExperiment('autoresearch/a', { 'train.py': trainPy({ value: 1.79 }) }, 'experiment: a', {
        inputs: { 'results-path': 'shared/results.tsv' },
      }),
      pushExperiment('autoresearch/b', { 'train.py': trainPy({ value: 1.81 }) }, 'experiment: b', {
        inputs: { 'results-path': 'shared/results.tsv' },
        runnerName: 'mac-mini-2',
      }),
    ]);
    expect(a.run.exitCode, a.run.stdout).toBe(0);
    expect(b.run.exitCode, b.run.stdout).toBe(0);
    const tsv = await resultsFile('shared/results.tsv');
    expect(tsv).toContain(`${a.sha.slice(0, 7)}\t`);
    expect(tsv).toContain(`${b.sha.slice(0, 7)}\t`);
  });

  it('can keep results.tsv next to train.py on the experiment branch itself', async () => {
    const inline = { inputs: { 'results-branch': '' } };
    const first = await pushExperiment(
      'autoresearch/inline',
      { 'train.py': trainPy({ value: 1.76 }) },
      'experiment: inline one',
      inline,
    );
    expect(first.run.exitCode, first.run.stdout).toBe(0);
    const tsv = await gh.readFile(OWNER, REPO, 'autoresearch/inline', 'results.tsv');
    expect(tsv).toMatch(
      new RegExp(`^${first.sha.slice(0, 7)}\\t1\\.7\\d{5}\\t2\\.0\\t(keep|discard)\\tinline one$`, 'm'),
    );
    // The next experiment builds on the bot commit; the bot's results.tsv is not held against it.
    const second = await pushExperiment(
      'autoresearch/inline',
      { 'train.py': trainPy({ value: 1.75 }) },
      'experiment: inline two',
      inline,
    );
    expect(second.run.outputs.status).not.toBe('rejected');
    const rows = (await gh.readFile(OWNER, REPO, 'autoresearch/inline', 'results.tsv')).trim().split('\n');
    expect(rows).toHaveLength(3);
  });

  it('rides out API errors with retries', async () => {
    gh.failNext(2, 502);
    const { run } = await pushExperiment(
      'autoresearch/exp',
      { 'train.py': trainPy({ value: 1.78 }) },
      'experiment: retry me',
    );
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.outputs['comment-url']).not.toBe('');
  });

  it('forwards job cancellation to the training and marks the comment cancelled', async () => {
    let signalledAt = 0;
    const hang = `${trainPy({ value: 1.7 })}\nimport time\ntime.sleep(600)\n`.replace(
      'print("---")',
      'time.sleep(600)\nprint("---")',
    );
    const { run } = await pushExperiment('autoresearch/exp', { 'train.py': hang }, 'experiment: never ends', {
      onStdout: (chunk, child) => {
        if (!signalledAt && chunk.includes('Training run 1/1')) {
          signalledAt = Date.now();
          setTimeout(() => child.kill('SIGINT'), 500);
        }
      },
    });
    expect(signalledAt).toBeGreaterThan(0);
    expect(run.outputs.status).toBe('crash');
    expect(run.summary).toContain('cancelled');
    expect(stickyComments(prNumber)[0]!.body).toContain('Cancelled');
    expect(run.exitCode).toBe(1);
  });

  it('stops with a clear error in the job summary when the runner has no data snapshot', async () => {
    const bare = await mkdtemp(path.join(tmpdir(), 'arci-bare-home-'));
    try {
      const { run } = await pushExperiment(
        'autoresearch/exp',
        { 'train.py': trainPy({ value: 1.71 }) },
        'experiment: no data',
        { home: bare },
      );
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toMatch(/::error::.*shard_06542\.parquet/);
      expect(run.summary).toContain('autoresearch-ci failed');
      expect(run.summary).toContain('python3 prepare.py');
      // The "training…" comment does not stay behind: it says why there is no verdict.
      const comment = stickyComments(prNumber)[0]!.body;
      expect(comment).toContain('**Error** — no verdict');
      expect(comment).toContain('shard\\_06542.parquet');
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });

  it('names a bad input, its value and what is accepted', async () => {
    const { run } = await pushExperiment(
      'autoresearch/exp',
      { 'train.py': trainPy({ value: 1.72 }) },
      'experiment: bad input',
      {
        inputs: { confidence: 'high' },
      },
    );
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      "::error::input 'confidence' has value 'high': expected a probability between 0.5 and 0.9999",
    );
  });

  it('applies the protocol globs relative to working-directory in a monorepo', async () => {
    await gh.createRepo(OWNER, 'mono', {
      defaultBranch: 'main',
      files: {
        'README.md': '# mono\n',
        'exp/prepare.py': PREPARE_PY,
        'exp/train.py': trainPy({ value: 1.8 }),
        // This protocol does not list itself as forbidden: the action forbids it anyway.
        'exp/protocol.json': protocolJson(sharedProtocol, { forbidProtocolFile: false }),
      },
    });
    gh.setPermission(OWNER, 'mono', 'alice', 'write');
    const main = (await gh.resolveRef(OWNER, 'mono', 'refs/heads/main'))!;
    const judge = async (files: Record<string, string>, message: string) => {
      const sha = await gh.commitTo(OWNER, 'mono', 'autoresearch/m', files, message);
      const payload = await pushPayload(gh, OWNER, 'mono', {
        ref: 'autoresearch/m',
        before: main,
        sender: 'alice',
      });
      return runJob({
        repo: 'mono',
        eventName: 'push',
        payload,
        sha,
        ref: 'refs/heads/autoresearch/m',
        actor: 'alice',
        inputs: { 'working-directory': 'exp' },
      });
    };
    const ok = await judge({ 'exp/train.py': trainPy({ value: 1.74 }) }, 'experiment: in a folder');
    expect(ok.exitCode, ok.stdout).toBe(0);
    // Same machine, data, harness bytes and command as lab/mini: the runner's baseline applies.
    expect(ok.outputs.status).toBe('keep');
    expect(ok.outputs['val-bpb']).toMatch(/^1\.7/);
    const outside = await judge({ 'README.md': '# changed\n' }, 'experiment: touch the root');
    expect(outside.outputs.status).toBe('rejected');
    expect(outside.summary).toContain('../README.md');
    // The earlier push's README change is still on the branch: a push touching only train.py is
    // rejected too, because the guard checks the whole branch.
    const later = await judge({ 'exp/train.py': trainPy({ value: 1.73 }) }, 'experiment: only train.py');
    expect(later.outputs.status).toBe('rejected');
    await gh.commitTo(OWNER, 'mono', 'autoresearch/m', { 'README.md': '# mono\n' }, 'restore README');
    const widened = JSON.parse(protocolJson(sharedProtocol, { forbidProtocolFile: false }));
    widened.mutableSurface.allowedGlobs.push('**');
    const own = await judge({ 'exp/protocol.json': JSON.stringify(widened) }, 'experiment: allow everything');
    expect(own.outputs.status).toBe('rejected');
    expect(own.summary).toContain('protocol.json is forbidden by the protocol');
  });

  it('keeps the result when the API is down: summary, outputs and ledger still have it', async () => {
    gh.setDown(true);
    try {
      const { sha, run } = await pushExperiment(
        'autoresearch/exp',
        { 'train.py': trainPy({ value: 1.77 }) },
        'experiment: offline api',
      );
      expect(run.exitCode).toBe(1);
      expect(run.outputs.status).toBe('discard');
      expect(run.outputs['val-bpb']).toMatch(/^1\.7\d+$/);
      expect(run.summary).toContain('Not published');
      expect(JSON.parse((await ledgerLines()).at(-1)!)).toMatchObject({ commit: sha, status: 'discard' });
    } finally {
      gh.setDown(false);
    }
  });
});
