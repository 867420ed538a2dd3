import path from 'node:path';
import type { RepositoryApi } from '../github/repository-api.js';
import type { Protocol } from '../settings/protocol.js';
import { commitsTouching, fileAt, folderInRepository, localChangedPaths, treeModes } from './checkout.js';
import { checkChangedPaths, describeOffending } from './path-guard.js';

/** What {@link guardCommit} checks. */
export interface GuardInput {
  /** The experiment folder: protocol globs are relative to it. */
  workingDirectory: string;
  protocol: Protocol;
  /** Lists changed paths; absent without a token (then only the local clone can). */
  api?: Pick<RepositoryApi, 'changedPaths'>;
  /** Commit or branch the experiment is compared with (PR base, or the default branch). */
  base: string;
  head: string;
  /** A repository path the bot itself writes on this branch (results.tsv next to train.py). */
  ignoredPath?: string;
  warning: (line: string) => void;
}

/** The guard's finding: how many paths changed, and one line per path the protocol does not allow. */
export interface GuardResult {
  changed: number;
  problems: string[];
}

/**
 * The protocol guard, before anything of the commit runs: every path changed since `base` must
 * match the allowed globs and none the forbidden ones or the immutable harness. The protocol file
 * the action read from the checkout is always forbidden, so a commit cannot widen its own rules.
 */
export async function guardCommit(input: GuardInput): Promise<GuardResult> {
  const { paths, truncated } = await changedPaths(input);
  const folder = await folderInRepository(input.workingDirectory);
  const offending = checkChangedPaths(
    paths.filter((p) => p !== input.ignoredPath).map((p) => relativeToFolder(p, folder)),
    { ...input.protocol, forbiddenGlobs: [...input.protocol.forbiddenGlobs, ...protocolFileGlob(input)] },
  );
  const problems = describeOffending(offending, input.protocol);
  problems.push(...(await nonRegularFiles(input, paths, folder)));
  if (input.ignoredPath && paths.includes(input.ignoredPath)) {
    problems.push(...(await rewrittenResults(input, input.ignoredPath)));
  }
  // GitHub's compare endpoint lists at most 300 files: the rest cannot be vouched for.
  if (truncated)
    problems.push(
      'the change touches more files than GitHub lists (300); an experiment changes only the allowed files',
    );
  return { changed: paths.length, problems };
}

/**
 * The training runs what is on disk at the allowed paths: a symbolic link there runs (and the
 * ledger hashes) a file outside the repository, a submodule runs code from another one.
 */
async function nonRegularFiles(
  input: GuardInput,
  paths: readonly string[],
  folder: string,
): Promise<string[]> {
  let modes: Map<string, string>;
  try {
    // The allowed files themselves too: a type change (file → submodule) may be listed oddly or not at all.
    const allowed = input.protocol.allowedGlobs
      .filter((g) => !/[*?[\]{}]/.test(g))
      .map((g) => (folder === '' ? g : `${folder}/${g}`));
    modes = await treeModes(input.workingDirectory, input.head, [...new Set([...paths, ...allowed])]);
  } catch (error) {
    return [
      `the file modes at ${input.head.slice(0, 7)} cannot be read from the local clone (${(error as Error).message.trim()}); check out the experiment commit`,
    ];
  }
  const kinds: Record<string, string> = { '120000': 'a symbolic link', '160000': 'a submodule (gitlink)' };
  return [...modes]
    .filter(([, mode]) => kinds[mode])
    .map(([p, mode]) => `${relativeToFolder(p, folder)} is ${kinds[mode]}; only regular files may change`);
}

/**
 * With results written to the experiment branch itself, results.tsv may change on the branch, but
 * only the way the action changes it: rows appended. A commit that edits or drops earlier rows
 * would rewrite the branch's history of results.
 */
async function rewrittenResults(input: GuardInput, file: string): Promise<string[]> {
  const { workingDirectory: dir } = input;
  const commits = await commitsTouching(dir, input.base, input.head, file);
  if (!commits)
    return [`the history of ${file} since ${input.base} is not in the local clone (use fetch-depth: 0)`];
  // Each commit on its own: a rewrite followed by a later append must not hide behind it.
  for (const commit of commits) {
    const before = ((await fileAt(dir, `${commit}^`, file)) ?? '').replace(/\r?\n?$/, '');
    const after = (await fileAt(dir, commit, file)) ?? '';
    if (!after.startsWith(before)) {
      return [
        `${file} has rows changed or removed in ${commit.slice(0, 7)}; only the action appends rows to it`,
      ];
    }
  }
  return [];
}

/**
 * {@link guardCommit} against several bases (a pull request into another branch: its base and the
 * default branch), each problem said once.
 */
export async function guardCommitAgainst(
  bases: readonly string[],
  input: Omit<GuardInput, 'base'>,
): Promise<GuardResult> {
  const merged: GuardResult = { changed: 0, problems: [] };
  for (const base of bases) {
    const found = await guardCommit({ ...input, base });
    merged.changed = Math.max(merged.changed, found.changed);
    for (const problem of found.problems)
      if (!merged.problems.includes(problem)) merged.problems.push(problem);
  }
  return merged;
}

/** The protocol file's path relative to the experiment folder, when it was read from there. */
function protocolFileGlob({ workingDirectory, protocol }: GuardInput): string[] {
  const rel = path.relative(workingDirectory, protocol.source);
  return path.isAbsolute(protocol.source) && !rel.startsWith('..') ? [rel.split(path.sep).join('/')] : [];
}

/** A repository path as the protocol sees it: relative to the experiment folder, or marked outside it. */
function relativeToFolder(repoPath: string, folder: string): string {
  if (folder === '') return repoPath;
  return repoPath.startsWith(`${folder}/`) ? repoPath.slice(folder.length + 1) : `../${repoPath}`;
}

/**
 * The changed paths: from the API when it answers, else from the local clone (which holds the
 * history when checked out with fetch-depth 0). Neither → the guard cannot vouch for the commit.
 */
async function changedPaths(input: GuardInput): Promise<{ paths: string[]; truncated: boolean }> {
  const { base, head } = input;
  let apiError: unknown;
  if (input.api) {
    try {
      return await input.api.changedPaths(base, head);
    } catch (error) {
      apiError = error;
    }
  }
  const local = await localChangedPaths(input.workingDirectory, base, head);
  if (local) {
    if (apiError) {
      input.warning(
        `the API could not list the changed paths (${(apiError as Error).message}); used the local clone instead`,
      );
    }
    return { paths: local, truncated: false };
  }
  throw new Error(
    `cannot list the paths ${head.slice(0, 7)} changes since ${base.slice(0, 12)}: ${apiError ? `the API failed (${(apiError as Error).message})` : 'no github-token'} and the local clone lacks that history (use actions/checkout with fetch-depth: 0). The protocol guard must see them before anything runs.`,
  );
}
