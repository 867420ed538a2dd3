import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateFileError } from '../src/state/atomic-file.js';
import {
  appendLedger,
  bestKept,
  findScored,
  type LedgerRecord,
  readLedger,
  readReplayLedger,
} from '../src/state/ledger.js';

let root: string;
let stateDir: string;
let file: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'arci-ledger-'));
  stateDir = path.join(root, 'state');
  file = path.join(stateDir, 'ledger.jsonl');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

let clock = Date.parse('2025-03-01T00:00:00.000Z');

function run(fields: Partial<LedgerRecord>): LedgerRecord {
  clock += 60_000;
  return {
    at: new Date(clock).toISOString(),
    keyHash: 'k1',
    trainBlob: 'blob-a',
    status: 'discard',
    commit: 'c1',
    branch: 'autoresearch/mar1',
    ref: 'refs/pull/3/merge',
    mode: 'experiment',
    value: 1.0,
    metrics: { val_bpb: 1.0, peak_vram_mb: 9000 },
    durations: { trainingSeconds: 300 },
    runner: { name: 'mac-1', label: 'mac-m4' },
    ...fields,
  };
}

async function rejected(record: LedgerRecord): Promise<Error> {
  const error = await appendLedger(stateDir, record).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StateFileError);
  return error as Error;
}

describe('ledger', () => {
  it('reads a missing ledger as empty', async () => {
    expect(await readLedger(stateDir)).toEqual({ records: [], skipped: [] });
    expect(await findScored(stateDir, 'k1', 'blob-a')).toBeUndefined();
  });

  it('appends one line per record after a versioned header, in a 0700 state dir', async () => {
    const a = run({ trainBlob: 'blob-a', extraField: { kept: true } });
    const b = run({ trainBlob: 'blob-b', status: 'keep' });
    await appendLedger(stateDir, a);
    await appendLedger(stateDir, b);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(JSON.parse(lines[0]!)).toMatchObject({ schema: 'autoresearch-ci/ledger', version: 1 });
    expect(JSON.parse(lines[1]!)).toEqual(a);
    expect((await readLedger(stateDir)).records).toEqual([a, b]);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('filters by fields or by a predicate', async () => {
    await appendLedger(stateDir, run({ trainBlob: 'x', branch: 'one' }));
    await appendLedger(stateDir, run({ trainBlob: 'y', branch: 'two', status: 'crash', value: null }));
    await appendLedger(stateDir, run({ trainBlob: 'z', branch: 'two' }));
    const byField = await readLedger(stateDir, { branch: 'two', status: 'discard' });
    expect(byField.records.map((r) => r.trainBlob)).toEqual(['z']);
    const byPredicate = await readLedger(stateDir, (r) => r.value === null);
    expect(byPredicate.records.map((r) => r.trainBlob)).toEqual(['y']);
  });

  it.each([
    ['no keyHash', { keyHash: '' }, /record\.keyHash: must be a non-empty string/],
    ['no trainBlob', { trainBlob: undefined as unknown as string }, /record\.trainBlob/],
    ['an unknown status', { status: 'maybe' as LedgerRecord['status'] }, /record\.status/],
    ['a bad date', { at: 'now' }, /record\.at: must be an ISO date/],
    ['a non-numeric value', { value: '1.2' as unknown as number }, /record\.value/],
    ['samples that are not numbers', { samples: ['x'] as unknown as number[] }, /record\.samples\.0/],
    ['an unknown verdict', { verdict: 'better' as LedgerRecord['verdict'] }, /record\.verdict/],
  ])('rejects a record with %s, naming the field, and writes nothing', async (_name, bad, message) => {
    await appendLedger(stateDir, run({}));
    const before = readFileSync(file, 'utf8');
    expect((await rejected(run(bad))).message).toMatch(message);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('skips and reports a corrupt line while reading the rest', async () => {
    await appendLedger(stateDir, run({ trainBlob: 'first' }));
    appendFileSync(file, '{"at": "2025-03-01T00:00:00Z", "keyHash": \n');
    appendFileSync(
      file,
      '{"at": "2025-03-01T00:00:00Z", "keyHash": "k1", "trainBlob": "b", "status": "great"}\n',
    );
    await appendLedger(stateDir, run({ trainBlob: 'second' }));
    const { records, skipped } = await readLedger(stateDir);
    expect(records.map((r) => r.trainBlob)).toEqual(['first', 'second']);
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatchObject({ line: 3 });
    expect(skipped[0]!.reason).toMatch(/not valid JSON/);
    expect(skipped[1]).toMatchObject({ line: 4 });
    expect(skipped[1]!.reason).toMatch(/status/);
  });

  it("reads a key's lines for the loop replay with only the fields it uses, damage elsewhere aside", async () => {
    const loop = {
      runs: [
        { kind: 'control' as const, value: 1.01 },
        { kind: 'candidate' as const, value: 0.99 },
      ],
    };
    const first = run({ trainBlob: 'first', samples: [0.99], verdict: 'within-noise', loop });
    await appendLedger(stateDir, first);
    await appendLedger(stateDir, run({ trainBlob: 'other key', keyHash: 'k2' }));
    // Damaged where the replay does not look, and where it does.
    const damaged = { ...run({ trainBlob: 'damaged metrics' }), metrics: 'lost' };
    appendFileSync(file, `${JSON.stringify(damaged)}\n`);
    appendFileSync(
      file,
      `${JSON.stringify({ ...run({ trainBlob: 'damaged runs' }), loop: { runs: 'lost' } })}\n`,
    );
    const { records, skipped } = await readReplayLedger(stateDir, 'k1');
    expect(records.map((r) => r.trainBlob)).toEqual(['first', 'damaged metrics']);
    expect(records[0]).toEqual({
      at: first.at,
      keyHash: 'k1',
      trainBlob: 'first',
      status: 'discard',
      commit: 'c1',
      branch: 'autoresearch/mar1',
      mode: 'experiment',
      samples: [0.99],
      verdict: 'within-noise',
      loop,
    });
    expect(skipped).toEqual([{ line: 5, reason: expect.stringMatching(/loop\.runs/) }]);
    // The full read checks every field.
    expect((await readLedger(stateDir, { keyHash: 'k1' })).records.map((r) => r.trainBlob)).toEqual([
      'first',
    ]);
  });

  it('starts a new line after a line torn by a killed writer, losing only that line', async () => {
    await appendLedger(stateDir, run({ trainBlob: 'before' }));
    appendFileSync(file, '{"at": "2025-03-01T00:00:00Z", "keyHash": "k1", "trainB');
    const torn = await readLedger(stateDir);
    expect(torn.skipped).toHaveLength(1);
    expect(torn.skipped[0]!.reason).toMatch(/incomplete last line/);

    await appendLedger(stateDir, run({ trainBlob: 'after' }));
    const { records, skipped } = await readLedger(stateDir);
    expect(records.map((r) => r.trainBlob)).toEqual(['before', 'after']);
    expect(skipped.map((s) => s.line)).toEqual([3]);
  });

  it('finds an already scored train.py blob under the same key only', async () => {
    await appendLedger(stateDir, run({ trainBlob: 'blob-a', status: 'crash', value: null }));
    expect(await findScored(stateDir, 'k1', 'blob-a')).toBeUndefined();
    await appendLedger(stateDir, run({ trainBlob: 'blob-a', status: 'discard', commit: 'c1' }));
    await appendLedger(stateDir, run({ trainBlob: 'blob-a', status: 'keep', commit: 'c1-amended' }));
    await appendLedger(stateDir, run({ trainBlob: 'blob-a', status: 'rejected', commit: 'c9' }));
    expect((await findScored(stateDir, 'k1', 'blob-a'))?.commit).toBe('c1-amended');
    expect(await findScored(stateDir, 'k2', 'blob-a')).toBeUndefined();
    expect(await findScored(stateDir, 'k1', 'blob-b')).toBeUndefined();
  });

  it('picks the best kept result of a branch in either direction', async () => {
    const branch = 'autoresearch/mar1';
    await appendLedger(stateDir, run({ commit: 'k-a', status: 'keep', value: 1.02, metrics: { tokens: 5 } }));
    await appendLedger(stateDir, run({ commit: 'k-b', status: 'keep', value: 0.99, metrics: { tokens: 9 } }));
    await appendLedger(
      stateDir,
      run({ commit: 'k-tie', status: 'keep', value: 0.99, metrics: { tokens: 1 } }),
    );
    await appendLedger(stateDir, run({ commit: 'd', status: 'discard', value: 0.5 }));
    await appendLedger(stateDir, run({ commit: 'other-branch', status: 'keep', value: 0.4, branch: 'x' }));
    await appendLedger(stateDir, run({ commit: 'other-key', status: 'keep', value: 0.3, keyHash: 'k2' }));
    await appendLedger(stateDir, run({ commit: 'no-value', status: 'keep', value: null }));

    const min = await bestKept(stateDir, 'k1', branch, 'minimize');
    expect(min?.record.commit).toBe('k-b');
    expect(min?.value).toBe(0.99);
    expect((await bestKept(stateDir, 'k1', branch, 'maximize'))?.record.commit).toBe('k-a');
    const byMetric = await bestKept(stateDir, 'k1', branch, 'maximize', 'tokens');
    expect(byMetric).toMatchObject({ value: 9, record: { commit: 'k-b' } });
    expect(await bestKept(stateDir, 'k1', 'nothing-kept', 'minimize')).toBeUndefined();
  });

  it('never takes a baseline record as the best kept result, and ignores results older than since', async () => {
    const branch = 'autoresearch/mar1';
    // A superseded baseline sits on the same branch (the CLI in a plain folder) with status keep.
    await appendLedger(stateDir, run({ commit: 'old-base', status: 'keep', mode: 'baseline', value: 0.9 }));
    await appendLedger(
      stateDir,
      run({ commit: 'exp', status: 'keep', mode: 'experiment', value: 0.95, at: '2026-03-01T10:00:00.000Z' }),
    );
    await appendLedger(
      stateDir,
      run({
        commit: 'later',
        status: 'keep',
        mode: 'experiment',
        value: 0.97,
        at: '2026-03-02T10:00:00.000Z',
      }),
    );
    expect((await bestKept(stateDir, 'k1', branch, 'minimize'))?.record.commit).toBe('exp');
    const since = await bestKept(stateDir, 'k1', branch, 'minimize', undefined, '2026-03-02T00:00:00.000Z');
    expect(since?.record.commit).toBe('later');
    expect(
      await bestKept(stateDir, 'k1', branch, 'minimize', undefined, '2026-03-03T00:00:00.000Z'),
    ).toBeUndefined();
  });

  it('moves a ledger with a corrupt header aside and will not append to or recreate it', async () => {
    const content = 'commit\tval_bpb\n';
    await appendLedger(stateDir, run({}));
    writeFileSync(file, content);
    const error = await rejected(run({}));
    expect(error.message).toMatch(/ledger\.jsonl is corrupt \(its first line is not a JSON header/);
    const keptAt = (error as StateFileError).keptAt!;
    expect(readFileSync(keptAt, 'utf8')).toBe(content);
    expect(existsSync(file)).toBe(false);

    const again = await rejected(run({}));
    expect(again.message).toContain(keptAt);
    await expect(readLedger(stateDir)).rejects.toThrow(keptAt);
    expect(existsSync(file)).toBe(false);
  });

  it('leaves a ledger from a newer version untouched', async () => {
    await appendLedger(stateDir, run({}));
    const content = '{"schema":"autoresearch-ci/ledger","version":2}\n{"new":"format"}\n';
    writeFileSync(file, content);
    expect((await rejected(run({}))).message).toMatch(/newer autoresearch-ci/);
    await expect(readLedger(stateDir)).rejects.toThrow(/upgrade/);
    expect(readFileSync(file, 'utf8')).toBe(content);
  });
});
