import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fingerprintSnapshot,
  preflightSnapshot,
  protocolSetupCommands,
  SnapshotError,
} from '../src/identity/data-snapshot.js';
import { builtinProtocol, type DataSnapshot } from '../src/settings/protocol.js';

/** Training shards written besides the pinned validation shard. */
const SHARDS = 4;
let work: string;
let cacheRoot: string;
let snapshot: DataSnapshot;
let cacheFile: string;

/** Writes the layout prepare.py leaves in ~/.cache/autoresearch, under a temp dir. */
function populate(): void {
  mkdirSync(snapshot.dataDir, { recursive: true });
  for (let i = 0; i < SHARDS; i++) {
    writeFileSync(path.join(snapshot.dataDir, `shard_0000${i}.parquet`), `train shard ${i} `.repeat(50 + i));
  }
  for (const pinned of snapshot.pinnedFiles) writeFileSync(pinned, 'validation shard '.repeat(200));
  mkdirSync(snapshot.tokenizerDir!, { recursive: true });
  writeFileSync(path.join(snapshot.tokenizerDir!, 'tokenizer.pkl'), 'bpe merges v1');
  writeFileSync(path.join(snapshot.tokenizerDir!, 'token_bytes.pt'), 'token bytes');
}

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'arci-snapshot-'));
  cacheRoot = path.join(work, 'autoresearch');
  // The real protocol's prose snapshot, rebased onto the temp dir as the cache-dir input would.
  snapshot = builtinProtocol(cacheRoot).dataSnapshot!;
  cacheFile = path.join(work, 'state', 'snapshot-hashes.json');
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

const setupCommands = protocolSetupCommands(builtinProtocol());

describe('preflightSnapshot', () => {
  it('reads the setup commands from the protocol', () => {
    expect(setupCommands).toEqual(['uv sync', 'uv run prepare.py']);
  });

  it('passes on a prepared cache', async () => {
    populate();
    await expect(preflightSnapshot(snapshot, { setupCommands })).resolves.toBeUndefined();
  });

  it('lists everything missing on an empty runner and says how to prepare it', async () => {
    const error = await preflightSnapshot(snapshot, { setupCommands }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    const message = (error as Error).message;
    expect(message).toContain(`${snapshot.dataDir} (data cache directory): missing`);
    expect(message).toContain(`${snapshot.pinnedFiles[0]} (pinned file): missing`);
    expect(message).toContain(`${snapshot.tokenizerDir} (tokenizer directory): missing`);
    expect(message).toContain('`uv sync` then `uv run prepare.py`');
    expect(message).toContain('never downloads');
  });

  it('names only the missing pinned shard when the rest is there', async () => {
    populate();
    rmSync(snapshot.pinnedFiles[0]!);
    const message = await preflightSnapshot(snapshot, { setupCommands }).catch((e: Error) => e.message);
    expect(message).toContain('shard_06542.parquet (pinned file): missing');
    expect(message).not.toContain('tokenizer directory');
    expect(message).not.toContain('data cache directory');
  });

  it('rejects a file where a directory belongs', async () => {
    populate();
    rmSync(snapshot.tokenizerDir!, { recursive: true });
    writeFileSync(snapshot.tokenizerDir!, 'oops');
    const message = await preflightSnapshot(snapshot, { setupCommands }).catch((e: Error) => e.message);
    expect(message).toContain('(tokenizer directory): exists but is not a directory');
  });

  it('still explains the preparation when the protocol lists no setup commands', async () => {
    const message = await preflightSnapshot(snapshot, { setupCommands: [] }).catch((e: Error) => e.message);
    expect(message).toContain('one-time data preparation');
  });
});

describe('fingerprintSnapshot', () => {
  beforeEach(populate);

  it('covers pinned, tokenizer and shard files and answers the second call from the cache', async () => {
    const first = await fingerprintSnapshot(snapshot, { cacheFile });
    expect(first.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(first.files).toBe(SHARDS + snapshot.pinnedFiles.length + 2);
    const expectedBytes = [
      ...snapshot.pinnedFiles,
      path.join(snapshot.tokenizerDir!, 'tokenizer.pkl'),
      path.join(snapshot.tokenizerDir!, 'token_bytes.pt'),
      ...Array.from({ length: SHARDS }, (_, i) => i).map((i) =>
        path.join(snapshot.dataDir, `shard_0000${i}.parquet`),
      ),
    ].reduce((sum, f) => sum + statSync(f).size, 0);
    expect(first.bytes).toBe(expectedBytes);
    // Contents are read for the pinned shard and the tokenizer files only, not for the other shards.
    expect(first.rehashed).toBe(snapshot.pinnedFiles.length + 2);
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8'));
    expect(Object.keys(cache.entries).sort()).toEqual(
      [
        ...snapshot.pinnedFiles,
        path.join(snapshot.tokenizerDir!, 'token_bytes.pt'),
        path.join(snapshot.tokenizerDir!, 'tokenizer.pkl'),
      ].sort(),
    );

    const second = await fingerprintSnapshot(snapshot, { cacheFile });
    expect(second).toEqual({ ...first, rehashed: 0 });
  });

  it('trusts (path, size, mtime): same-size content swapped under the old mtime is not re-read', async () => {
    const pinned = snapshot.pinnedFiles[0]!;
    // A whole-second mtime, so it can be restored exactly after the rewrite.
    const mtime = Math.floor(statSync(pinned).mtimeMs / 1000) - 60;
    utimesSync(pinned, mtime, mtime);
    const first = await fingerprintSnapshot(snapshot, { cacheFile });
    writeFileSync(pinned, 'VALIDATION SHARD '.repeat(200));
    utimesSync(pinned, mtime, mtime);
    const second = await fingerprintSnapshot(snapshot, { cacheFile });
    expect(second.rehashed).toBe(0);
    expect(second.hash).toBe(first.hash);
    // Touching the file (what any rewrite does) makes it re-hashed and the change visible.
    utimesSync(pinned, mtime + 5, mtime + 5);
    const third = await fingerprintSnapshot(snapshot, { cacheFile });
    expect(third.rehashed).toBe(1);
    expect(third.hash).not.toBe(first.hash);
  });

  it('re-hashes a touched file and keeps the hash when its content is the same', async () => {
    const first = await fingerprintSnapshot(snapshot, { cacheFile });
    const tok = path.join(snapshot.tokenizerDir!, 'tokenizer.pkl');
    const later = new Date(statSync(tok).mtimeMs + 5_000);
    utimesSync(tok, later, later);
    const second = await fingerprintSnapshot(snapshot, { cacheFile });
    expect(second.rehashed).toBe(1);
    expect(second.hash).toBe(first.hash);
  });

  it('changes when the tokenizer changes', async () => {
    const first = await fingerprintSnapshot(snapshot, { cacheFile });
    writeFileSync(path.join(snapshot.tokenizerDir!, 'tokenizer.pkl'), 'bpe merges v2');
    expect((await fingerprintSnapshot(snapshot, { cacheFile })).hash).not.toBe(first.hash);
  });

  it('changes when a shard is added, removed or changes size, but not for hidden files', async () => {
    const base = (await fingerprintSnapshot(snapshot, { cacheFile })).hash;
    writeFileSync(path.join(snapshot.dataDir, '.DS_Store'), 'finder');
    expect((await fingerprintSnapshot(snapshot, { cacheFile })).hash).toBe(base);

    const extra = path.join(snapshot.dataDir, 'shard_00009.parquet');
    writeFileSync(extra, 'more');
    const added = await fingerprintSnapshot(snapshot, { cacheFile });
    expect(added.hash).not.toBe(base);
    expect(added.files).toBe(SHARDS + 4);
    rmSync(extra);
    expect((await fingerprintSnapshot(snapshot, { cacheFile })).hash).toBe(base);

    writeFileSync(path.join(snapshot.dataDir, 'shard_00001.parquet'), 'truncated');
    expect((await fingerprintSnapshot(snapshot, { cacheFile })).hash).not.toBe(base);
  });

  it('is the same for the same data under another cache directory', async () => {
    const here = await fingerprintSnapshot(snapshot, { cacheFile });
    const elsewhere = builtinProtocol(path.join(work, 'copy')).dataSnapshot!;
    const original = snapshot;
    snapshot = elsewhere;
    populate();
    snapshot = original;
    const there = await fingerprintSnapshot(elsewhere, { cacheFile });
    expect(there.hash).toBe(here.hash);
  });

  it('rebuilds a damaged cache file instead of failing', async () => {
    const first = await fingerprintSnapshot(snapshot, { cacheFile });
    writeFileSync(cacheFile, '{ not json');
    const again = await fingerprintSnapshot(snapshot, { cacheFile });
    expect(again.hash).toBe(first.hash);
    expect(again.rehashed).toBe(first.rehashed);
    expect(JSON.parse(readFileSync(cacheFile, 'utf8')).version).toBe(1);
  });

  it('names a missing pinned file', async () => {
    rmSync(snapshot.pinnedFiles[0]!);
    const error = await fingerprintSnapshot(snapshot, { cacheFile }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as Error).message).toContain('shard_06542.parquet');
  });

  it('names an unwritable cache location', async () => {
    const blocker = path.join(work, 'blocker');
    writeFileSync(blocker, 'a file, not a directory');
    const error = await fingerprintSnapshot(snapshot, { cacheFile: path.join(blocker, 'c.json') }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as Error).message).toContain(path.join(blocker, 'c.json'));
  });
});
