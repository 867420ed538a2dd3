/**
 * The picture in docs/comment-screenshot.png: the sticky comment a real job leaves, as GitHub
 * shows it. Runs the built action (dist/index.js) against the local GitHub emulator on the
 * example experiment: a baseline on workflow_dispatch, then eight experiments pushed to an
 * autoresearch branch with an open pull request (one of them crashes). The last experiment's
 * comment is rendered in headless Chromium (test/support/browser.ts), its history section opened
 * as a reader would, and the comment box saved as a PNG.
 *
 * Run through scripts/screenshot-comment.mjs. `--out FILE` writes elsewhere.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runActionProcess } from '../test/e2e/run-action.js';
import { startEmulator } from '../test/emulator/server.js';
import { pushPayload, workflowDispatchPayload } from '../test/emulator/webhook-payloads.js';
import { launchCommentBrowser } from '../test/support/browser.js';

const root = process.env.SCREENSHOT_ROOT ?? path.resolve(import.meta.dirname, '..');
const outArg = process.argv.indexOf('--out');
const outFile = path.resolve(
  outArg === -1 ? path.join(root, 'docs/comment-screenshot.png') : process.argv[outArg + 1]!,
);
const example = path.join(root, 'example');
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The example's hyperparameters an experiment sets, as they appear in train.py. */
interface Params {
  DEPTH: number;
  LEARNING_RATE: number;
  WARMUP_STEPS: number;
  BATCH_SIZE: number;
}
const START: Params = { DEPTH: 4, LEARNING_RATE: 0.02, WARMUP_STEPS: 20, BATCH_SIZE: 16 };

// Each experiment changes one thing from the best so far, as an agent would; a learning rate of
// 0 makes the example's quality formula raise (math domain error): a crash.
const EXPERIMENTS: Array<{ subject: string; params: Partial<Params> }> = [
  { subject: 'depth 5', params: { DEPTH: 5 } },
  { subject: 'learning rate 0.1', params: { DEPTH: 5, LEARNING_RATE: 0.1 } },
  { subject: 'learning rate 0 (frozen weights check)', params: { DEPTH: 5, LEARNING_RATE: 0 } },
  { subject: 'depth 6', params: { DEPTH: 6 } },
  { subject: 'batch size 32', params: { DEPTH: 6, BATCH_SIZE: 32 } },
  { subject: 'warmup 40 steps', params: { DEPTH: 6, WARMUP_STEPS: 40 } },
  { subject: 'depth 8', params: { DEPTH: 8, WARMUP_STEPS: 40 } },
  { subject: 'learning rate 0.04', params: { DEPTH: 6, WARMUP_STEPS: 40, LEARNING_RATE: 0.04 } },
];

function withParams(source: string, params: Partial<Params>): string {
  let out = source;
  for (const [name, value] of Object.entries({ ...START, ...params })) {
    const line = new RegExp(`^${name} = .*$`, 'm');
    if (!line.test(out)) throw new Error(`example/train.py has no line "${name} = …"`);
    out = out.replace(line, `${name} = ${value}`);
  }
  return out;
}

const files: Record<string, string> = {};
for (const name of ['prepare.py', 'train.py', 'protocol.json', 'README.md']) {
  files[name] = await readFile(path.join(example, name), 'utf8');
}
const home = await mkdtemp(path.join(tmpdir(), 'arci-screenshot-home-'));
const gh = await startEmulator();
try {
  await execa('python3', ['prepare.py'], { cwd: example, env: { ...process.env, HOME: home } });
  const owner = 'lab';
  const repo = 'autoresearch-mini';
  await gh.createRepo(owner, repo, { files, defaultBranch: 'main' });
  gh.setPermission(owner, repo, 'agent', 'write');
  const main = (await gh.resolveRef(owner, repo, 'refs/heads/main'))!;
  const base = { gh, owner, repo, home, actor: 'agent', runnerName: 'mac-studio-1' };

  const dispatch = workflowDispatchPayload(gh, owner, repo, { ref: 'main', sender: 'agent' });
  const b = await runActionProcess({
    ...base,
    eventName: 'workflow_dispatch',
    payload: dispatch,
    sha: main,
    ref: 'refs/heads/main',
  });
  say(
    `baseline: status=${b.outputs.status} val-bpb=${b.outputs['baseline-val-bpb']} sigma=${b.outputs.sigma}`,
  );
  if (b.outputs.status !== 'keep') throw new Error(`the baseline did not record:\n${b.stdout}\n${b.stderr}`);

  const branch = 'autoresearch/demo';
  await gh.commitTo(owner, repo, branch, {}, 'start the experiment branch');
  const pr = await gh.addPullRequest(owner, repo, {
    head: branch,
    base: 'main',
    user: 'agent',
    title: 'autoresearch: demo',
  });
  for (const exp of EXPERIMENTS) {
    const before = (await gh.resolveRef(owner, repo, `refs/heads/${branch}`))!;
    const sha = await gh.commitTo(
      owner,
      repo,
      branch,
      { 'train.py': withParams(files['train.py']!, exp.params) },
      `experiment: ${exp.subject}`,
    );
    const payload = await pushPayload(gh, owner, repo, { ref: branch, before, sender: 'agent' });
    const run = await runActionProcess({
      ...base,
      eventName: 'push',
      payload,
      sha,
      ref: `refs/heads/${branch}`,
      inputs: { 'fail-on': 'never' },
    });
    say(
      `${exp.subject}: status=${run.outputs.status} verdict=${run.outputs.verdict} val-bpb=${run.outputs['val-bpb'] ?? ''}`,
    );
  }
  const comment = gh.comments(owner, repo, pr.number).find((c) => c.body.startsWith('<!-- autoresearch-ci'));
  if (!comment) throw new Error(`no sticky comment on pull request #${pr.number}`);
  gh.assertNoViolations();

  const browser = await launchCommentBrowser();
  try {
    const rendered = await browser.render(comment.body);
    if (!rendered.mermaid.ok || rendered.mermaid.blocks !== 1) {
      throw new Error(`the chart did not render: ${JSON.stringify(rendered.mermaid)}`);
    }
    await rendered.page.locator('#comment-body details summary', { hasText: 'History' }).click();
    await rendered.page.locator('#comment').screenshot({ path: outFile });
  } finally {
    await browser.close();
  }
  say(`wrote ${path.relative(process.cwd(), outFile)} (${Math.round((await stat(outFile)).size / 1024)} KB)`);
} finally {
  await gh.close();
  await rm(home, { recursive: true, force: true });
}
