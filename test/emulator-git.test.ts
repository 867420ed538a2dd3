import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './emulator/server.js';

/** Runs git with no user or system configuration (so no credential helper can help). */
function git(args: string[], cwd: string) {
  return execa('git', args, {
    cwd,
    env: {
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
      GIT_AUTHOR_NAME: 'Tester',
      GIT_AUTHOR_EMAIL: 'tester@example.com',
      GIT_COMMITTER_NAME: 'Tester',
      GIT_COMMITTER_EMAIL: 'tester@example.com',
    },
  });
}

describe('GitHub emulator git over smart HTTP', () => {
  let gh: Emulator;
  let work: string;
  let basicHeader: string;

  beforeAll(async () => {
    gh = await startEmulator();
    work = await mkdtemp(path.join(tmpdir(), 'gh-emulator-test-'));
    basicHeader = `Authorization: basic ${Buffer.from(`x-access-token:${gh.token}`).toString('base64')}`;
    await gh.createRepo('octo', 'lab', {
      files: { 'train.py': 'lr = 0.1\n', 'results.tsv': 'commit\tval_bpb\n' },
    });
  });

  afterAll(async () => {
    await gh?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('clones with a token header, pushes a commit, and the push lands in the bare repository', async () => {
    const dir = path.join(work, 'clone');
    await git(
      ['-c', `http.extraHeader=${basicHeader}`, 'clone', '--quiet', gh.gitUrl('octo', 'lab'), dir],
      work,
    );
    expect(await readFile(path.join(dir, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    await writeFile(path.join(dir, 'results.tsv'), 'commit\tval_bpb\nabc1234\t0.997\n');
    await git(['commit', '--quiet', '-am', 'Record result'], dir);
    const sha = (await git(['rev-parse', 'HEAD'], dir)).stdout;
    await git(['-c', `http.extraHeader=${basicHeader}`, 'push', '--quiet', 'origin', 'HEAD:main'], dir);
    expect(await gh.readFile('octo', 'lab', 'main', 'results.tsv')).toBe('commit\tval_bpb\nabc1234\t0.997\n');
    expect(await gh.resolveRef('octo', 'lab', 'main')).toBe(sha);
    const push = gh.requests.find((r) => r.kind === 'git' && r.push);
    expect(push).toMatchObject({
      method: 'POST',
      status: 200,
      push: [{ ref: 'refs/heads/main', after: sha }],
    });
  });

  it('accepts a bearer header and x-access-token in the URL', async () => {
    const bearer = path.join(work, 'bearer');
    await git(
      [
        '-c',
        `http.extraHeader=Authorization: bearer ${gh.token}`,
        'clone',
        '--quiet',
        gh.gitUrl('octo', 'lab'),
        bearer,
      ],
      work,
    );
    const url = gh.gitUrl('octo', 'lab').replace('http://', `http://x-access-token:${gh.token}@`);
    const inUrl = path.join(work, 'in-url');
    await git(['clone', '--quiet', url, inUrl], work);
    expect(await readFile(path.join(inUrl, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
  });

  it('refuses to clone without credentials, answering like github.com', async () => {
    const result = await git(['clone', gh.gitUrl('octo', 'lab'), path.join(work, 'anonymous')], work).catch(
      (e: { exitCode: number; stderr: string }) => e,
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/terminal prompts disabled|Authentication failed/);
    const response = await fetch(`${gh.gitUrl('octo', 'lab')}/info/refs?service=git-upload-pack`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="GitHub"');
  });

  it('fetches one commit by sha with depth 1, as actions/checkout does', async () => {
    const older = await gh.commitTo('octo', 'lab', 'exp', { 'train.py': 'lr = 0.2\n' }, 'Try lr 0.2');
    await gh.commitTo('octo', 'lab', 'exp', { 'train.py': 'lr = 0.3\n' }, 'Try lr 0.3');
    const dir = path.join(work, 'shallow');
    await git(['init', '--quiet', dir], work);
    await git(['remote', 'add', 'origin', gh.gitUrl('octo', 'lab')], dir);
    await git(
      [
        '-c',
        `http.extraHeader=${basicHeader}`,
        '-c',
        'protocol.version=2',
        'fetch',
        '--quiet',
        '--no-tags',
        '--depth=1',
        'origin',
        older,
      ],
      dir,
    );
    await git(['checkout', '--quiet', older], dir);
    expect(await readFile(path.join(dir, 'train.py'), 'utf8')).toBe('lr = 0.2\n');
    expect((await git(['rev-list', '--count', 'HEAD'], dir)).stdout).toBe('1');
  });

  it('can fail git requests on demand', async () => {
    gh.failNext(1, 503, { git: true });
    const failed = await git(
      ['-c', `http.extraHeader=${basicHeader}`, 'ls-remote', gh.gitUrl('octo', 'lab')],
      work,
    ).catch((e: { exitCode: number }) => e);
    expect(failed.exitCode).not.toBe(0);
    const ok = await git(
      ['-c', `http.extraHeader=${basicHeader}`, 'ls-remote', gh.gitUrl('octo', 'lab')],
      work,
    );
    expect(ok.stdout).toContain('refs/heads/main');
  });

  it('stores fork pull request heads under refs/pull/<n>/head of the base repository', async () => {
    await gh.createRepo('mallory', 'lab', { forkOf: 'octo/lab' });
    const sha = await gh.commitTo('mallory', 'lab', 'evil', { 'prepare.py': 'import os\n' }, 'Touch harness');
    const pr = await gh.addPullRequest('octo', 'lab', { head: 'evil', headRepo: 'mallory/lab' });
    expect(pr.head).toEqual({ ref: 'evil', sha, repo: 'mallory/lab' });
    expect(await gh.resolveRef('octo', 'lab', `refs/pull/${pr.number}/head`)).toBe(sha);
    expect(await gh.readFile('octo', 'lab', sha, 'prepare.py')).toBe('import os\n');
  });
});
