/**
 * Schema-versioned JSON state files that survive crashes and concurrent writers: every write goes
 * to a temp file in the same directory and is renamed over the target (readers see the old or the
 * new file, never half of one); read-modify-write happens under a lock file. A file that does not
 * read back as what we wrote is never overwritten: it is moved aside and reported.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { acquireFileLock, isProcessAlive } from './file-lock.js';

/** Raised when a state file is corrupt, from a newer version, or was set aside earlier. */
export class StateFileError extends Error {
  override name = 'StateFileError';
  constructor(
    message: string,
    /** The state file concerned. */
    readonly file: string,
    /** Where the corrupt content was kept, when it was moved aside. */
    readonly keptAt?: string,
  ) {
    super(message);
  }
}

/** Identifies a file kind: the `schema`/`version` header and the shape of the rest. */
export interface StateFormat<T> {
  /** e.g. `autoresearch-ci/baselines`. */
  schema: string;
  version: number;
  /** Validates the document (header fields included; a loose object keeps unknown fields). */
  body: z.ZodType<T>;
}

/** A temp file written and synced but not yet in place. */
export interface StagedFile {
  tempPath: string;
  /** Renames the temp file over the target and syncs the directory. */
  commit(): Promise<void>;
  /** Deletes the temp file. */
  discard(): Promise<void>;
}

/** Options of {@link updateStateFile}. */
export interface UpdateOptions {
  /** How long to wait for another process's update (default 30 s). */
  lockTimeoutMs?: number;
}

/** Creates a state directory (mode 0700: it holds this machine's judgements) if missing. */
export async function ensureStateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
    throw new Error(
      `the state directory ${dir} cannot be created: a file is in the way (${code}). Point the state-dir input at a directory, or move that file away.`,
    );
  }
}

/**
 * Writes `data` to a temp file next to `file` and syncs it, without touching `file`. The temp name
 * (`.<name>.<pid>.<random>.tmp`) carries the writer's pid so a later writer can tell an orphan from
 * a write in progress.
 */
export async function stageFile(file: string, data: string | Uint8Array): Promise<StagedFile> {
  const dir = path.dirname(file);
  await ensureStateDir(dir);
  const tempPath = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const handle = await open(tempPath, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(tempPath).catch(() => {});
    throw error;
  }
  await handle.close();
  return {
    tempPath,
    async commit() {
      try {
        await rename(tempPath, file);
      } catch (error) {
        await unlink(tempPath).catch(() => {});
        throw error;
      }
      await syncDirectory(dir);
    },
    async discard() {
      await unlink(tempPath).catch(() => {});
    },
  };
}

/** Replaces `file` with `data` atomically: temp file, write, fsync, rename, fsync the directory. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await (await stageFile(file, data)).commit();
}

/**
 * Reads and validates a state file.
 * @returns undefined when the file does not exist (and no corrupt copy of it is waiting for a person)
 * @throws StateFileError when the file is corrupt (it is moved aside first), of a newer version, or
 *   when an earlier corrupt copy still sits next to it
 */
export async function readStateFile<T>(file: string, format: StateFormat<T>): Promise<T | undefined> {
  // Retried when the file is replaced between reading it and moving it aside.
  for (let round = 0; round < 3; round++) {
    let text: string;
    let ino: number;
    try {
      const handle = await open(file, 'r');
      try {
        ino = (await handle.stat()).ino;
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await assertNoCorruptCopy(file);
      return undefined;
    }
    const checked = checkDocument(text, format);
    if (checked.ok) return checked.value;
    if (checked.newer) {
      throw new StateFileError(
        `${file} was written by a newer autoresearch-ci (${format.schema} version ${checked.newer}; this version reads ${format.version}); it was left untouched: upgrade autoresearch-ci on this runner, or point state-dir elsewhere`,
        file,
      );
    }
    const kept = await quarantine(file, ino);
    if (kept) throw corruptError(file, kept, checked.problem);
  }
  throw new StateFileError(`${file} kept changing while being read; retry`, file);
}

/**
 * Read-modify-write under `<file>.lock`: no update is lost when several processes update at once.
 * Temp files left by writers that died are removed first (they are never read as data).
 * @param update receives the current value (undefined if there is no file) and returns the new one
 * @returns the value written
 */
export async function updateStateFile<T>(
  file: string,
  format: StateFormat<T>,
  update: (current: T | undefined) => T | Promise<T>,
  options: UpdateOptions = {},
): Promise<T> {
  await ensureStateDir(path.dirname(file));
  const lock = await acquireFileLock(`${file}.lock`, {
    ...(options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs }),
  });
  try {
    await removeOrphanTemps(file);
    const next = await update(await readStateFile(file, format));
    const document = { ...next, schema: format.schema, version: format.version };
    // Validate what we write with the same schema we read with: a bad value fails here, not on the next read.
    const checked = format.body.safeParse(document);
    if (!checked.success) {
      throw new StateFileError(
        `refusing to write ${file}: the new content does not match ${format.schema} version ${format.version}: ${describeIssues(checked.error)}`,
        file,
      );
    }
    await writeFileAtomic(file, `${JSON.stringify(document, null, 2)}\n`);
    return next;
  } finally {
    await lock.release();
  }
}

/**
 * Moves a corrupt file aside to `<file>.corrupt-<timestamp>-<random>` instead of letting anyone
 * overwrite it.
 * @param expectedIno when given, the file is only moved if it is still this inode (not replaced)
 * @returns the new path, or undefined when the file was already gone or replaced
 */
export async function quarantine(file: string, expectedIno?: number): Promise<string | undefined> {
  try {
    if (expectedIno !== undefined && (await stat(file)).ino !== expectedIno) return undefined;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const kept = `${file}.corrupt-${stamp}-${randomBytes(2).toString('hex')}`;
    await rename(file, kept);
    await syncDirectory(path.dirname(file));
    return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The error for a file just moved aside: where it is and what to do. */
export function corruptError(file: string, kept: string, problem: string): StateFileError {
  return new StateFileError(
    `${file} is corrupt (${problem}); it was moved to ${kept} and nothing was overwritten. Repair it and move it back to ${file}, or delete ${kept} to start ${path.basename(file)} afresh`,
    file,
    kept,
  );
}

/**
 * Fails when `file` is missing but a corrupt copy of it was set aside: starting empty silently would
 * drop what the copy held (baselines, scored experiments) without anyone deciding to.
 */
export async function assertNoCorruptCopy(file: string): Promise<void> {
  const prefix = `${path.basename(file)}.corrupt-`;
  let names: string[];
  try {
    names = await readdir(path.dirname(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const copies = names.filter((name) => name.startsWith(prefix)).sort();
  const latest = copies.at(-1);
  if (latest === undefined) return;
  const kept = path.join(path.dirname(file), latest);
  throw new StateFileError(
    `${file} is missing and a corrupt copy was set aside at ${kept}; repair it and move it back to ${file}, or delete ${copies.length > 1 ? `the ${copies.length} ${prefix}* files` : kept} to start ${path.basename(file)} afresh`,
    file,
    kept,
  );
}

/** Deletes temp files of `file` whose writer process no longer exists. Call while holding the file's lock. */
export async function removeOrphanTemps(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const pid = tempFileWriter(name, base);
    if (pid === undefined || isProcessAlive(pid)) continue;
    await unlink(path.join(dir, name)).catch(() => {});
    removed.push(name);
  }
  return removed;
}

/** The writer pid when `name` is a temp file of the state file `base`. */
function tempFileWriter(name: string, base: string): number | undefined {
  const prefix = `.${base}.`;
  if (!name.startsWith(prefix) || !name.endsWith('.tmp')) return undefined;
  const match = /^(\d+)\.[0-9a-f]+$/.exec(name.slice(prefix.length, -'.tmp'.length));
  return match ? Number(match[1]) : undefined;
}

type Checked<T> = { ok: true; value: T } | { ok: false; problem: string; newer?: number };

function checkDocument<T>(text: string, format: StateFormat<T>): Checked<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not valid JSON: ${(error as Error).message}` };
  }
  const header = checkHeader(json, format);
  if (!header.ok) return header;
  const parsed = format.body.safeParse(json);
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error) };
  return { ok: true, value: parsed.data };
}

/**
 * Checks the `schema`/`version` header of a parsed document. A newer version is reported apart:
 * it is not corrupt, only unreadable by this version, and must be left in place.
 */
export function checkHeader(
  json: unknown,
  format: { schema: string; version: number },
): { ok: true } | { ok: false; problem: string; newer?: number } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, problem: 'not a JSON object' };
  }
  const { schema, version } = json as { schema?: unknown; version?: unknown };
  if (schema !== format.schema) {
    return { ok: false, problem: `field "schema" is ${JSON.stringify(schema)}, expected "${format.schema}"` };
  }
  if (typeof version === 'number' && Number.isInteger(version) && version > format.version) {
    return { ok: false, problem: `version ${version} is newer than ${format.version}`, newer: version };
  }
  if (version !== format.version) {
    return {
      ok: false,
      problem: `field "version" is ${JSON.stringify(version)}, expected ${format.version}`,
    };
  }
  return { ok: true };
}

/** One line per issue, naming the field: `keys.abc.current.mean: expected number`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`)
    .join('; ');
}

/** Makes a rename durable: the new directory entry is on disk once this returns. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some file systems refuse to sync a directory; the rename itself is still atomic there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}
