/**
 * The runner's prepared data (shards, pinned validation shard, tokenizer): checked before a run,
 * and fingerprinted so a baseline is only compared with runs on the same snapshot.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { DataSnapshot, Protocol } from '../settings/protocol.js';

/** The data snapshot is missing or unreadable. */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** Options of {@link preflightSnapshot}. */
export interface PreflightOptions {
  /** The protocol's one-time preparation (`environment.setupCommands`), quoted in the error. */
  setupCommands: readonly string[];
}

/**
 * Checks that the cache directory, every pinned file and the tokenizer directory exist. Throws a
 * {@link SnapshotError} listing exactly what is missing and how to prepare it: the action never
 * downloads data, runs are offline.
 */
export async function preflightSnapshot(snapshot: DataSnapshot, opts: PreflightOptions): Promise<void> {
  const checks: Array<{ path: string; kind: 'directory' | 'file'; role: string }> = [
    { path: snapshot.dataDir, kind: 'directory', role: 'data cache directory' },
    ...snapshot.pinnedFiles.map((p) => ({ path: p, kind: 'file' as const, role: 'pinned file' })),
    ...(snapshot.tokenizerDir
      ? [{ path: snapshot.tokenizerDir, kind: 'directory' as const, role: 'tokenizer directory' }]
      : []),
  ];
  const problems: string[] = [];
  for (const check of checks) {
    const problem = await whatIsWrong(check.path, check.kind);
    if (problem) problems.push(`  - ${tildify(check.path)} (${check.role}): ${problem}`);
  }
  if (problems.length === 0) return;
  const prep =
    opts.setupCommands.length > 0
      ? `run the protocol's one-time preparation there once: ${opts.setupCommands.map((c) => `\`${c}\``).join(' then ')}`
      : "run the protocol's one-time data preparation there once";
  throw new SnapshotError(
    `the data snapshot under ${tildify(snapshot.root)} is not ready on this runner:\n${problems.join('\n')}\n` +
      `On the runner, in a checkout of the repository, ${prep}. ` +
      'The action never downloads data: training runs offline against the prepared cache.',
  );
}

/** The protocol's `environment.setupCommands`, or none when it states none. */
export function protocolSetupCommands(protocol: Pick<Protocol, 'document'>): string[] {
  const commands = (protocol.document.environment as { setupCommands?: unknown } | undefined)?.setupCommands;
  return Array.isArray(commands) ? commands.filter((c): c is string => typeof c === 'string') : [];
}

async function whatIsWrong(p: string, kind: 'directory' | 'file'): Promise<string | undefined> {
  try {
    const info = await stat(p);
    if (kind === 'directory' && !info.isDirectory()) return 'exists but is not a directory';
    if (kind === 'file' && !info.isFile()) return 'exists but is not a regular file';
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : `cannot be read (${code ?? String(error)})`;
  }
}

/** Identity of a data snapshot. */
export interface SnapshotFingerprint {
  /** 16 hex digits. */
  hash: string;
  /** Files covered (pinned, tokenizer, shards). */
  files: number;
  /** Their total size. */
  bytes: number;
  /** Files whose contents were read this time (0 when the cache answered for all). */
  rehashed: number;
}

/** Options of {@link fingerprintSnapshot}. */
export interface FingerprintOptions {
  /** JSON file caching content hashes by (path, size, mtime); created if missing. */
  cacheFile: string;
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

interface CacheDocument {
  version: 1;
  entries: Record<string, CacheEntry>;
}

interface FileInfo {
  abs: string;
  size: number;
  mtimeMs: number;
}

/**
 * Fingerprints the snapshot: contents of the pinned files and of every tokenizer file, plus the
 * names and sizes (not contents: shards are large and only the pinned one is evaluated on) of the
 * other files under the data directory. Names are relative, so the same data under another
 * `cache-dir` has the same hash. Hidden files (`.DS_Store`, partial downloads) are ignored.
 *
 * A content hash is reused from `cacheFile` while the file's size and mtime are unchanged, so
 * repeated calls read no data; touching a file makes it re-hashed.
 */
export async function fingerprintSnapshot(
  snapshot: DataSnapshot,
  opts: FingerprintOptions,
): Promise<SnapshotFingerprint> {
  const pinned = await Promise.all(snapshot.pinnedFiles.map((p) => fileInfo(p, 'pinned file')));
  const tokenizer = snapshot.tokenizerDir
    ? await listFiles(snapshot.tokenizerDir, 'tokenizer directory')
    : [];
  const skip = new Set(pinned.map((f) => f.abs));
  const shards = (await listFiles(snapshot.dataDir, 'data cache directory')).filter(
    (f) => !skip.has(f.abs) && !(snapshot.tokenizerDir && isInside(f.abs, snapshot.tokenizerDir)),
  );

  const cache = await loadCache(opts.cacheFile);
  const used: Record<string, CacheEntry> = {};
  let rehashed = 0;
  const contentHash = async (file: FileInfo): Promise<string> => {
    const hit = cache.entries[file.abs];
    if (hit && hit.size === file.size && hit.mtimeMs === file.mtimeMs) {
      used[file.abs] = hit;
      return hit.sha256;
    }
    const sha256 = await hashFile(file.abs);
    rehashed++;
    used[file.abs] = { size: file.size, mtimeMs: file.mtimeMs, sha256 };
    return sha256;
  };

  const lines: string[] = [];
  // Sequential on purpose: the runner may have 2 cores and a slow disk; parallel reads gain little.
  for (const file of pinned) {
    lines.push(
      `pinned\t${path.relative(snapshot.dataDir, file.abs)}\t${file.size}\t${await contentHash(file)}`,
    );
  }
  for (const file of tokenizer) {
    lines.push(`tokenizer\t${path.relative(snapshot.tokenizerDir!, file.abs)}\t${await contentHash(file)}`);
  }
  for (const file of shards) {
    lines.push(`shard\t${path.relative(snapshot.dataDir, file.abs)}\t${file.size}`);
  }
  lines.sort();

  if (rehashed > 0 || Object.keys(used).length !== Object.keys(cache.entries).length) {
    await saveCache(opts.cacheFile, { version: 1, entries: used });
  }
  const all = [...pinned, ...tokenizer, ...shards];
  return {
    hash: createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16),
    files: all.length,
    bytes: all.reduce((sum, f) => sum + f.size, 0),
    rehashed,
  };
}

async function fileInfo(abs: string, role: string): Promise<FileInfo> {
  try {
    const info = await stat(abs);
    if (!info.isFile()) throw new SnapshotError(`${role} ${tildify(abs)} is not a regular file`);
    return { abs, size: info.size, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (error instanceof SnapshotError) throw error;
    throw new SnapshotError(
      `${role} ${tildify(abs)} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); run the snapshot preflight first`,
    );
  }
}

/** Every non-hidden regular file under `dir`, recursively (symlinks followed), sorted by path. */
async function listFiles(dir: string, role: string): Promise<FileInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new SnapshotError(
      `${role} ${tildify(dir)} cannot be listed (${(error as NodeJS.ErrnoException).code ?? String(error)}); run the snapshot preflight first`,
    );
  }
  const files: FileInfo[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const abs = path.join(dir, name);
    const info = await stat(abs);
    if (info.isDirectory()) files.push(...(await listFiles(abs, role)));
    else if (info.isFile()) files.push({ abs, size: info.size, mtimeMs: info.mtimeMs });
  }
  return files;
}

function hashFile(abs: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(abs)
      .on('error', (error) =>
        reject(
          new SnapshotError(`cannot read ${tildify(abs)} to fingerprint the data snapshot: ${error.message}`),
        ),
      )
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** A missing or damaged cache only costs a re-hash, never a failure. */
async function loadCache(file: string): Promise<CacheDocument> {
  try {
    const doc = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheDocument>;
    if (doc.version === 1 && doc.entries && typeof doc.entries === 'object') {
      return { version: 1, entries: doc.entries };
    }
  } catch {
    // fall through to an empty cache
  }
  return { version: 1, entries: {} };
}

/** Written to a temporary file then renamed, so a killed job never leaves half a cache. */
async function saveCache(file: string, doc: CacheDocument): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(doc)}\n`);
    await rename(tmp, file);
  } catch (error) {
    throw new SnapshotError(
      `cannot write the snapshot hash cache ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); point it at a writable directory`,
    );
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Paths under the home directory are shown as `~/…`, as the protocol writes them. */
export function tildify(p: string): string {
  const home = homedir();
  return p === home ? '~' : p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p;
}
