import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './emulator/server.js';
import {
  pullRequestPayload,
  pushPayload,
  workflowDispatchPayload,
  writeEventFile,
} from './emulator/webhook-payloads.js';

/** What @actions/github's `context` makes of an event file, read in a separate Node process. */
async function actionsContext(eventPath: string, eventName: string) {
  const script =
    "const { context } = await import('@actions/github');" +
    'console.log(JSON.stringify({ repo: context.repo, issue: context.issue, payload: context.payload }));';
  const { GITHUB_REPOSITORY: _omit, ...env } = process.env;
  const result = await execa(process.execPath, ['--input-type=module', '-e', script], {
    cwd: process.cwd(),
    env: { ...env, GITHUB_EVENT_PATH: eventPath, GITHUB_EVENT_NAME: eventName },
    extendEnv: false,
  });
  return JSON.parse(result.stdout) as {
    repo: { owner: string; repo: string };
    issue: { number: number };
    payload: any;
  };
}

describe('webhook payloads rewritten to the emulator state', () => {
  let gh: Emulator;
  let mainSha: string;
  let headSha: string;

  beforeAll(async () => {
    gh = await startEmulator();
    await gh.createRepo('octo', 'lab', { files: { 'train.py': 'lr = 0.1\n', 'README.md': 'r\n' } });
    mainSha = (await gh.resolveRef('octo', 'lab', 'main'))!;
    await gh.commitTo('octo', 'lab', 'exp', { 'train.py': 'lr = 0.2\n' });
    headSha = await gh.commitTo('octo', 'lab', 'exp', { 'notes.md': 'n\n', 'README.md': null });
    await gh.addPullRequest('octo', 'lab', { head: 'exp', user: 'alice' });
    await gh.createRepo('mallory', 'lab', { forkOf: 'octo/lab' });
    await gh.commitTo('mallory', 'lab', 'evil', { 'prepare.py': 'x\n' });
    await gh.addPullRequest('octo', 'lab', { head: 'evil', headRepo: 'mallory/lab' });
  });

  afterAll(async () => {
    await gh?.close();
  });

  it('builds a pull_request synchronize event that @actions/github reads back', async () => {
    const payload = pullRequestPayload(gh, 'octo', 'lab', 1, 'synchronize', { before: mainSha });
    const file = await writeEventFile(payload);
    try {
      expect(JSON.parse(await readFile(file.path, 'utf8'))).toEqual(payload);
      const ctx = await actionsContext(file.path, 'pull_request');
      expect(ctx.repo).toEqual({ owner: 'octo', repo: 'lab' });
      expect(ctx.issue.number).toBe(1);
      expect(ctx.payload.action).toBe('synchronize');
      expect(ctx.payload.after).toBe(headSha);
      expect(ctx.payload.pull_request.head).toMatchObject({ ref: 'exp', sha: headSha });
      expect(ctx.payload.pull_request.head.repo.full_name).toBe('octo/lab');
      expect(ctx.payload.sender.login).toBe('alice');
      expect(JSON.stringify(payload)).not.toContain('Codertocat');
    } finally {
      await file.remove();
    }
  });

  it('builds an opened event for a fork pull request', () => {
    const payload = pullRequestPayload(gh, 'octo', 'lab', 2, 'opened');
    expect(payload['action']).toBe('opened');
    expect(payload['before']).toBeUndefined();
    expect(payload['pull_request'].head.repo).toMatchObject({ full_name: 'mallory/lab', fork: true });
    expect(payload['pull_request'].base.repo.full_name).toBe('octo/lab');
    expect(payload['sender'].login).toBe('mallory');
  });

  it('builds a push event listing the pushed commits and their files', async () => {
    const payload = await pushPayload(gh, 'octo', 'lab', { ref: 'exp', before: mainSha });
    expect(payload).toMatchObject({ ref: 'refs/heads/exp', before: mainSha, after: headSha, created: false });
    expect(payload['commits']).toHaveLength(2);
    expect(payload['head_commit']).toMatchObject({
      id: headSha,
      added: ['notes.md'],
      removed: ['README.md'],
      modified: [],
    });
    expect(payload['repository'].full_name).toBe('octo/lab');
    expect(typeof payload['repository'].pushed_at).toBe('number');
  });

  it('builds a workflow_dispatch event with inputs', async () => {
    const payload = workflowDispatchPayload(gh, 'octo', 'lab', { ref: 'exp', inputs: { runs: '3' } });
    const file = await writeEventFile(payload);
    try {
      const ctx = await actionsContext(file.path, 'workflow_dispatch');
      expect(ctx.repo).toEqual({ owner: 'octo', repo: 'lab' });
      expect(ctx.payload).toMatchObject({ ref: 'refs/heads/exp', inputs: { runs: '3' } });
      expect(ctx.payload.organization).toBeUndefined();
    } finally {
      await file.remove();
    }
  });
});
