/**
 * Runner identity costs: fingerprinting a data snapshot the size of autoresearch's (a ~90 MB
 * pinned validation shard, tokenizer files, many large training shards) cold and from the hash
 * cache, reading this machine's hardware, and computing the comparability key.
 * Prints a markdown table with the goal per row.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execaRunner } from '../src/identity/command-runner.js';
import { computeComponents, keyHash } from '../src/identity/comparability.js';
import { fingerprintSnapshot } from '../src/identity/data-snapshot.js';
import { readHardware } from '../src/identity/hardware.js';
import { builtinProtocol } from '../src/settings/protocol.js';

const MB = 1024 * 1024;
const PINNED_MB = 90;
const SHARDS = 200;

/** Median wall time in milliseconds over `runs` runs (after `warmups` warm-up runs). */
async function median(runs: number, fn: () => Promise<unknown>, warmups = 1): Promise<number> {
  for (let i = 0; i < warmups; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const work = mkdtempSync(path.join(tmpdir(), 'arci-bench-identity-'));
try {
  const protocol = builtinProtocol(path.join(work, 'cache'));
  const snapshot = protocol.dataSnapshot!;
  mkdirSync(snapshot.dataDir, { recursive: true });
  mkdirSync(snapshot.tokenizerDir!, { recursive: true });
  // The pinned shard is written for real (its content is hashed); the training shards are sparse
  // 90 MB files, since only their names and sizes are fingerprinted.
  const chunk = Buffer.alloc(MB, 7);
  const fd = openSync(snapshot.pinnedFiles[0]!, 'w');
  for (let i = 0; i < PINNED_MB; i++) writeSync(fd, chunk);
  closeSync(fd);
  for (let i = 0; i < SHARDS; i++) {
    const shard = openSync(path.join(snapshot.dataDir, `shard_${String(i).padStart(5, '0')}.parquet`), 'w');
    writeSync(shard, 'x', 90 * MB - 1);
    closeSync(shard);
  }
  writeFileSync(path.join(snapshot.tokenizerDir!, 'tokenizer.pkl'), Buffer.alloc(2 * MB, 1));
  writeFileSync(path.join(snapshot.tokenizerDir!, 'token_bytes.pt'), Buffer.alloc(256 * 1024, 2));

  let cacheCounter = 0;
  const cold = await median(
    3,
    () => fingerprintSnapshot(snapshot, { cacheFile: path.join(work, `cold-${cacheCounter++}.json`) }),
    0,
  );
  const warmCache = path.join(work, 'warm.json');
  const first = await fingerprintSnapshot(snapshot, { cacheFile: warmCache });
  let rereads = 0;
  const warm = await median(9, async () => {
    rereads += (await fingerprintSnapshot(snapshot, { cacheFile: warmCache })).rehashed;
  });

  const readText = (p: string) => readFile(p, 'utf8');
  const hardwareOpts = {
    platform: process.platform,
    run: execaRunner(),
    readFile: readText,
    runnerName: 'bench',
  };
  const hardware = await median(3, () => readHardware(hardwareOpts));
  const hw = await readHardware(hardwareOpts);

  const repo = path.join(work, 'repo');
  mkdirSync(repo);
  writeFileSync(path.join(repo, 'prepare.py'), 'x = 1\n'.repeat(5000));
  writeFileSync(path.join(repo, 'uv.lock'), 'version = 1\n'.repeat(20000));
  const key = await median(9, async () =>
    keyHash(
      await computeComponents({ workdir: repo, protocol, hardwareHash: hw.hash, dataHash: first.hash }),
    ),
  );

  const rows: Array<[string, string, string]> = [
    [
      `fingerprint, cold (${PINNED_MB} MB pinned + ${SHARDS} shards, ${first.files} files, ${(first.bytes / 1024 ** 3).toFixed(1)} GB)`,
      `${cold.toFixed(0)} ms`,
      '< 2000 ms',
    ],
    ['fingerprint, from hash cache', `${warm.toFixed(1)} ms`, '< 50 ms'],
    ['files re-read from cache (9 warm calls)', String(rereads), '0'],
    [`readHardware on this ${process.platform} machine`, `${hardware.toFixed(0)} ms`, '< 1500 ms'],
    ['computeComponents + keyHash', `${key.toFixed(1)} ms`, '< 20 ms'],
  ];
  console.log('| measure | measured | goal |');
  console.log('|---|---:|---:|');
  for (const [label, value, goal] of rows) console.log(`| ${label} | ${value} | ${goal} |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
