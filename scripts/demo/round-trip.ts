/**
 * `npm run demo`: the whole product on the bundled example experiment, against the local GitHub
 * emulator — a baseline on workflow_dispatch, then a better and a worse experiment pushed to an
 * autoresearch branch with an open pull request. Prints the sticky comment and results.tsv.
 */
import { openExampleLab, withParams } from './example-lab.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const BRANCH = 'autoresearch/demo';
const EXPERIMENTS = [
  { subject: 'experiment: learning rate 0.5', params: { LEARNING_RATE: 0.5 } },
  { subject: 'experiment: learning rate 8', params: { LEARNING_RATE: 8 } },
];

const lab = await openExampleLab();
try {
  say('# autoresearch-ci demo\n');
  say('The example experiment (example/) is hosted on a local GitHub emulator; every step runs');
  say('the built action, node dist/index.js, as a self-hosted runner named mac-studio-1 would.');

  say('\n## 1. workflow_dispatch: establish the runner baseline (8 runs)');
  const b = await lab.baseline('demo');
  say(
    `status=${b.outputs.status} baseline-val-bpb=${b.outputs['baseline-val-bpb']} sigma=${b.outputs.sigma}`,
  );

  const pr = await lab.openPullRequest(BRANCH);
  for (const [i, exp] of EXPERIMENTS.entries()) {
    say(`\n## ${i + 2}. push: ${exp.subject}`);
    const run = await lab.pushExperiment(BRANCH, withParams(lab.trainPy, exp.params), exp.subject);
    say(
      `status=${run.outputs.status} verdict=${run.outputs.verdict} val-bpb=${run.outputs['val-bpb']} delta=${run.outputs.delta}`,
    );
  }
  say(`\n## The sticky comment on pull request #${pr}\n`);
  say(lab.comment(pr) ?? '(none)');
  say('\n## results.tsv on the autoresearch-results branch\n');
  say(await lab.resultsTsv(BRANCH));
} finally {
  await lab.close();
}
