/**
 * Detects a training that wrote to the runner's file-command files (GITHUB_ENV, GITHUB_OUTPUT, …).
 * The child never sees their paths in its environment, but they are predictable on disk; a write
 * there would let an experiment set the job's outputs or environment, so any change is tampering.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** The environment variables that name the runner's file-command files. */
export const FILE_COMMAND_VARIABLES = [
  'GITHUB_ENV',
  'GITHUB_OUTPUT',
  'GITHUB_PATH',
  'GITHUB_STATE',
  'GITHUB_STEP_SUMMARY',
] as const;

/** The state of one file-command file at one moment. */
export interface FileCommandState {
  variable: (typeof FILE_COMMAND_VARIABLES)[number];
  path: string;
  /** `absent` when the file did not exist. */
  content: { size: number; sha256: string } | 'absent';
}

/** Records size and SHA-256 of every file-command file named in `env` (unset variables are skipped). */
export async function snapshotFileCommands(env: NodeJS.ProcessEnv): Promise<FileCommandState[]> {
  const states: FileCommandState[] = [];
  for (const variable of FILE_COMMAND_VARIABLES) {
    const file = env[variable];
    if (!file) continue;
    states.push({ variable, path: file, content: await readState(file) });
  }
  return states;
}

/** Compares the files with an earlier snapshot; returns the paths of those that changed (or appeared, or vanished). */
export async function changedFileCommands(before: FileCommandState[]): Promise<string[]> {
  const changed: string[] = [];
  for (const state of before) {
    const now = await readState(state.path);
    if (!sameContent(state.content, now)) changed.push(state.path);
  }
  return changed;
}

function sameContent(a: FileCommandState['content'], b: FileCommandState['content']): boolean {
  if (a === 'absent' || b === 'absent') return a === b;
  return a.size === b.size && a.sha256 === b.sha256;
}

async function readState(file: string): Promise<FileCommandState['content']> {
  try {
    const { size } = await stat(file);
    const hash = createHash('sha256');
    // Streamed: the step summary can grow large over a job.
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return { size, sha256: hash.digest('hex') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw new Error(
      `cannot read the runner file-command file ${file} to check for tampering: ${(error as Error).message}`,
    );
  }
}
