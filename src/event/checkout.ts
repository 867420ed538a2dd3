import { simpleGit } from 'simple-git';

/** The commit the working directory holds. */
export interface CheckoutInfo {
  sha: string;
  subject: string;
  /** Branch name, or undefined on a detached HEAD (actions/checkout of a sha). */
  branch?: string;
  /** Whether tracked files differ from HEAD (a local run of uncommitted edits). */
  dirty: boolean;
}

/**
 * Describes the checkout with git; a directory that is not a repository yields undefined (the local
 * CLI works on plain folders too).
 */
export async function describeCheckout(dir: string): Promise<CheckoutInfo | undefined> {
  const git = simpleGit({ baseDir: dir });
  try {
    if (!(await git.checkIsRepo())) return undefined;
    const sha = (await git.revparse(['HEAD'])).trim();
    const subject = (await git.raw(['log', '-1', '--format=%s', 'HEAD'])).trim();
    const branch = (await git.raw(['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
    const status = await git.status(['--untracked-files=no']);
    return { sha, subject, ...(branch && branch !== 'HEAD' ? { branch } : {}), dirty: !status.isClean() };
  } catch {
    // A repository without commits, or git missing: treat like a plain folder.
    return undefined;
  }
}

/**
 * Paths changed from `base` to `head` in a local clone (renames give both names), or undefined when
 * the clone lacks either commit. `base` may be a branch name (a new branch: its default branch).
 */
export async function localChangedPaths(
  dir: string,
  base: string,
  head: string,
): Promise<string[] | undefined> {
  const out = await rawAgainstBase(dir, base, (ref) => [
    'diff',
    '--name-status',
    '-M',
    `${ref}...${head}`,
    '--',
  ]);
  if (out === undefined) return undefined;
  const paths = new Set<string>();
  for (const line of out.split('\n')) {
    for (const p of line.split('\t').slice(1)) if (p) paths.add(p);
  }
  return [...paths].sort();
}

/** Runs a git command naming `base` as given, then as `origin/<base>`; undefined when this clone has neither. */
async function rawAgainstBase(
  dir: string,
  base: string,
  args: (ref: string) => string[],
): Promise<string | undefined> {
  const git = simpleGit({ baseDir: dir });
  for (const candidate of [base, `origin/${base}`]) {
    try {
      return await git.raw(args(candidate));
    } catch {
      // Not in this clone under that name; try the next.
    }
  }
  return undefined;
}

/**
 * Where `dir` sits inside its repository, as a POSIX path (`''` at the root or outside any
 * repository): changed paths come relative to the repository root, protocol globs relative to here.
 */
export async function folderInRepository(dir: string): Promise<string> {
  try {
    const prefix = (await simpleGit({ baseDir: dir }).raw(['rev-parse', '--show-prefix'])).trim();
    return prefix.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

/** Git's file mode of each path at `commit` (`100644`, `120000` for a link, `160000` for a submodule). */
export async function treeModes(
  dir: string,
  commit: string,
  paths: readonly string[],
): Promise<Map<string, string>> {
  const modes = new Map<string, string>();
  if (paths.length === 0) return modes;
  const out = await simpleGit({ baseDir: dir }).raw(['ls-tree', '-z', '--full-tree', commit, '--', ...paths]);
  for (const entry of out.split('\0')) {
    const tab = entry.indexOf('\t');
    if (tab > 0) modes.set(entry.slice(tab + 1), entry.slice(0, entry.indexOf(' ')));
  }
  return modes;
}

/** A file's text at `rev` (a sha, a branch, or `origin/<branch>`); undefined when it is not there. */
export async function fileAt(dir: string, rev: string, file: string): Promise<string | undefined> {
  const git = simpleGit({ baseDir: dir });
  for (const candidate of [rev, `origin/${rev}`]) {
    try {
      return await git.show([`${candidate}:${file}`]);
    } catch {
      // Not under that name, or not in that commit.
    }
  }
  return undefined;
}

/** Commits from `base` (exclusive) to `head` that change `file`, oldest first; undefined when unknown here. */
export async function commitsTouching(
  dir: string,
  base: string,
  head: string,
  file: string,
): Promise<string[] | undefined> {
  const out = await rawAgainstBase(dir, base, (ref) => [
    'log',
    '--reverse',
    '--format=%H',
    `${ref}..${head}`,
    '--',
    file,
  ]);
  return out?.split('\n').filter((line) => line !== '');
}
