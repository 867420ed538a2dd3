import { Octokit } from '@octokit/rest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './emulator/server.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe.each(['', '/api/v3'] as const)('GitHub emulator REST (prefix %j)', (pathPrefix) => {
  let gh: Emulator;
  let octokit: Octokit;
  let headSha: string;
  let firstSha: string;
  let baseSha: string;

  beforeAll(async () => {
    gh = await startEmulator({ pathPrefix });
    octokit = new Octokit({ auth: gh.token, baseUrl: gh.apiUrl, log: quiet });
    await gh.createRepo('octo', 'lab', {
      files: { 'train.py': 'lr = 0.1\n', 'prepare.py': 'data\n', 'README.md': 'hi\n' },
    });
    baseSha = (await gh.resolveRef('octo', 'lab', 'main'))!;
    firstSha = await gh.commitTo('octo', 'lab', 'exp', { 'train.py': 'lr = 0.2\n' }, 'Raise lr');
    headSha = await gh.commitTo('octo', 'lab', 'exp', { 'notes.txt': 'n\n', 'README.md': null }, 'Notes');
    await gh.addPullRequest('octo', 'lab', { head: 'exp', user: 'alice', labels: ['autoresearch'] });
    await gh.commitTo('octo', 'lab', 'other', { 'x.txt': 'x\n' });
    await gh.addPullRequest('octo', 'lab', { head: 'other', state: 'closed' });
  });

  afterEach(() => {
    // Every test of this block talks to the emulator as a well-behaved client does.
    try {
      gh.assertNoViolations();
    } finally {
      gh.violations.splice(0);
    }
  });

  afterAll(async () => {
    await gh?.close();
  });

  it('serves the repository and the pull request with state from git', async () => {
    const repo = await octokit.rest.repos.get({ owner: 'octo', repo: 'lab' });
    expect(repo.data.full_name).toBe('octo/lab');
    expect(repo.data.default_branch).toBe('main');
    expect(repo.data.clone_url).toBe(gh.gitUrl('octo', 'lab'));
    const pr = await octokit.rest.pulls.get({ owner: 'octo', repo: 'lab', pull_number: 1 });
    expect(pr.data.head).toMatchObject({ ref: 'exp', sha: headSha });
    expect(pr.data.base).toMatchObject({ ref: 'main', sha: baseSha });
    expect(pr.data.user?.login).toBe('alice');
    expect(pr.data.labels.map((l) => l.name)).toEqual(['autoresearch']);
    expect(pr.data.url.startsWith(gh.apiUrl)).toBe(true);
  });

  it('lists pull requests filtered by state and head, paginated with a Link header', async () => {
    const open = await octokit.rest.pulls.list({ owner: 'octo', repo: 'lab' });
    expect(open.data.map((p) => p.number)).toEqual([1]);
    const all = await octokit.rest.pulls.list({ owner: 'octo', repo: 'lab', state: 'all', per_page: 1 });
    expect(all.data.map((p) => p.number)).toEqual([2]);
    expect(all.headers.link).toContain('rel="next"');
    const everything = await octokit.paginate(octokit.rest.pulls.list, {
      owner: 'octo',
      repo: 'lab',
      state: 'all',
      per_page: 1,
    });
    expect(everything.map((p) => p.number)).toEqual([2, 1]);
    const byHead = await octokit.rest.pulls.list({
      owner: 'octo',
      repo: 'lab',
      state: 'all',
      head: 'octo:other',
    });
    expect(byHead.data.map((p) => p.number)).toEqual([2]);
    const none = await octokit.rest.pulls.list({ owner: 'octo', repo: 'lab', head: 'someone:exp' });
    expect(none.data).toEqual([]);
  });

  it('finds the pull requests of a commit, including earlier commits of the branch', async () => {
    const byHead = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: 'octo',
      repo: 'lab',
      commit_sha: headSha,
    });
    expect(byHead.data.map((p) => p.number)).toEqual([1]);
    const byEarlier = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: 'octo',
      repo: 'lab',
      commit_sha: firstSha,
    });
    expect(byEarlier.data.map((p) => p.number)).toEqual([1]);
    const onBase = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: 'octo',
      repo: 'lab',
      commit_sha: baseSha,
    });
    expect(onBase.data).toEqual([]);
  });

  it('reports collaborator permissions the way GitHub maps roles', async () => {
    gh.setPermission('octo', 'lab', 'maria', 'maintain');
    gh.setPermission('octo', 'lab', 'tri', 'triage');
    const get = (username: string) =>
      octokit.rest.repos.getCollaboratorPermissionLevel({ owner: 'octo', repo: 'lab', username });
    expect((await get('maria')).data).toMatchObject({ permission: 'write', role_name: 'maintain' });
    expect((await get('tri')).data).toMatchObject({ permission: 'read', role_name: 'triage' });
    expect((await get('octo')).data).toMatchObject({ permission: 'admin' });
    expect((await get('stranger')).data).toMatchObject({ permission: 'read' });
    gh.setPermission('octo', 'lab', 'stranger', 'none');
    expect((await get('stranger')).data).toMatchObject({ permission: 'none' });
  });

  it('compares two commits with the files git reports', async () => {
    const cmp = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: 'octo',
      repo: 'lab',
      basehead: `main...exp`,
    });
    expect(cmp.data.status).toBe('ahead');
    expect(cmp.data.ahead_by).toBe(2);
    expect(cmp.data.commits.map((c) => c.sha)).toEqual([firstSha, headSha]);
    const files = Object.fromEntries((cmp.data.files ?? []).map((f) => [f.filename, f.status]));
    expect(files).toEqual({ 'train.py': 'modified', 'notes.txt': 'added', 'README.md': 'removed' });
    const bySha = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: 'octo',
      repo: 'lab',
      basehead: `${firstSha}...${headSha}`,
    });
    expect(bySha.data.files?.map((f) => f.filename).sort()).toEqual(['README.md', 'notes.txt']);
  });

  it('creates, lists (more than 100, paginated) and updates comments', async () => {
    for (let i = 0; i < 105; i++) gh.addComment('octo', 'lab', 1, `seed ${i}`, { user: 'alice' });
    const created = await octokit.rest.issues.createComment({
      owner: 'octo',
      repo: 'lab',
      issue_number: 1,
      body: 'hello',
    });
    expect(created.status).toBe(201);
    expect(created.data.user).toMatchObject({ login: 'github-actions[bot]', type: 'Bot' });
    const all = await octokit.paginate(octokit.rest.issues.listComments, {
      owner: 'octo',
      repo: 'lab',
      issue_number: 1,
      per_page: 100,
    });
    expect(all).toHaveLength(106);
    expect(all.at(-1)?.id).toBe(created.data.id);
    const pages = gh.requests.filter((r) => r.operationId === 'issues/list-comments');
    expect(pages.map((r) => new URL(r.path, 'http://x').searchParams.get('page') ?? '1')).toEqual(['1', '2']);
    const updated = await octokit.rest.issues.updateComment({
      owner: 'octo',
      repo: 'lab',
      comment_id: created.data.id,
      body: 'edited',
    });
    expect(updated.data.body).toBe('edited');
    expect(gh.comments('octo', 'lab', 1).at(-1)?.body).toBe('edited');
    await expect(
      octokit.rest.issues.updateComment({ owner: 'octo', repo: 'lab', comment_id: 1, body: 'x' }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('answers GET /user for the token', async () => {
    const me = await octokit.rest.users.getAuthenticated();
    expect(me.data.login).toBe('github-actions[bot]');
  });

  it('refuses requests without the token with GitHub error bodies', async () => {
    const anonymous = new Octokit({ baseUrl: gh.apiUrl, log: quiet });
    await expect(anonymous.rest.repos.get({ owner: 'octo', repo: 'lab' })).rejects.toMatchObject({
      status: 401,
      response: { data: { message: 'Requires authentication' } },
    });
    const wrong = new Octokit({ auth: 'ghs_wrong', baseUrl: gh.apiUrl, log: quiet });
    await expect(wrong.rest.repos.get({ owner: 'octo', repo: 'lab' })).rejects.toMatchObject({
      status: 401,
      response: { data: { message: 'Bad credentials' } },
    });
  });

  it('fails the next requests on demand, then recovers', async () => {
    gh.failNext(2, 503);
    await expect(octokit.rest.repos.get({ owner: 'octo', repo: 'lab' })).rejects.toMatchObject({
      status: 503,
    });
    await expect(octokit.rest.repos.get({ owner: 'octo', repo: 'lab' })).rejects.toMatchObject({
      status: 503,
    });
    const ok = await octokit.rest.repos.get({ owner: 'octo', repo: 'lab' });
    expect(ok.status).toBe(200);
    expect(gh.requests.slice(-3).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('drops connections while down', async () => {
    gh.setDown(true);
    const error = await octokit.rest.repos.get({ owner: 'octo', repo: 'lab' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { status?: number }).status).toBe(500);
    expect(gh.requests.at(-1)?.status).toBe(0);
    gh.setDown(false);
    expect((await octokit.rest.repos.get({ owner: 'octo', repo: 'lab' })).status).toBe(200);
  });
});
