/**
 * Detects a training that wrote to the runner's file-command files (GITHUB_ENV, GITHUB_OUTPUT, …).
 * The child never sees their paths in its environment, but they are predictable on disk; a write
 * there would let an experiment set the job's outputs or environment, so any change is tampering.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';

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

/** Files larger than this at the start of the step are not kept for restoring (only a step's own files are guarded). */
const MAX_KEPT_BYTES = 8 * 1024 * 1024;

/**
 * The file-command files over the whole step. A training may leave a process behind that writes
 * to them after the training's own check (a helper the sweep cannot find); the runner reads them
 * only after the step. At the very end, each must hold what it held at the start plus exactly what
 * the action itself wrote; anything else is restored and reported.
 */
export class StepFileCommands {
  readonly #start: Array<{ variable: string; path: string; text: string }>;
  readonly #outputs = new Map<string, string>();
  readonly #summaries: string[] = [];

  private constructor(start: Array<{ variable: string; path: string; text: string }>) {
    this.#start = start;
  }

  /** Reads every file-command file named in `env` as the step starts. */
  static async open(env: NodeJS.ProcessEnv): Promise<StepFileCommands> {
    const start: Array<{ variable: string; path: string; text: string }> = [];
    for (const variable of FILE_COMMAND_VARIABLES) {
      const file = env[variable];
      if (!file) continue;
      // An unreadable or very large file cannot be kept for restoring; the training's own check still covers it.
      const text = await readText(file).catch(() => null);
      if (text === null || Buffer.byteLength(text ?? '') > MAX_KEPT_BYTES) continue;
      start.push({ variable, path: file, text: text ?? '' });
    }
    return new StepFileCommands(start);
  }

  /** The action set an output (core.setOutput). */
  recordOutput(name: string, value: string): void {
    this.#outputs.set(name, value);
  }

  /** The action appended to the job summary. */
  recordSummary(markdown: string): void {
    this.#summaries.push(markdown);
  }

  /** Checks every file and restores those that changed otherwise; returns their variables. */
  async verifyAndRestore(): Promise<string[]> {
    const restored: string[] = [];
    for (const { variable, path: file, text } of this.#start) {
      const now = (await readText(file)) ?? '';
      const added = now.startsWith(text) ? now.slice(text.length) : undefined;
      if (added !== undefined && this.#isOwn(variable, added)) continue;
      await writeFile(file, text + this.#own(variable));
      restored.push(variable);
    }
    return restored;
  }

  #isOwn(variable: string, added: string): boolean {
    if (variable === 'GITHUB_OUTPUT') {
      const parsed = parseOutputs(added);
      return (
        parsed !== undefined &&
        parsed.size === this.#outputs.size &&
        [...this.#outputs].every(([k, v]) => parsed.get(k) === v)
      );
    }
    return added === this.#own(variable);
  }

  #own(variable: string): string {
    if (variable === 'GITHUB_STEP_SUMMARY') return this.#summaries.join('');
    if (variable !== 'GITHUB_OUTPUT') return '';
    return [...this.#outputs]
      .map(([k, v]) => {
        const delimiter = `ghadelimiter_${randomUUID()}`;
        return `${k}<<${delimiter}\n${v}\n${delimiter}\n`;
      })
      .join('');
  }
}

/** Parses `name<<DELIM` blocks as the runner does; undefined when anything else is in the text. */
function parseOutputs(text: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' && i === lines.length - 1) break;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (!heredoc) return undefined;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]!);
    if (i >= lines.length) return undefined;
    out.set(heredoc[1]!, value.join('\n'));
  }
  return out;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
