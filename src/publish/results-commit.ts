/**
 * Appends (or rewrites) one row of a results file on a branch with a bot commit. Works in its own
 * temporary clone, never in the workspace the training ran in, fetches only the branch tip, and
 * never force-pushes: when another job moved the branch first, it refetches, re-applies the row on
 * the new tip and tries again, so concurrent jobs never lose each other's rows.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GitClient, GitCommandError, redactSecrets } from './git-client.js';
import type { ResultsFile } from './progress-data.js';
import {
  type ResultRow,
  ResultsRowError,
  type RowIdentity,
  type UpsertResult,
  upsertRow,
} from './results-row.js';

/** What {@link commitResultRow} commits, and where. */
export interface CommitResultOptions {
  /** Remote repository URL (https, file:// or a path); must not carry credentials itself. */
  remoteUrl: string;
  /** Token for an HTTPS remote; sent as a header, never part of the URL. */
  token?: string;
  /** The results branch, or the experiment branch itself when results live next to train.py. */
  branch: string;
  /** Path of the results file in the branch, e.g. `autoresearch-results/<runner>/results.tsv`. */
  filePath: string;
  /** The protocol's results columns (used for the header of a new file). */
  columns: string[];
  row: ResultRow;
  identity: RowIdentity;
  /** Commit message; must end with `[skip ci]` so the bot commit triggers no workflow. */
  message: string;
  /** Create the branch as an orphan holding only the results file when it does not exist. */
  orphan: boolean;
  /**
   * Renders the progress page from every results file of the branch (this one already updated);
   * the page is committed as `index.html` at the branch root with the row.
   */
  page?: (files: ResultsFile[]) => string;
  /** Fetch-upsert-push attempts before giving up; default 5. */
  maxAttempts?: number;
  /** First retry delay in ms (doubled per attempt, jittered, capped at 15 s); default 1000. */
  baseDelayMs?: number;
  /** Receives one human line per step and per attempt. */
  log?: (line: string) => void;
  /** Parent directory for the temporary clone; the system temp dir by default. */
  workDir?: string;
  /** Called right before each push; lets tests move the branch at exactly that moment. */
  beforePush?: (attempt: number) => Promise<void>;
}

/** Result of {@link commitResultRow}. */
export interface CommitResultOutcome {
  /** The pushed commit, or the branch tip when the row was already there. */
  commitSha: string;
  /** Attempts made (1 when nothing raced us). */
  attempts: number;
  /** False when the same row was already present and nothing was committed. */
  changed: boolean;
}

/** Raised for options that cannot work, a missing experiment branch, or a branch that never settles. */
export class ResultsCommitError extends Error {
  override name = 'ResultsCommitError';
}

/** The progress page's name at the results branch root (what GitHub Pages serves first). */
export const PAGE_FILE = 'index.html';
const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 15_000;
/** Push refusals that mean "someone else updated the branch", as git words them (LC_ALL=C). */
const RACE_PATTERN =
  /\[rejected\]|\[remote rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to update ref|incorrect old value|stale info/i;

/** Writes `row` into `filePath` on `branch` of `remoteUrl` and pushes it, retrying when it races. */
export async function commitResultRow(options: CommitResultOptions): Promise<CommitResultOutcome> {
  validate(options);
  const { branch, filePath, log = () => {} } = options;
  const maxAttempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
  const remote = redactSecrets(options.remoteUrl, options.token);
  const root = await mkdtemp(path.join(options.workDir ?? tmpdir(), 'arci-results-'));
  try {
    const dir = path.join(root, 'repo');
    const home = path.join(root, 'home');
    await Promise.all([mkdir(dir), mkdir(home)]);
    const git = new GitClient({ dir, home, token: options.token || undefined });
    await git.init(options.remoteUrl);

    for (let attempt = 1; ; attempt++) {
      const base = await fetchBase(git, options, remote);
      log(
        `results: attempt ${attempt}/${maxAttempts}: ${base ? `${branch} at ${base.slice(0, 7)}` : `new orphan branch ${branch}`}`,
      );
      const current = base ? await git.readFile(base, filePath) : null;
      if (current?.mode === '120000') {
        throw new ResultsCommitError(
          `results: ${filePath} on ${branch} is a symbolic link; the action writes only regular files there. Replace it with a regular file (or remove it) on ${branch}.`,
        );
      }
      const upsert = upsertIn(current?.text ?? null, options);
      if (!upsert.changed && base) {
        log(`results: ${filePath} already holds this row; nothing to commit`);
        return { commitSha: base, attempts: attempt, changed: false };
      }
      const commit = await git.commitFile({
        parent: base,
        path: filePath,
        content: upsert.text,
        mode: current?.mode,
        also: options.page
          ? [{ path: PAGE_FILE, content: await pageOn(git, base, options, upsert.text) }]
          : [],
        message: options.message,
      });
      await options.beforePush?.(attempt);
      try {
        await git.push(commit, branch);
        log(
          `results: pushed ${commit.slice(0, 7)} to ${branch} (${upsert.replaced ? 'row replaced' : 'row added'})`,
        );
        return { commitSha: commit, attempts: attempt, changed: true };
      } catch (error) {
        if (!(error instanceof GitCommandError) || !(await raced(git, branch, base, error))) throw error;
        if (attempt >= maxAttempts) {
          throw new ResultsCommitError(
            `results: could not push to ${branch} of ${remote} after ${attempt} attempts because other jobs kept updating it; re-run the job (last error: ${error.stderr.trim()})`,
          );
        }
        const delay = backoff(attempt, options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS);
        log(
          `results: attempt ${attempt}/${maxAttempts}: ${branch} moved while we pushed; retrying in ${delay} ms`,
        );
        await sleep(delay);
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Fetches the branch tip to build on; `null` when the branch is missing and may be created. */
async function fetchBase(
  git: GitClient,
  options: CommitResultOptions,
  remote: string,
): Promise<string | null> {
  if ((await git.remoteTip(options.branch)) !== null) return git.fetchTip(options.branch);
  if (options.orphan) return null;
  throw new ResultsCommitError(
    `results: branch ${options.branch} does not exist on ${remote}; push the experiment branch before publishing, or use a separate results branch`,
  );
}

/** Every results file of the branch, with ours as it is about to be committed, into the page. */
async function pageOn(
  git: GitClient,
  base: string | null,
  options: CommitResultOptions,
  ours: string,
): Promise<string> {
  const name = path.posix.basename(options.filePath);
  const paths = base ? await git.filesNamed(base, name) : [];
  const files: ResultsFile[] = [{ path: options.filePath, text: ours }];
  for (const file of paths) {
    if (file === options.filePath) continue;
    const read = await git.readFile(base as string, file);
    if (read) files.push({ path: file, text: read.text });
  }
  return (options.page as NonNullable<CommitResultOptions['page']>)(files);
}

/** Upserts the row, naming the file and branch when the row or the file cannot take it. */
function upsertIn(text: string | null, options: CommitResultOptions): UpsertResult {
  try {
    return upsertRow(text, options.columns, options.row, options.identity);
  } catch (error) {
    if (!(error instanceof ResultsRowError)) throw error;
    throw new ResultsCommitError(`${options.filePath} on branch ${options.branch}: ${error.message}`);
  }
}

/** A push failure is a race when the branch is no longer where we built on, or git says so. */
async function raced(
  git: GitClient,
  branch: string,
  base: string | null,
  error: GitCommandError,
): Promise<boolean> {
  const tip = await git.remoteTip(branch).catch(() => undefined);
  return (tip !== undefined && tip !== base) || RACE_PATTERN.test(error.stderr);
}

/** Exponential backoff with ±50% jitter, so jobs that collided do not collide again in step. */
function backoff(attempt: number, baseMs: number): number {
  const nominal = Math.min(baseMs * 2 ** (attempt - 1), MAX_DELAY_MS);
  return Math.round(nominal * (0.5 + Math.random()));
}

function validate(options: CommitResultOptions): void {
  const fail = (what: string): never => {
    throw new ResultsCommitError(`results: ${what}`);
  };
  if (!options.message.trimEnd().endsWith('[skip ci]')) {
    fail(`commit message "${options.message}" must end with [skip ci] so the bot commit starts no workflow`);
  }
  const segments = options.filePath.split('/');
  if (
    options.filePath.startsWith('/') ||
    options.filePath.includes('\\') ||
    segments.some((s) => s === '' || s === '.' || s === '..' || s === '.git')
  ) {
    fail(
      `results file path "${options.filePath}" must be a relative path inside the repository such as autoresearch-results/<runner>/results.tsv`,
    );
  }
  if (
    !/^(?![-.])(?!.*\.\.)(?!.*\/\/)(?!.*\/\.)(?!.*@\{)[^\s~^:?*[\\\x00-\x1f\x7f]+(?<![./])(?<!\.lock)$/.test(
      options.branch,
    )
  ) {
    fail(
      `branch "${options.branch}" is not a valid git branch name; set the results branch input to e.g. autoresearch-results`,
    );
  }
  if (options.columns.length === 0 || !options.columns.includes('commit')) {
    fail(
      `results columns (${options.columns.join(', ')}) must include "commit"; check the protocol's provenance.resultsLog.columns`,
    );
  }
  const attempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
  if (!Number.isInteger(attempts) || attempts < 1)
    fail(`maxAttempts must be a positive integer, got ${attempts}`);
}
