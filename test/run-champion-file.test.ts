import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execaRunner } from '../src/identity/command-runner.js';
import { readChampionFile, restoreInterruptedSwap, withFileSwapped } from '../src/run/champion-file.js';

let dir: string;
let stateDir: string;
const git = (...args: string[]) => execa('git', ['-C', dir, ...args]);

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'arci-champion-'));
  stateDir = path.join(dir, '.state');
  await git('init', '-q');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the champion's train.py for control runs", () => {
  it('reads the champion by blob, puts it in place for the run and the candidate back after', async () => {
    await writeFile(path.join(dir, 'train.py'), 'VALUE = 1.5  # champion\n');
    const blob = (await git('hash-object', '-w', 'train.py')).stdout.trim();
    await writeFile(path.join(dir, 'train.py'), 'VALUE = 1.4  # candidate\n');
    const file = await readChampionFile({ workdir: dir, blob, commands: execaRunner() });
    expect(file).toEqual({ contents: 'VALUE = 1.5  # champion\n' });
    const seen = await withFileSwapped(
      { stateDir, workdir: dir, file: 'train.py', contents: (file as { contents: string }).contents },
      () => readFile(path.join(dir, 'train.py'), 'utf8'),
    );
    expect(seen).toContain('champion');
    expect(await readFile(path.join(dir, 'train.py'), 'utf8')).toContain('candidate');
    expect(await restoreInterruptedSwap(stateDir)).toBeUndefined();
  });

  it('says why when the blob is not in the checkout (a shallow clone)', async () => {
    const file = await readChampionFile({ workdir: dir, blob: 'a'.repeat(40), commands: execaRunner() });
    expect(file).toMatchObject({ missing: expect.stringContaining('fetch-depth: 0') });
    expect(await readChampionFile({ workdir: dir, blob: undefined, commands: execaRunner() })).toMatchObject({
      missing: expect.stringContaining('no recorded git blob'),
    });
  });

  it('restores the candidate after a job killed mid-run, but never over a fresh checkout', async () => {
    const train = path.join(dir, 'train.py');
    await writeFile(train, 'candidate\n');
    // Simulate a kill during the run: the body never returns to restore the file.
    const never = withFileSwapped(
      { stateDir, workdir: dir, file: 'train.py', contents: 'champion\n' },
      async () => {
        expect(await readFile(train, 'utf8')).toBe('champion\n');
        expect(await restoreInterruptedSwap(stateDir)).toBe(train);
        expect(await readFile(train, 'utf8')).toBe('candidate\n');
      },
    );
    await never;
    await writeFile(train, 'candidate\n');
    await withFileSwapped({ stateDir, workdir: dir, file: 'train.py', contents: 'champion\n' }, async () => {
      await writeFile(train, 'a fresh checkout\n');
      expect(await restoreInterruptedSwap(stateDir)).toBeUndefined();
      expect(await readFile(train, 'utf8')).toBe('a fresh checkout\n');
    });
  });
});
