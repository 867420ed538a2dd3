import { Octokit } from '@octokit/rest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './emulator/server.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('GitHub emulator catches requests and responses that break the REST description', () => {
  let gh: Emulator;
  let octokit: Octokit;

  beforeAll(async () => {
    gh = await startEmulator({ pathPrefix: '/api/v3' });
    octokit = new Octokit({ auth: gh.token, baseUrl: gh.apiUrl, log: quiet });
    await gh.createRepo('octo', 'lab', { files: { 'train.py': 'x = 1\n' } });
    await gh.commitTo('octo', 'lab', 'exp', { 'train.py': 'x = 2\n' });
    await gh.addPullRequest('octo', 'lab', { head: 'exp' });
  });

  afterEach(() => {
    gh.violations.splice(0);
  });

  afterAll(async () => {
    await gh?.close();
  });

  it('rejects a comment whose body is not a string', async () => {
    const error: { status: number; message: string } = await octokit
      .request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        owner: 'octo',
        repo: 'lab',
        issue_number: 1,
        body: 123 as unknown as string,
      })
      .then(
        () => ({ status: 0, message: 'accepted' }),
        (e: { status: number; message: string }) => e,
      );
    expect(error.status).toBe(500);
    expect(error.message).toContain('issues/create-comment');
    expect(error.message).toContain('body must be string');
    expect(gh.violations).toMatchObject([{ phase: 'request', operationId: 'issues/create-comment' }]);
    expect(gh.comments('octo', 'lab', 1)).toEqual([]);
    expect(() => gh.assertNoViolations()).toThrow(/issues\/create-comment.*body must be string/);
  });

  it('rejects a path parameter of the wrong type', async () => {
    await expect(octokit.request('GET /repos/octo/lab/pulls/first')).rejects.toMatchObject({ status: 500 });
    expect(gh.violations[0]?.errors.join()).toContain('path parameter pull_number must be integer');
  });

  it('rejects a query parameter outside its enum', async () => {
    await expect(octokit.request('GET /repos/octo/lab/pulls?state=merged')).rejects.toMatchObject({
      status: 500,
    });
    expect(gh.violations[0]?.errors.join()).toContain(
      'query parameter state must be equal to one of the allowed values',
    );
  });

  it('catches its own response when the state makes it invalid', async () => {
    const comment = gh.addComment('octo', 'lab', 1, 'seeded');
    comment.createdAt = 'yesterday';
    await expect(
      octokit.rest.issues.listComments({ owner: 'octo', repo: 'lab', issue_number: 1 }),
    ).rejects.toMatchObject({ status: 500 });
    expect(gh.violations).toMatchObject([
      { phase: 'response', operationId: 'issues/list-comments', status: 200 },
    ]);
    expect(gh.violations[0]?.errors.join()).toContain('created_at must match format "date-time"');
    comment.createdAt = comment.updatedAt;
  });

  it('flags paths GitHub does not have and paths outside the API prefix', async () => {
    await expect(octokit.request('GET /repos/octo/lab/no-such-thing')).rejects.toMatchObject({ status: 404 });
    const outside = new Octokit({ auth: gh.token, baseUrl: gh.serverUrl, log: quiet });
    await expect(outside.rest.repos.get({ owner: 'octo', repo: 'lab' })).rejects.toMatchObject({
      status: 404,
    });
    expect(gh.violations.map((v) => v.phase)).toEqual(['route', 'route']);
    expect(gh.violations[1]?.errors.join()).toContain('outside the API prefix /api/v3');
  });

  it('flags documented operations it does not implement', async () => {
    await expect(
      octokit.rest.issues.addLabels({ owner: 'octo', repo: 'lab', issue_number: 1, labels: ['x'] }),
    ).rejects.toMatchObject({ status: 500 });
    expect(gh.violations).toMatchObject([{ phase: 'route', operationId: 'issues/add-labels' }]);
  });
});
