/**
 * The only place the publish stage runs git. Every command runs isolated from the machine it is on:
 * hooks off, no system or user config (HOME is a private empty directory), no credential helpers or
 * prompts, and the token travels as an HTTP header set through the environment, so it never shows
 * in argv, in remote URLs, or in our error messages.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';

/** The identity GitHub shows as "github-actions[bot]" on commits. */
export const BOT_IDENTITY = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com',
} as const;

/** A git command failed; `args` and `stderr` are already free of the token. */
export class GitCommandError extends Error {
  override name = 'GitCommandError';
  constructor(
    /** The git arguments (after the fixed `-c` options), redacted. */
    readonly args: string[],
    /** What git printed on stderr, redacted. */
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed: ${stderr.trim() || '(no output)'}`);
  }
}

/** Options of a {@link GitClient}. */
export interface GitClientOptions {
  /** Working directory of the repository (must exist; `init` makes it a repository). */
  dir: string;
  /** An empty private directory used as HOME, so no user config is read and none is written. */
  home: string;
  /** GitHub token for HTTPS remotes; sent as an `Authorization: basic` header. */
  token?: string;
  /** Kill a git process that prints nothing for this long (ms); default 120 s. */
  idleTimeoutMs?: number;
}

/** A file read from a commit: its text and its mode (kept when the file is rewritten). */
export interface CommittedFile {
  text: string;
  mode: string;
}

/** What {@link GitClient.commitFile} writes. */
export interface FileCommit {
  /** Commit the new one builds on; `null` makes a root (orphan) commit holding only this file. */
  parent: string | null;
  /** Path inside the repository, `/`-separated. */
  path: string;
  content: string;
  /** Git file mode; `100644` when not given. */
  mode?: string;
  /** More files set by the same commit (mode 100644), e.g. the progress page. */
  also?: Array<{ path: string; content: string }>;
  message: string;
}

/** `-c` options on every command: no hooks, no credential helper, no background gc. */
const FIXED_CONFIG = [
  'core.hooksPath=/dev/null',
  'credential.helper=',
  'gc.auto=0',
  'maintenance.auto=false',
];

/** Variables passed through from the process: the ones that make the network reachable. */
const PASSTHROUGH_ENV = [
  'PATH',
  'TMPDIR',
  'SYSTEMROOT',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'GIT_SSL_CAINFO',
];

/** The `http.extraHeader` value that authenticates `token` the way actions/checkout does. */
function basicAuthHeader(token: string): string {
  return `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/** Removes the token (plain, in the header form, in URL user info) from text meant for logs. */
export function redactSecrets(text: string, token?: string): string {
  let out = text.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1***@');
  if (token) {
    for (const secret of [Buffer.from(`x-access-token:${token}`).toString('base64'), token]) {
      out = out.split(secret).join('***');
    }
  }
  return out;
}

/** Environment of every git command: built from scratch so nothing of the machine's git setup leaks in. */
function gitEnvironment(home: string, token?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of PASSTHROUGH_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    LC_ALL: 'C',
    LANG: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: BOT_IDENTITY.name,
    GIT_AUTHOR_EMAIL: BOT_IDENTITY.email,
    GIT_COMMITTER_NAME: BOT_IDENTITY.name,
    GIT_COMMITTER_EMAIL: BOT_IDENTITY.email,
  });
  if (token) {
    // Config from the environment: visible to git and its children, never on a command line.
    Object.assign(env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: basicAuthHeader(token),
    });
  }
  return env;
}

/** Git for one temporary repository, with the isolation described above. */
export class GitClient {
  readonly #git: SimpleGit;
  readonly #dir: string;
  readonly #token: string | undefined;

  constructor(options: GitClientOptions) {
    this.#dir = options.dir;
    this.#token = options.token;
    const env = gitEnvironment(options.home, options.token);
    this.#git = simpleGit({
      baseDir: options.dir,
      config: FIXED_CONFIG,
      maxConcurrentProcesses: 1,
      timeout: { block: options.idleTimeoutMs ?? 120_000 },
      // simple-git guards these settings because callers could inject them; here they are ours.
      allowEnvironment: Object.keys(env).filter((key) => key.startsWith('GIT_')),
      unsafe: {
        allowUnsafeHooksPath: true,
        allowUnsafeCredentialHelper: true,
        allowUnsafeConfigEnvCount: true,
      },
      // Every non-zero exit is an error (simple-git's default ignores one without stderr).
      errors: (error, result) =>
        result.exitCode === 0 ? error : Buffer.concat(result.stdErr.length ? result.stdErr : result.stdOut),
    }).env(env);
  }

  /** Runs `git <args>` and returns stdout; throws a redacted {@link GitCommandError} on failure. */
  run(args: string[]): Promise<string> {
    return this.#guard(args, () => this.#git.raw(args));
  }

  /** Makes the directory an empty repository whose `origin` is `remoteUrl`. */
  async init(remoteUrl: string): Promise<void> {
    await this.run(['init', '--quiet']);
    await this.run(['remote', 'add', 'origin', remoteUrl]);
  }

  /** The sha `branch` points at on `origin`, or `null` when the branch does not exist there. */
  async remoteTip(branch: string): Promise<string | null> {
    const out = await this.run(['ls-remote', 'origin', `refs/heads/${branch}`]);
    const line = out.split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`));
    return line ? line.split('\t')[0]! : null;
  }

  /** Fetches only the tip commit of `branch` (depth 1) and returns its sha. */
  async fetchTip(branch: string): Promise<string> {
    const ref = `refs/remotes/origin/${branch}`;
    await this.run([
      'fetch',
      '--quiet',
      '--depth',
      '1',
      '--no-tags',
      'origin',
      `+refs/heads/${branch}:${ref}`,
    ]);
    return (await this.run(['rev-parse', '--verify', `${ref}^{commit}`])).trim();
  }

  /** Reads `file` from `commit`; `null` when the commit has no such file. Only UTF-8 text is accepted. */
  async readFile(commit: string, file: string): Promise<CommittedFile | null> {
    const entry = await this.run(['ls-tree', '-z', commit, '--', file]);
    if (entry === '') return null;
    const [meta = ''] = entry.split('\t');
    const [mode = '', type = '', sha = ''] = meta.split(' ');
    if (type !== 'blob') {
      throw new GitCommandError(['ls-tree', commit, '--', file], `${file} is a ${type}, not a file`);
    }
    const bytes: Buffer = await this.#guard(['cat-file', 'blob', sha], () =>
      this.#git.binaryCatFile(['blob', sha]),
    );
    try {
      // ignoreBOM keeps a byte-order mark in the text, so rewriting the file keeps it too.
      return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), mode };
    } catch {
      throw new GitCommandError(['cat-file', 'blob', sha], `${file} is not UTF-8 text`);
    }
  }

  /**
   * Creates a commit that sets one file, without a checkout: plumbing commands build the tree from
   * the parent's, so nothing is written to a working tree and no commit hook can run.
   */
  async commitFile(change: FileCommit): Promise<string> {
    const scratch = path.join(this.#dir, '.git', `publish-${randomUUID()}`);
    await writeFile(scratch, change.content);
    const blob = (await this.run(['hash-object', '-w', '--no-filters', scratch])).trim();
    await this.run(change.parent ? ['read-tree', change.parent] : ['read-tree', '--empty']);
    await this.run([
      'update-index',
      '--add',
      '--cacheinfo',
      `${change.mode ?? '100644'},${blob},${change.path}`,
    ]);
    for (const extra of change.also ?? []) {
      await writeFile(scratch, extra.content);
      const extraBlob = (await this.run(['hash-object', '-w', '--no-filters', scratch])).trim();
      await this.run(['update-index', '--add', '--cacheinfo', `100644,${extraBlob},${extra.path}`]);
    }
    const tree = (await this.run(['write-tree'])).trim();
    await writeFile(scratch, change.message);
    const parents = change.parent ? ['-p', change.parent] : [];
    return (await this.run(['commit-tree', tree, ...parents, '-F', scratch])).trim();
  }

  /** Paths of the files in `commit` whose name is `name`, anywhere in the tree. */
  async filesNamed(commit: string, name: string): Promise<string[]> {
    const listing = await this.run(['ls-tree', '-r', '-z', '--name-only', commit]);
    return listing.split('\0').filter((p) => p === name || p.endsWith(`/${name}`));
  }

  /** Pushes `commit` to `branch` on origin; never forced, so a moved branch rejects it. */
  async push(commit: string, branch: string): Promise<void> {
    await this.run(['push', '--quiet', '--no-verify', 'origin', `${commit}:refs/heads/${branch}`]);
  }

  async #guard<T>(args: string[], task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      throw new GitCommandError(
        args.map((arg) => redactSecrets(arg, this.#token)),
        redactSecrets(text, this.#token),
      );
    }
  }
}
