// Several real Node processes updating the same state at once, and writers killed mid-way.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readStateFile, updateStateFile } from '../src/state/atomic-file.js';
import { readBaselines } from '../src/state/baselines.js';
import { readLedger } from '../src/state/ledger.js';
import { counterFormat, increment } from './fixtures/state/counter.js';
import { bundleWorker, killWorker, startWorker, type WorkerBundle } from './fixtures/state/harness.js';

let bundle: WorkerBundle;
let stateDir: string;

beforeAll(async () => {
  bundle = await bundleWorker();
});
afterAll(() => bundle.cleanup());
beforeEach(() => {
  stateDir = path.join(mkdtempSync(path.join(tmpdir(), 'arci-concurrency-')), 'state');
});
afterEach(() => rmSync(path.dirname(stateDir), { recursive: true, force: true }));

/** Runs `count` workers of `command` at once and checks each ended cleanly. */
async function runAll(count: number, args: (i: number) => string[]): Promise<void> {
  const workers = Array.from({ length: count }, (_, i) => startWorker(bundle.script, args(i)));
  const ends = await Promise.all(workers.map((w) => w.exited));
  for (const end of ends) expect(end).toEqual({ code: 0, signal: null, stderr: '' });
}

describe('no lost updates across processes', () => {
  it('counts every increment of 4 processes × 25 read-modify-writes', async () => {
    const file = path.join(stateDir, 'counter.json');
    await runAll(4, () => ['count', file, '25']);
    const counter = await readStateFile(file, counterFormat);
    expect(counter?.count).toBe(100);
    expect(Object.values(counter?.by ?? {})).toEqual([25, 25, 25, 25]);
    expect(readdirSync(stateDir)).toEqual(['counter.json']);
  });

  it('keeps every baseline promoted by 3 processes × 8 promotions in current + history', async () => {
    await runAll(3, (i) => ['promote', stateDir, '8', `w${i}`]);
    const record = (await readBaselines(stateDir)).keys['key-shared']!;
    const commits = [...record.history, record.current].map((e) => e.commit);
    expect(commits).toHaveLength(24);
    expect(new Set(commits).size).toBe(24);
    // Each writer's own promotions stay in the order it made them.
    for (const id of ['w0', 'w1', 'w2']) {
      const mine = commits.filter((c) => c.startsWith(`${id}-`));
      expect(mine).toEqual(Array.from({ length: 8 }, (_, i) => `${id}-${i}`));
    }
  });

  it('keeps every ledger line appended by 4 processes × 15 appends whole', async () => {
    await runAll(4, (i) => ['append', stateDir, '15', `w${i}`]);
    const { records, skipped } = await readLedger(stateDir);
    expect(skipped).toEqual([]);
    expect(records).toHaveLength(60);
    expect(new Set(records.map((r) => r.trainBlob)).size).toBe(60);
    const lines = readFileSync(path.join(stateDir, 'ledger.jsonl'), 'utf8').split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ schema: 'autoresearch-ci/ledger', version: 1 });
    expect(lines.filter((l) => l.includes('"autoresearch-ci/ledger"'))).toHaveLength(1);
  });
});

describe('a writer killed mid-way', () => {
  it('while holding the lock: the next writer takes over and the file is intact', async () => {
    const file = path.join(stateDir, 'counter.json');
    await updateStateFile(file, counterFormat, () => ({ count: 10 }));
    const worker = startWorker(bundle.script, ['hold-lock', `${file}.lock`]);
    await worker.line('held');
    await killWorker(worker);
    expect(existsSync(`${file}.lock`)).toBe(true);

    await updateStateFile(file, counterFormat, (c) => ({ count: c!.count + 1 }), { lockTimeoutMs: 5_000 });
    expect((await readStateFile(file, counterFormat))?.count).toBe(11);
    expect(readdirSync(stateDir)).toEqual(['counter.json']);
  });

  it('after writing its temp file: the data is unchanged, the temp is never read and gets cleared', async () => {
    const file = path.join(stateDir, 'counter.json');
    await updateStateFile(file, counterFormat, () => ({ count: 10 }));
    const worker = startWorker(bundle.script, [
      'stage',
      file,
      JSON.stringify({ schema: 'test/counter', version: 1, count: 999 }),
    ]);
    const temp = (await worker.line('staged ')).slice('staged '.length);
    await killWorker(worker);
    expect(existsSync(temp)).toBe(true);

    expect((await readStateFile(file, counterFormat))?.count).toBe(10);
    await updateStateFile(file, counterFormat, (c) => ({ count: c!.count + 1 }));
    expect((await readStateFile(file, counterFormat))?.count).toBe(11);
    expect(existsSync(temp)).toBe(false);
    expect(readdirSync(stateDir)).toEqual(['counter.json']);
  });

  it('in the middle of a run of updates: the survivors finish and no increment is lost', async () => {
    const file = path.join(stateDir, 'counter.json');
    const victim = startWorker(bundle.script, ['count', file, '100000']);
    const survivors = [0, 1].map(() => startWorker(bundle.script, ['count', file, '20']));
    // Let the victim get going, then kill it wherever it is (holding the lock, staging, renaming…).
    while (((await readStateFile(file, counterFormat))?.by?.[victim.child.pid!] ?? 0) < 5) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await killWorker(victim);
    for (const end of await Promise.all(survivors.map((w) => w.exited))) expect(end.code).toBe(0);
    const counter = (await readStateFile(file, counterFormat))!;
    for (const w of survivors) expect(counter.by?.[w.child.pid!]).toBe(20);
    const shares = Object.values(counter.by ?? {});
    expect(counter.count).toBe(shares.reduce((a, b) => a + b, 0));
    await updateStateFile(file, counterFormat, increment);
    expect(readdirSync(stateDir)).toEqual(['counter.json']);
  });
});
