/**
 * Control runs measure the branch's champion (the kept code) in the same job as the candidate:
 * its version of the experiment file is read from git by blob and put in place for the run, then
 * the candidate's version is put back. A note in the state dir records the swap while it lasts,
 * so a job killed mid-run (SIGKILL, power loss) has the candidate's file restored by the next job.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandRunner } from '../identity/command-runner.js';

/** Where the candidate's file waits while the champion's is in place. */
function swapNote(stateDir: string): string {
  return path.join(stateDir, 'champion-swap.json');
}

/**
 * The champion's contents of the experiment file, or a reason it cannot be had (a shallow checkout
 * without that blob, several experiment files, no blob recorded).
 */
export async function readChampionFile(opts: {
  workdir: string;
  blob: string | undefined;
  commands: CommandRunner;
}): Promise<{ contents: string } | { missing: string }> {
  if (!opts.blob || !/^[0-9a-f]{40}$/.test(opts.blob)) {
    return { missing: "the champion's train.py has no recorded git blob" };
  }
  try {
    return { contents: await opts.commands('git', ['-C', opts.workdir, 'cat-file', 'blob', opts.blob]) };
  } catch {
    return {
      missing: `blob ${opts.blob.slice(0, 12)} (the champion's train.py) is not in this checkout; check out with fetch-depth: 0 so it can be re-measured`,
    };
  }
}

/** Runs `body` with `contents` in place of `file` (relative to `workdir`), restoring the original after. */
export async function withFileSwapped<T>(
  opts: { stateDir: string; workdir: string; file: string; contents: string },
  body: () => Promise<T>,
): Promise<T> {
  const target = path.resolve(opts.workdir, opts.file);
  const original = await readFile(target);
  await mkdir(opts.stateDir, { recursive: true });
  await writeFile(
    swapNote(opts.stateDir),
    JSON.stringify({ target, original: original.toString('base64'), swapped: digest(opts.contents) }),
  );
  await writeFile(target, opts.contents);
  try {
    return await body();
  } finally {
    await writeFile(target, original);
    await rm(swapNote(opts.stateDir), { force: true });
  }
}

/**
 * Puts back a candidate's file left swapped by a job that was killed during a control run: only
 * when the file still holds the champion's contents (a fresh checkout in its place is left alone).
 * Returns the path restored, if any.
 */
export async function restoreInterruptedSwap(stateDir: string): Promise<string | undefined> {
  let note: { target?: unknown; original?: unknown; swapped?: unknown };
  try {
    note = JSON.parse(await readFile(swapNote(stateDir), 'utf8'));
  } catch {
    return undefined;
  }
  await rm(swapNote(stateDir), { force: true });
  if (typeof note.target !== 'string' || typeof note.original !== 'string') return undefined;
  const now = await readFile(note.target, 'utf8').catch(() => undefined);
  if (now === undefined || digest(now) !== note.swapped) return undefined;
  await writeFile(note.target, Buffer.from(note.original, 'base64'));
  return note.target;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
