import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateFileError } from '../src/state/atomic-file.js';
import {
  type BaselineEntry,
  currentBaseline,
  findBaselineByOtherKey,
  latestBaselineAnyKey,
  promoteBaseline,
  readBaselines,
} from '../src/state/baselines.js';

let root: string;
let stateDir: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'arci-baselines-'));
  stateDir = path.join(root, 'state');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function entry(commit: string, samples: number[], extra: Partial<BaselineEntry> = {}): BaselineEntry {
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const sigma = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, samples.length - 1));
  return {
    commit,
    ref: 'refs/heads/main',
    date: '2025-03-01T10:00:00.000Z',
    triggeredBy: 'alice',
    reason: 'first baseline on this runner',
    samples,
    mean,
    sigma,
    n: samples.length,
    ...extra,
  };
}

const macA = {
  runnerLabel: 'mac-m4',
  chip: 'Apple M4',
  macos: '15.1',
  mlx: '0.21.0',
  data: { shard: 'abc' },
};

describe('baselines', () => {
  it('reads a missing file as no baselines', async () => {
    expect(await readBaselines(stateDir)).toEqual({ keys: {} });
    expect(await currentBaseline(stateDir, 'k1')).toBeUndefined();
    expect(await latestBaselineAnyKey(stateDir)).toBeUndefined();
  });

  it('promotes a baseline into a versioned file in a 0700 state dir, keeping the previous in history', async () => {
    const first = entry('c1', [1.01, 1.03], { trainBlob: 'b1', metrics: { peak_vram_mb: 9000 } });
    await promoteBaseline(stateDir, 'k1', macA, first);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(await currentBaseline(stateDir, 'k1')).toEqual(first);

    const second = entry('c2', [0.98, 0.99, 1.0], { reason: 'manual re-baseline' });
    const record = await promoteBaseline(stateDir, 'k1', macA, second);
    expect(record.current).toEqual(second);
    expect(record.history).toEqual([first]);
    await promoteBaseline(stateDir, 'k1', macA, entry('c3', [0.97]));
    const stored = (await readBaselines(stateDir)).keys['k1']!;
    expect(stored.history.map((e) => e.commit)).toEqual(['c1', 'c2']);
    expect(stored.components).toEqual(macA);

    const onDisk = JSON.parse(readFileSync(path.join(stateDir, 'baselines.json'), 'utf8'));
    expect(onDisk.schema).toBe('autoresearch-ci/baselines');
    expect(onDisk.version).toBe(1);
    expect(readdirSync(stateDir)).toEqual(['baselines.json']);
  });

  it('keeps keys apart', async () => {
    await promoteBaseline(stateDir, 'k1', macA, entry('c1', [1.0]));
    await promoteBaseline(stateDir, 'k2', { ...macA, macos: '15.2' }, entry('c2', [1.1]));
    expect((await currentBaseline(stateDir, 'k1'))?.commit).toBe('c1');
    expect((await currentBaseline(stateDir, 'k2'))?.commit).toBe('c2');
    expect((await readBaselines(stateDir)).keys['k1']!.history).toEqual([]);
  });

  it.each([
    ['n that does not match the samples', { n: 3 }, /entry\.n: n must equal the number of samples/],
    ['a NaN mean', { mean: Number.NaN }, /entry\.mean: must be a finite number/],
    [
      'an infinite sample',
      { samples: [1, Number.POSITIVE_INFINITY] },
      /entry\.samples\.1: must be a finite number/,
    ],
    ['a negative sigma', { sigma: -0.1 }, /entry\.sigma: must not be negative/],
    ['no samples', { samples: [], n: 0 }, /entry\.samples: must hold at least one sample/],
    ['an empty commit', { commit: '' }, /entry\.commit: must name the commit/],
    ['a date that is not one', { date: 'yesterday' }, /entry\.date: must be an ISO date/],
  ])('rejects an entry with %s, naming the field, and writes nothing', async (_name, bad, message) => {
    await promoteBaseline(stateDir, 'k1', macA, entry('c1', [1.0]));
    const before = readFileSync(path.join(stateDir, 'baselines.json'), 'utf8');
    const error = await promoteBaseline(stateDir, 'k1', macA, { ...entry('c2', [1.0, 1.1]), ...bad }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StateFileError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('baselines.json');
    expect(readFileSync(path.join(stateDir, 'baselines.json'), 'utf8')).toBe(before);
  });

  it('finds the baseline of another key and reports what drifted', async () => {
    const old = { ...macA, macos: '15.1', mlx: '0.20.0' };
    const other = { ...macA, runnerLabel: 'mac-m1', chip: 'Apple M1' };
    await promoteBaseline(stateDir, 'k-old', old, entry('c-old', [1.0]));
    await promoteBaseline(stateDir, 'k-m1', other, entry('c-m1', [1.2]));
    await promoteBaseline(stateDir, 'k-now', macA, entry('c-now', [0.9]));

    // The newest other key is the M1's; restricted to our runner label it is the old toolchain's.
    expect((await findBaselineByOtherKey(stateDir, 'k-now'))?.keyHash).toBe('k-m1');
    const sameRunner = await findBaselineByOtherKey(stateDir, 'k-new', (c) => c['runnerLabel'] === 'mac-m4');
    expect(sameRunner?.keyHash).toBe('k-now');
    const excludingCurrent = await findBaselineByOtherKey(
      stateDir,
      'k-now',
      (c) => c['runnerLabel'] === 'mac-m4',
    );
    expect(excludingCurrent?.keyHash).toBe('k-old');
    expect(excludingCurrent?.current.commit).toBe('c-old');
    expect(
      await findBaselineByOtherKey(stateDir, 'k-now', (c) => c['runnerLabel'] === 'none'),
    ).toBeUndefined();

    expect((await latestBaselineAnyKey(stateDir))?.keyHash).toBe('k-now');
    expect((await latestBaselineAnyKey(stateDir, 'mac-m1'))?.keyHash).toBe('k-m1');
    expect(await latestBaselineAnyKey(stateDir, 'mac-m9')).toBeUndefined();
  });

  it('moves a corrupt baselines.json aside and refuses to start over silently', async () => {
    await promoteBaseline(stateDir, 'k1', macA, entry('c1', [1.0]));
    const file = path.join(stateDir, 'baselines.json');
    const broken = readFileSync(file, 'utf8').replace('"mean": 1', '"mean": "one"');
    writeFileSync(file, broken);

    const error = (await readBaselines(stateDir).catch((e: unknown) => e)) as StateFileError;
    expect(error).toBeInstanceOf(StateFileError);
    expect(error.message).toMatch(/keys\.k1\.current\.mean/);
    expect(readFileSync(error.keptAt!, 'utf8')).toBe(broken);

    const promote = await promoteBaseline(stateDir, 'k1', macA, entry('c2', [1.0])).catch((e: unknown) => e);
    expect(promote).toBeInstanceOf(StateFileError);
    expect((promote as Error).message).toContain(error.keptAt!);
    expect(existsSync(file)).toBe(false);
  });
});
