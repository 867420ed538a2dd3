import { Octokit } from '@octokit/rest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './emulator/server.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe.each(['', '/api/v3'] as const)('GitHub emulator REST (prefix %j)', (pathPrefix) => {
  let gh: Emulator;
  let octokit: Octokit;
  let headSha: string;
  let baseSha: string;

  beforeAll(async () => {
    gh = await startEmulator({ pathPrefix });
    octokit = new Octokit({ auth: gh.token, baseUrl: gh.apiUrl, log: quiet });
    await gh.createRepo('octo', 'lab', {
      files: { 'train.py': 'lr = 0.1\n', 'prepare.py': 'data\n', 'README.md': 'hi\n' },
    });
    baseSha = (await gh.resolveRef('octo', 'lab', 'main'))!;
    await gh.commitTo('octo', 'lab', 'exp', { 'train.py': 'lr = 0.2\n' }, 'Raise lr');
    headSha = await gh.commitTo('octo', 'lab', 'exp', { 'notes.txt': 'n\n', 'README.md': null }, 'Notes');
    await gh.addPullRequest('octo', 'lab', { head: 'exp', user: 'alice', labels: ['autoresearch'] });
  });

  afterEach(() => {
    // Every test of this block talks to the emulator as a well-behaved client would.
    gh.assertNoViolations();
  });

  afterAll(async () => {
    await gh?.close();
  });

  it('serves the repository and the pull request with state from git', async () => {
    const repo = await octokit.rest.repos.get({ owner: 'octo', repo: 'lab' });
    expect(repo.data.full_name).toBe('octo/lab');
    expect(repo.data.default_branch).toBe('main');
    const pr = await octokit.rest.pulls.get({ owner: 'octo', repo: 'lab', pull_number: 1 });
    expect(pr.data.head).toMatchObject({ ref: 'exp', sha: headSha });
    expect(pr.data.base).toMatchObject({ ref: 'main', sha: baseSha });
    expect(pr.data.user?.login).toBe('alice');
    expect(pr.data.labels.map((l) => l.name)).toEqual(['autoresearch']);
  });
});
