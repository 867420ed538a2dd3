import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BOT_IDENTITY, GitClient, GitCommandError, redactSecrets } from '../src/publish/git-client.js';
import {
  type CommitResultOptions,
  commitResultRow,
  ResultsCommitError,
} from '../src/publish/results-commit.js';
import { formatRow, type ResultRow } from '../src/publish/results-row.js';

const COLUMNS = ['commit', 'val_bpb', 'memory_gb', 'status', 'description'];
const HEADER = COLUMNS.join('\t');
const FILE = 'autoresearch-results/m4-max/results.tsv';
const FIXTURES = path.join(import.meta.dirname, 'fixtures/results-tsv');

const root = mkdtempSync(path.join(tmpdir(), 'arci-results-commit-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A home for the test's own git commands, so they read no config of the machine either. */
const testHome = path.join(root, 'test-home');
mkdirSync(testHome);
const testEnv = {
  PATH: process.env['PATH'] ?? '',
  HOME: testHome,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Researcher',
  GIT_AUTHOR_EMAIL: 'researcher@example.com',
  GIT_COMMITTER_NAME: 'Researcher',
  GIT_COMMITTER_EMAIL: 'researcher@example.com',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: testEnv, encoding: 'utf8' });
}

function gitBytes(cwd: string, ...args: string[]): Buffer {
  return execFileSync('git', args, { cwd, env: testEnv });
}

let counter = 0;
function freshDir(name: string): string {
  const dir = path.join(root, `${name}-${++counter}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** An empty bare repository standing in for GitHub, addressed by a file:// URL. */
function bareRemote(): { dir: string; url: string } {
  const dir = freshDir('remote');
  git(dir, 'init', '--bare', '--quiet');
  return { dir, url: pathToFileURL(dir).href };
}

/** Pushes a branch holding `files` to the remote, as a researcher would. */
function seedBranch(remoteUrl: string, branch: string, files: Record<string, string | Buffer>): string {
  const work = freshDir('seed');
  git(work, 'init', '--quiet');
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
    writeFileSync(path.join(work, file), content);
  }
  git(work, 'add', '--all');
  git(work, 'commit', '--quiet', '-m', 'seed');
  git(work, 'push', '--quiet', remoteUrl, `HEAD:refs/heads/${branch}`);
  return git(work, 'rev-parse', 'HEAD').trim();
}

/** A full sha whose 7-char short form is distinct for every `n`. */
function sha(n: number): string {
  return n.toString(16).padStart(7, 'a') + 'b'.repeat(33);
}

function rowFor(n: number, overrides: Partial<ResultRow> = {}): ResultRow {
  return {
    commit: sha(n),
    value: 1.5 + n / 1000,
    memoryGb: 12.3,
    status: 'keep',
    description: `experiment: change number ${n}`,
    ...overrides,
  };
}

function options(
  remoteUrl: string,
  n: number,
  extra: Partial<CommitResultOptions> = {},
): CommitResultOptions {
  const row = extra.row ?? rowFor(n);
  return {
    remoteUrl,
    branch: 'autoresearch-results',
    filePath: FILE,
    columns: COLUMNS,
    row,
    identity: { commit: row.commit },
    message: `results: ${row.commit.slice(0, 7)} ${row.status} [skip ci]`,
    orphan: true,
    baseDelayMs: 20,
    ...extra,
  };
}

function fileOnBranch(remoteDir: string, branch: string, file = FILE): Buffer {
  return gitBytes(remoteDir, 'show', `refs/heads/${branch}:${file}`);
}

function tipOf(remoteDir: string, branch: string): string {
  return git(remoteDir, 'rev-parse', `refs/heads/${branch}`).trim();
}

function linesFor(text: string, commit: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.startsWith(`${commit.slice(0, 7)}\t`));
}

let workDir: string;
beforeEach(() => {
  workDir = freshDir('work');
});

/** Every call must leave its temporary clone behind it removed. */
function expectCleanWorkDir(): void {
  expect(readdirSync(workDir)).toEqual([]);
}

describe('commitResultRow on a results branch', () => {
  it('creates the branch as an orphan holding only the results file', async () => {
    const remote = bareRemote();
    const lines: string[] = [];
    const result = await commitResultRow(options(remote.url, 1, { workDir, log: (l) => lines.push(l) }));

    expect(result).toEqual({
      commitSha: tipOf(remote.dir, 'autoresearch-results'),
      attempts: 1,
      changed: true,
    });
    expect(git(remote.dir, 'rev-list', '--count', 'autoresearch-results').trim()).toBe('1');
    expect(git(remote.dir, 'ls-tree', '-r', '--name-only', 'autoresearch-results').trim()).toBe(FILE);
    expect(fileOnBranch(remote.dir, 'autoresearch-results').toString()).toBe(
      `${HEADER}\n${formatRow(COLUMNS, rowFor(1))}\n`,
    );
    expect(lines.length).toBeGreaterThan(0);
    expectCleanWorkDir();
  });

  it('rewrites index.html at the root from every results file of the branch, this row included', async () => {
    const remote = bareRemote();
    const other = 'autoresearch/mar9/mac-mini/results.tsv';
    await commitResultRow(options(remote.url, 1, { workDir, filePath: other }));
    const seen: string[][] = [];
    const page = (files: Array<{ path: string; text: string }>) => {
      seen.push(files.map((f) => f.path));
      return `<html>${files.map((f) => `${f.path}:${f.text.split('\n').length}`).join(' ')}</html>`;
    };
    await commitResultRow(options(remote.url, 2, { workDir, page }));
    expect(seen).toEqual([[FILE, other]]);
    expect(
      git(remote.dir, 'ls-tree', '-r', '--name-only', 'autoresearch-results').trim().split('\n').sort(),
    ).toEqual([other, FILE, 'index.html'].sort());
    // Our file as committed (header, the new row, final newline) went into the page.
    expect(fileOnBranch(remote.dir, 'autoresearch-results', 'index.html').toString()).toBe(
      `<html>${FILE}:3 ${other}:3</html>`,
    );
    expectCleanWorkDir();
  });

  it('commits as the bot, with the [skip ci] message', async () => {
    const remote = bareRemote();
    await commitResultRow(options(remote.url, 1, { workDir }));
    const [authorName, authorEmail, committerName, committerEmail, subject] = git(
      remote.dir,
      'log',
      '-1',
      '--format=%an%n%ae%n%cn%n%ce%n%s',
      'autoresearch-results',
    ).split('\n');
    expect([authorName, committerName]).toEqual([BOT_IDENTITY.name, BOT_IDENTITY.name]);
    expect([authorEmail, committerEmail]).toEqual([BOT_IDENTITY.email, BOT_IDENTITY.email]);
    expect(subject).toMatch(/\[skip ci\]$/);
  });

  it('appends the next commit on top of the branch', async () => {
    const remote = bareRemote();
    const first = await commitResultRow(options(remote.url, 1, { workDir }));
    const second = await commitResultRow(options(remote.url, 2, { workDir }));

    expect(git(remote.dir, 'rev-parse', `${second.commitSha}^`).trim()).toBe(first.commitSha);
    expect(fileOnBranch(remote.dir, 'autoresearch-results').toString()).toBe(
      `${HEADER}\n${formatRow(COLUMNS, rowFor(1))}\n${formatRow(COLUMNS, rowFor(2))}\n`,
    );
    expectCleanWorkDir();
  });

  it('replaces the row of a re-run commit and commits nothing when it is unchanged', async () => {
    const remote = bareRemote();
    await commitResultRow(options(remote.url, 1, { workDir }));
    await commitResultRow(options(remote.url, 2, { workDir }));
    const rerun = rowFor(1, { value: 1.4, status: 'discard' });
    const replaced = await commitResultRow(options(remote.url, 1, { workDir, row: rerun }));
    expect(replaced.changed).toBe(true);

    const text = fileOnBranch(remote.dir, 'autoresearch-results').toString();
    expect(text).toBe(`${HEADER}\n${formatRow(COLUMNS, rerun)}\n${formatRow(COLUMNS, rowFor(2))}\n`);

    const again = await commitResultRow(options(remote.url, 1, { workDir, row: rerun }));
    expect(again).toEqual({ commitSha: replaced.commitSha, attempts: 1, changed: false });
    expect(tipOf(remote.dir, 'autoresearch-results')).toBe(replaced.commitSha);
    expectCleanWorkDir();
  });

  it.each([
    ['as published', (t: string) => t],
    ['CRLF without final newline', (t: string) => t.replace(/\n/g, '\r\n').replace(/\r\n$/, '')],
  ])('keeps every byte of a results file already on the branch (%s)', async (_label, shape) => {
    const remote = bareRemote();
    for (const name of readdirSync(FIXTURES)) {
      const original = Buffer.from(shape(readFileSync(path.join(FIXTURES, name), 'utf8')));
      const file = `results/${name}`;
      seedBranch(remote.url, name, { [file]: original, 'train.py': 'print("hi")\n' });

      await commitResultRow(options(remote.url, 7, { workDir, branch: name, filePath: file }));

      const after = fileOnBranch(remote.dir, name, file);
      const eol = original.includes('\r\n') ? '\r\n' : '\n';
      const kept = original.toString().endsWith('\n')
        ? original
        : Buffer.concat([original, Buffer.from(eol)]);
      expect(after.subarray(0, kept.length).equals(kept)).toBe(true);
      expect(linesFor(after.toString(), sha(7))).toHaveLength(1);
      expect(after.toString().endsWith(eol)).toBe(true);
      expect(fileOnBranch(remote.dir, name, 'train.py').toString()).toBe('print("hi")\n');
    }
    expectCleanWorkDir();
  });
});

describe('commitResultRow under concurrent pushes', () => {
  /** Holds every caller at its first push until `parties` callers have fetched, built and arrived. */
  function barrier(parties: number): (attempt: number) => Promise<void> {
    let arrived = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    return async (attempt) => {
      if (attempt !== 1) return;
      if (++arrived === parties) release();
      await gate;
    };
  }

  it.each([
    ['an existing branch', true],
    ['a branch both create', false],
  ])('two jobs writing to %s both land, one after a retry', async (_label, seeded) => {
    const remote = bareRemote();
    if (seeded) await commitResultRow(options(remote.url, 1, { workDir }));
    const beforePush = barrier(2);
    const logs: string[] = [];
    const log = (line: string) => logs.push(line);

    const results = await Promise.all([
      commitResultRow(options(remote.url, 2, { workDir, beforePush, log })),
      commitResultRow(options(remote.url, 3, { workDir, beforePush, log })),
    ]);

    expect(results.map((r) => r.attempts).sort()).toEqual([1, 2]);
    expect(logs.some((line) => /moved while we pushed; retrying/.test(line))).toBe(true);
    const text = fileOnBranch(remote.dir, 'autoresearch-results').toString();
    for (const n of seeded ? [1, 2, 3] : [2, 3]) expect(linesFor(text, sha(n))).toHaveLength(1);
    expect(text.split('\n').filter((l) => l === HEADER)).toHaveLength(1);
    expect(tipOf(remote.dir, 'autoresearch-results')).toBe(results.find((r) => r.attempts === 2)!.commitSha);
    expectCleanWorkDir();
  });

  it('re-applies its row on the new tip when another job pushes between its fetch and its push', async () => {
    const remote = bareRemote();
    await commitResultRow(options(remote.url, 1, { workDir }));
    let racerSha = '';
    const result = await commitResultRow(
      options(remote.url, 2, {
        workDir,
        beforePush: async (attempt) => {
          if (attempt === 1)
            racerSha = (await commitResultRow(options(remote.url, 9, { workDir }))).commitSha;
        },
      }),
    );

    expect(result.attempts).toBe(2);
    expect(git(remote.dir, 'rev-parse', `${result.commitSha}^`).trim()).toBe(racerSha);
    expect(fileOnBranch(remote.dir, 'autoresearch-results').toString()).toBe(
      [HEADER, ...[1, 9, 2].map((n) => formatRow(COLUMNS, rowFor(n))), ''].join('\n'),
    );
  });

  it('gives up after maxAttempts when the branch never stops moving, naming the branch', async () => {
    const remote = bareRemote();
    let racer = 100;
    const attempt = commitResultRow(
      options(remote.url, 2, {
        workDir,
        maxAttempts: 2,
        beforePush: async () => {
          await commitResultRow(options(remote.url, ++racer, { workDir }));
        },
      }),
    );
    await expect(attempt).rejects.toThrow(ResultsCommitError);
    await expect(attempt).rejects.toThrow(/autoresearch-results .* after 2 attempts/);
    expect(linesFor(fileOnBranch(remote.dir, 'autoresearch-results').toString(), sha(2))).toEqual([]);
    expectCleanWorkDir();
  });
});

describe('commitResultRow on the experiment branch', () => {
  it('adds results.tsv next to train.py on top of the experiment commit', async () => {
    const remote = bareRemote();
    const tip = seedBranch(remote.url, 'autoresearch/mar5', { 'train.py': 'lr = 0.04\n' });
    const result = await commitResultRow(
      options(remote.url, 1, {
        workDir,
        branch: 'autoresearch/mar5',
        filePath: 'results.tsv',
        orphan: false,
      }),
    );
    expect(git(remote.dir, 'rev-parse', `${result.commitSha}^`).trim()).toBe(tip);
    expect(
      git(remote.dir, 'ls-tree', '--name-only', 'autoresearch/mar5').split('\n').filter(Boolean),
    ).toEqual(['results.tsv', 'train.py']);
    expect(fileOnBranch(remote.dir, 'autoresearch/mar5', 'results.tsv').toString()).toBe(
      `${HEADER}\n${formatRow(COLUMNS, rowFor(1))}\n`,
    );
  });

  it('retries there too when the researcher pushes in between', async () => {
    const remote = bareRemote();
    seedBranch(remote.url, 'autoresearch/mar5', { 'train.py': 'lr = 0.04\n' });
    const researcher = freshDir('researcher');
    git(researcher, 'clone', '--quiet', remote.url, '.', '--branch', 'autoresearch/mar5');
    const result = await commitResultRow(
      options(remote.url, 1, {
        workDir,
        branch: 'autoresearch/mar5',
        filePath: 'results.tsv',
        orphan: false,
        beforePush: async (attempt) => {
          if (attempt !== 1) return;
          writeFileSync(path.join(researcher, 'train.py'), 'lr = 0.05\n');
          git(researcher, 'commit', '--quiet', '-am', 'experiment: lr 0.05');
          git(researcher, 'push', '--quiet');
        },
      }),
    );
    expect(result.attempts).toBe(2);
    expect(fileOnBranch(remote.dir, 'autoresearch/mar5', 'train.py').toString()).toBe('lr = 0.05\n');
    expect(
      linesFor(fileOnBranch(remote.dir, 'autoresearch/mar5', 'results.tsv').toString(), sha(1)),
    ).toHaveLength(1);
  });

  it('does not create a missing experiment branch', async () => {
    const remote = bareRemote();
    const attempt = commitResultRow(
      options(remote.url, 1, { workDir, branch: 'autoresearch/gone', orphan: false }),
    );
    await expect(attempt).rejects.toThrow(/branch autoresearch\/gone does not exist/);
    expect(git(remote.dir, 'for-each-ref').trim()).toBe('');
    expectCleanWorkDir();
  });
});

describe('commitResultRow with a file it cannot write', () => {
  it('names the file and branch when the file on the branch cannot take the row', async () => {
    const remote = bareRemote();
    seedBranch(remote.url, 'autoresearch-results', { [FILE]: 'commit\tval_loss\n' });
    const attempt = commitResultRow(options(remote.url, 1, { workDir }));
    await expect(attempt).rejects.toThrow(ResultsCommitError);
    await expect(attempt).rejects.toThrow(`${FILE} on branch autoresearch-results: results file header`);
    expectCleanWorkDir();
  });
});

describe('commitResultRow isolation', () => {
  it('reads no user config, runs no hooks and changes nothing in HOME', async () => {
    const remote = bareRemote();
    seedBranch(remote.url, 'autoresearch-results', { [FILE]: `${HEADER}\n` });
    const userHome = freshDir('user-home');
    const marker = path.join(userHome, 'hook-ran');
    const templates = path.join(userHome, 'templates');
    mkdirSync(path.join(templates, 'hooks'), { recursive: true });
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'pre-push', 'reference-transaction']) {
      writeFileSync(path.join(templates, 'hooks', hook), `#!/bin/sh\necho ${hook} >> "${marker}"\nexit 1\n`, {
        mode: 0o755,
      });
    }
    // Each of these would break or redirect the publish if it were read.
    const gitconfig = [
      `[init]\n\ttemplateDir = ${templates}`,
      `[core]\n\thooksPath = ${path.join(templates, 'hooks')}`,
      `[url "file:///nonexistent/"]\n\tinsteadOf = ${remote.url}`,
      '[user]\n\tname = Someone Else\n\temail = someone@example.com',
      '[commit]\n\tgpgSign = true',
      '',
    ].join('\n');
    writeFileSync(path.join(userHome, '.gitconfig'), gitconfig);

    const saved = { HOME: process.env['HOME'], GIT_TEMPLATE_DIR: process.env['GIT_TEMPLATE_DIR'] };
    process.env['HOME'] = userHome;
    process.env['GIT_TEMPLATE_DIR'] = templates;
    try {
      const result = await commitResultRow(options(remote.url, 1, { workDir }));
      expect(result.changed).toBe(true);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(path.join(userHome, '.gitconfig'), 'utf8')).toBe(gitconfig);
    expect(readdirSync(userHome).sort()).toEqual(['.gitconfig', 'templates']);
    expect(git(remote.dir, 'log', '-1', '--format=%an', 'autoresearch-results').trim()).toBe(
      BOT_IDENTITY.name,
    );
  });

  it('ignores hooks installed in its own clone', async () => {
    const remote = bareRemote();
    seedBranch(remote.url, 'results', { 'results.tsv': `${HEADER}\n` });
    const dir = freshDir('clone');
    const home = freshDir('home');
    const client = new GitClient({ dir, home });
    await client.init(remote.url);
    const marker = path.join(home, 'hook-ran');
    for (const hook of ['pre-push', 'reference-transaction', 'post-rewrite']) {
      writeFileSync(
        path.join(dir, '.git', 'hooks', hook),
        `#!/bin/sh\necho ${hook} >> "${marker}"\nexit 1\n`,
        {
          mode: 0o755,
        },
      );
    }
    const base = await client.fetchTip('results');
    const commit = await client.commitFile({
      parent: base,
      path: 'results.tsv',
      content: `${HEADER}\n${formatRow(COLUMNS, rowFor(1))}\n`,
      message: 'results [skip ci]',
    });
    await client.push(commit, 'results');
    expect(tipOf(remote.dir, 'results')).toBe(commit);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('commitResultRow input errors', () => {
  const remote = 'file:///nowhere';
  it.each<[string, Partial<CommitResultOptions>, RegExp]>([
    ['a message without [skip ci]', { message: 'results' }, /must end with \[skip ci\]/],
    ['a path leaving the repository', { filePath: '../results.tsv' }, /results file path "..\/results.tsv"/],
    ['an absolute path', { filePath: '/tmp/results.tsv' }, /results file path "\/tmp\/results.tsv"/],
    ['a bad branch name', { branch: 'bad branch..name' }, /branch "bad branch..name" is not a valid/],
    ['columns without commit', { columns: ['val_bpb'] }, /must include "commit"/],
    ['zero attempts', { maxAttempts: 0 }, /maxAttempts must be a positive integer/],
  ])('rejects %s before touching git', async (_label, bad, message) => {
    const attempt = commitResultRow({ ...options(remote, 1, { workDir }), ...bad });
    await expect(attempt).rejects.toThrow(ResultsCommitError);
    await expect(attempt).rejects.toThrow(message);
    expectCleanWorkDir();
  });
});

describe('commitResultRow authentication', () => {
  /** An HTTP remote that refuses everyone and remembers the headers it was sent. */
  async function refusingServer(): Promise<{
    url: string;
    headers: IncomingHttpHeaders[];
    close: () => void;
  }> {
    const headers: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      headers.push(req.headers);
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/owner/repo.git`,
      headers,
      close: () => server.close().closeAllConnections(),
    };
  }

  it('sends the token as a basic header and keeps it out of the error', async () => {
    const server = await refusingServer();
    const token = 'ghs_bogusTOKEN1234567890abcdefABCDEF';
    try {
      const error = await commitResultRow(options(server.url, 1, { workDir, token })).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(GitCommandError);
      const failure = error as GitCommandError;
      const encoded = Buffer.from(`x-access-token:${token}`).toString('base64');
      for (const text of [failure.message, failure.stderr, failure.args.join(' '), String(failure.stack)]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(encoded);
      }
      expect(failure.message).toMatch(/ls-remote/);
      expect(server.headers.some((h) => h.authorization === `basic ${encoded}`)).toBe(true);
    } finally {
      server.close();
    }
    expectCleanWorkDir();
  });

  /**
   * A real smart-HTTP remote (git http-backend behind a Node server) that only lets in requests
   * carrying the token, like GitHub does.
   */
  async function tokenGatedRemote(token: string): Promise<{ dir: string; url: string; close: () => void }> {
    const { dir } = bareRemote();
    const expected = `basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
    const server = createServer((req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end();
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const cgi = spawn('git', ['http-backend'], {
        env: {
          ...testEnv,
          GIT_PROJECT_ROOT: path.dirname(dir),
          GIT_HTTP_EXPORT_ALL: '1',
          REMOTE_USER: 'x-access-token',
          REQUEST_METHOD: req.method ?? 'GET',
          PATH_INFO: url.pathname.replace(/^\/owner\/repo\.git/, `/${path.basename(dir)}`),
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: req.headers['content-type'] ?? '',
          HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
          HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        },
      });
      req.pipe(cgi.stdin);
      const out: Buffer[] = [];
      cgi.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      cgi.on('close', () => {
        // CGI output: header lines, a blank line, then the body.
        const all = Buffer.concat(out);
        const split = all.indexOf('\r\n\r\n');
        const head = all.subarray(0, split).toString().split('\r\n');
        const headers: Record<string, string> = {};
        let status = 200;
        for (const line of head) {
          const [name = '', ...rest] = line.split(': ');
          if (name.toLowerCase() === 'status') status = Number.parseInt(rest.join(': '), 10);
          else headers[name] = rest.join(': ');
        }
        res.writeHead(status, headers).end(all.subarray(split + 4));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      dir,
      url: `http://127.0.0.1:${port}/owner/repo.git`,
      close: () => server.close().closeAllConnections(),
    };
  }

  it('creates and then appends on an HTTP remote that requires the token', async () => {
    const token = 'ghs_validTOKEN0987654321';
    const remote = await tokenGatedRemote(token);
    try {
      await commitResultRow(options(remote.url, 1, { workDir, token }));
      const second = await commitResultRow(options(remote.url, 2, { workDir, token }));
      expect(second).toMatchObject({ attempts: 1, changed: true });
      expect(fileOnBranch(remote.dir, 'autoresearch-results').toString()).toBe(
        `${HEADER}\n${formatRow(COLUMNS, rowFor(1))}\n${formatRow(COLUMNS, rowFor(2))}\n`,
      );
      const denied = await commitResultRow(options(remote.url, 3, { workDir, token: 'ghs_wrong' })).catch(
        (e: unknown) => e,
      );
      expect(denied).toBeInstanceOf(GitCommandError);
      expect((denied as Error).message).not.toContain('ghs_wrong');
    } finally {
      remote.close();
    }
    expectCleanWorkDir();
  });

  it('keeps credentials written into a URL out of the error too', async () => {
    const server = await refusingServer();
    try {
      const url = server.url.replace('http://', 'http://someone:hunter2secret@');
      const error = await commitResultRow(options(url, 1, { workDir })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitCommandError);
      expect((error as Error).message).not.toContain('hunter2secret');
    } finally {
      server.close();
    }
  });

  it('redacts the token, its header form and URL user info from any text', () => {
    const token = 'tok_123';
    const encoded = Buffer.from(`x-access-token:${token}`).toString('base64');
    const text = `a ${token} b ${encoded} c https://x-access-token:${token}@github.com/o/r`;
    const clean = redactSecrets(text, token);
    expect(clean).not.toContain(token);
    expect(clean).not.toContain(encoded);
    expect(clean).toContain('https://***@github.com/o/r');
  });
});
