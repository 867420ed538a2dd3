import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubEmulator, startEmulator } from '../emulator/server.js';
import { pushPayload, workflowDispatchPayload } from '../emulator/webhook-payloads.js';
import { PREPARE_PY, protocolJson, trainPy } from './project.js';
import { runActionProcess } from './run-action.js';

const shared = JSON.parse(
  await readFile(
    path.resolve(import.meta.dirname, '../../src/settings/autoresearch-mlx.protocol.json'),
    'utf8',
  ),
);
let gh: GitHubEmulator;
let home: string;

beforeAll(async () => {
  // GitHub Enterprise Server serves REST under /api/v3 and git at the server root.
  gh = await startEmulator({ pathPrefix: '/api/v3' });
  home = await mkdtemp(path.join(tmpdir(), 'arci-ghes-home-'));
  await gh.createRepo('corp', 'lab', {
    defaultBranch: 'main',
    files: {
      'prepare.py': PREPARE_PY,
      'train.py': trainPy({ value: 1.8 }),
      'protocol.json': protocolJson(shared),
    },
  });
  gh.setPermission('corp', 'lab', 'alice', 'write');
  const prep = await mkdtemp(path.join(tmpdir(), 'arci-ghes-prep-'));
  await writeFile(path.join(prep, 'prepare.py'), PREPARE_PY);
  await execa('python3', ['prepare.py'], { cwd: prep, env: { ...process.env, HOME: home } });
  await rm(prep, { recursive: true });
});

afterAll(async () => {
  gh.assertNoViolations();
  await gh.close();
  await rm(home, { recursive: true, force: true });
});

describe('against a GitHub Enterprise Server-shaped API (/api/v3)', () => {
  it('baselines, judges a pushed experiment, comments on its PR and records the row', async () => {
    expect(gh.apiUrl).toMatch(/\/api\/v3$/);
    const main = (await gh.resolveRef('corp', 'lab', 'refs/heads/main'))!;
    const common = { gh, owner: 'corp', repo: 'lab', actor: 'alice', home };
    const dispatch = workflowDispatchPayload(gh, 'corp', 'lab', { ref: 'main', sender: 'alice' });
    const base = await runActionProcess({
      ...common,
      eventName: 'workflow_dispatch',
      payload: dispatch,
      sha: main,
      ref: 'refs/heads/main',
    });
    expect(base.exitCode, base.stdout).toBe(0);
    expect(base.outputs.status).toBe('keep');

    const pr = await gh.openBranchPullRequest('corp', 'lab', 'autoresearch/x');
    const sha = await gh.commitTo(
      'corp',
      'lab',
      'autoresearch/x',
      { 'train.py': trainPy({ value: 1.7 }) },
      'experiment: enterprise',
    );
    const payload = await pushPayload(gh, 'corp', 'lab', {
      ref: 'autoresearch/x',
      before: main,
      sender: 'alice',
    });
    const run = await runActionProcess({
      ...common,
      eventName: 'push',
      payload,
      sha,
      ref: 'refs/heads/autoresearch/x',
    });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'keep', verdict: 'improved' });
    expect(
      gh.comments('corp', 'lab', pr.number).filter((c) => c.body.startsWith('<!-- autoresearch-ci')),
    ).toHaveLength(1);
    expect(
      await gh.readFile('corp', 'lab', 'autoresearch-results', 'autoresearch/x/mac-mini-1/results.tsv'),
    ).toContain(`${sha.slice(0, 7)}\t`);
    // The API was really used under the prefix; a request outside /api/v3 is a violation (afterAll).
    const operations = new Set(gh.requests.map((r) => r.operationId));
    for (const op of [
      'repos/list-pull-requests-associated-with-commit',
      'repos/compare-commits',
      'issues/create-comment',
    ]) {
      expect(operations.has(op), op).toBe(true);
    }
  });
});
