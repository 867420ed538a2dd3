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
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { launchCommentBrowser } from '../test/support/browser.js';
import { openExampleLab, withParams } from './demo/example-lab.js';

// run-bundled.mjs bundles this file into scripts/bundled/, two folders below the root.
const root = path.resolve(import.meta.dirname, '../..');
const outArg = process.argv.indexOf('--out');
const outFile = path.resolve(
  outArg === -1 ? path.join(root, 'docs/comment-screenshot.png') : process.argv[outArg + 1]!,
);
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The example's hyperparameters an experiment sets, as they appear in train.py. */
interface Params {
  DEPTH: number;
  LEARNING_RATE: number;
  FINAL_LR_FRACTION: number;
}
const START: Params = { DEPTH: 3, LEARNING_RATE: 0.02, FINAL_LR_FRACTION: 0.1 };

// Hyperparameter changes as an agent tries them; a learning rate of 500 overflows the softmax
// (math domain error): a crash.
const EXPERIMENTS: Array<{ subject: string; params: Partial<Params> }> = [
  { subject: 'learning rate 0.1', params: { LEARNING_RATE: 0.1 } },
  { subject: 'depth 4', params: { LEARNING_RATE: 0.1, DEPTH: 4 } },
  { subject: 'learning rate 500', params: { LEARNING_RATE: 500 } },
  { subject: 'learning rate 0.5', params: { LEARNING_RATE: 0.5 } },
  { subject: 'depth 2', params: { LEARNING_RATE: 0.5, DEPTH: 2 } },
  { subject: 'final learning rate 30 %', params: { LEARNING_RATE: 0.5, FINAL_LR_FRACTION: 0.3 } },
  { subject: 'depth 5', params: { LEARNING_RATE: 0.5, DEPTH: 5 } },
  { subject: 'learning rate 1', params: { LEARNING_RATE: 1 } },
];

const lab = await openExampleLab();
try {
  const b = await lab.baseline('screenshot');
  say(
    `baseline: status=${b.outputs.status} val-bpb=${b.outputs['baseline-val-bpb']} sigma=${b.outputs.sigma}`,
  );
  if (b.outputs.status !== 'keep') throw new Error(`the baseline did not record:\n${b.stdout}\n${b.stderr}`);
  const branch = 'autoresearch/demo';
  const pr = await lab.openPullRequest(branch);
  for (const exp of EXPERIMENTS) {
    const run = await lab.pushExperiment(
      branch,
      withParams(lab.trainPy, { ...START, ...exp.params }),
      `experiment: ${exp.subject}`,
      {
        'fail-on': 'never',
      },
    );
    say(
      `${exp.subject}: status=${run.outputs.status} verdict=${run.outputs.verdict} val-bpb=${run.outputs['val-bpb'] ?? ''}`,
    );
  }
  const comment = lab.comment(pr);
  if (!comment) throw new Error(`no sticky comment on pull request #${pr}`);

  const browser = await launchCommentBrowser();
  try {
    const rendered = await browser.render(comment);
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
  await lab.close();
}
