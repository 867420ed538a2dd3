/**
 * `npm run demo`: the whole product on the bundled example experiment, against the local GitHub
 * emulator — a baseline on workflow_dispatch, then a better and a worse experiment pushed to an
 * autoresearch branch with an open pull request. Prints the sticky comment and results.tsv.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runActionProcess } from '../../test/e2e/run-action.js';
import { startEmulator } from '../../test/emulator/server.js';
import { pushPayload, workflowDispatchPayload } from '../../test/emulator/webhook-payloads.js';

const root = process.env.DEMO_ROOT ?? path.resolve(import.meta.dirname, '../..');
const example = path.join(root, 'example');
const say = (line: string) => process.stdout.write(`${line}\n`);

const files: Record<string, string> = {};
for (const name of ['prepare.py', 'train.py', 'protocol.json', 'README.md']) {
  files[name] = await readFile(path.join(example, name), 'utf8');
}
const home = await mkdtemp(path.join(tmpdir(), 'arci-demo-home-'));
const gh = await startEmulator();
try {
  say('# autoresearch-ci demo\n');
  say(`Runner home ${home}: one-time data prep (python3 prepare.py)`);
  await execa('python3', ['prepare.py'], { cwd: example, env: { ...process.env, HOME: home } });
  await gh.createRepo('lab', 'autoresearch-mini', { files, defaultBranch: 'main' });
  gh.setPermission('lab', 'autoresearch-mini', 'agent', 'write');
  const main = (await gh.resolveRef('lab', 'autoresearch-mini', 'refs/heads/main'))!;
  const base = {
    gh,
    owner: 'lab',
    repo: 'autoresearch-mini',
    home,
    actor: 'agent',
    runnerName: 'mac-studio-1',
  };

  say('\n## 1. workflow_dispatch: establish the runner baseline (3 runs)');
  const dispatch = workflowDispatchPayload(gh, 'lab', 'autoresearch-mini', {
    ref: 'main',
    inputs: { reason: 'demo' },
    sender: 'agent',
  });
  const b = await runActionProcess({
    ...base,
    eventName: 'workflow_dispatch',
    payload: dispatch,
    sha: main,
    ref: 'refs/heads/main',
  });
  say(
    `status=${b.outputs.status} baseline-val-bpb=${b.outputs['baseline-val-bpb']} sigma=${b.outputs.sigma}`,
  );

  await gh.commitTo('lab', 'autoresearch-mini', 'autoresearch/demo', {}, 'start the experiment branch');
  const pr = await gh.addPullRequest('lab', 'autoresearch-mini', {
    head: 'autoresearch/demo',
    base: 'main',
    user: 'agent',
    title: 'autoresearch: demo',
  });
  const experiments = [
    {
      subject: 'experiment: depth 6, learning rate 0.04',
      edit: (s: string) =>
        s.replace('DEPTH = 4', 'DEPTH = 6').replace('LEARNING_RATE = 0.02', 'LEARNING_RATE = 0.04'),
    },
    {
      subject: 'experiment: learning rate 0.5',
      edit: (s: string) =>
        s.replace('DEPTH = 4', 'DEPTH = 6').replace('LEARNING_RATE = 0.02', 'LEARNING_RATE = 0.5'),
    },
  ];
  let last = b;
  for (const [i, exp] of experiments.entries()) {
    say(`\n## ${i + 2}. push: ${exp.subject}`);
    const before = (await gh.resolveRef('lab', 'autoresearch-mini', 'refs/heads/autoresearch/demo'))!;
    const sha = await gh.commitTo(
      'lab',
      'autoresearch-mini',
      'autoresearch/demo',
      { 'train.py': exp.edit(files['train.py']!) },
      exp.subject,
    );
    const payload = await pushPayload(gh, 'lab', 'autoresearch-mini', {
      ref: 'autoresearch/demo',
      before,
      sender: 'agent',
    });
    last = await runActionProcess({
      ...base,
      eventName: 'push',
      payload,
      sha,
      ref: 'refs/heads/autoresearch/demo',
    });
    say(
      `status=${last.outputs.status} verdict=${last.outputs.verdict} val-bpb=${last.outputs['val-bpb']} delta=${last.outputs.delta}`,
    );
  }
  const comment = gh
    .comments('lab', 'autoresearch-mini', pr.number)
    .find((c) => c.body.startsWith('<!-- autoresearch-ci'));
  say(`\n## The sticky comment on pull request #${pr.number}\n`);
  say(comment?.body ?? '(none)');
  say('\n## results.tsv on the autoresearch-results branch\n');
  say(
    await gh.readFile(
      'lab',
      'autoresearch-mini',
      'autoresearch-results',
      'autoresearch/demo/mac-studio-1/results.tsv',
    ),
  );
  gh.assertNoViolations();
} finally {
  await gh.close();
  await rm(home, { recursive: true, force: true });
}
