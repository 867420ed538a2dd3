import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  readStateFile,
  removeOrphanTemps,
  StateFileError,
  stageFile,
  updateStateFile,
  writeFileAtomic,
} from '../src/state/atomic-file.js';
import { counterFormat } from './fixtures/state/counter.js';

let root: string;
let file: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'arci-atomic-'));
  file = path.join(root, 'state', 'counter.json');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Runs `fn`, expecting a StateFileError, and returns it. */
async function stateError(fn: () => Promise<unknown>): Promise<StateFileError> {
  const error = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StateFileError);
  return error as StateFileError;
}

function corruptCopies(): string[] {
  return readdirSync(path.dirname(file)).filter((n) => n.startsWith('counter.json.corrupt-'));
}

describe('writeFileAtomic', () => {
  it('creates the directory with mode 0700 and leaves only the target file', async () => {
    await writeFileAtomic(file, 'hello\n');
    expect(readFileSync(file, 'utf8')).toBe('hello\n');
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(readdirSync(path.dirname(file))).toEqual(['counter.json']);
    await writeFileAtomic(file, 'again\n');
    expect(readFileSync(file, 'utf8')).toBe('again\n');
    expect(readdirSync(path.dirname(file))).toEqual(['counter.json']);
  });

  it('stages a synced temp file that does not touch the target until committed', async () => {
    await writeFileAtomic(file, 'old');
    const staged = await stageFile(file, 'new');
    expect(path.dirname(staged.tempPath)).toBe(path.dirname(file));
    expect(readFileSync(staged.tempPath, 'utf8')).toBe('new');
    expect(readFileSync(file, 'utf8')).toBe('old');
    await staged.commit();
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(existsSync(staged.tempPath)).toBe(false);
    const discarded = await stageFile(file, 'never');
    await discarded.discard();
    expect(readdirSync(path.dirname(file))).toEqual(['counter.json']);
  });
});

describe('readStateFile / updateStateFile', () => {
  it('reads a missing file as undefined and round-trips a versioned document', async () => {
    expect(await readStateFile(file, counterFormat)).toBeUndefined();
    await updateStateFile(file, counterFormat, (c) => ({ count: (c?.count ?? 0) + 1 }));
    await updateStateFile(file, counterFormat, (c) => ({ count: (c?.count ?? 0) + 1 }));
    const onDisk = JSON.parse(readFileSync(file, 'utf8'));
    expect(onDisk).toEqual({ schema: 'test/counter', version: 1, count: 2 });
    expect((await readStateFile(file, counterFormat))?.count).toBe(2);
    // The lock is gone once the update is over.
    expect(readdirSync(path.dirname(file))).toEqual(['counter.json']);
  });

  it.each([
    ['bad JSON', '{"schema": "test/counter", "version": 1, "count": 3', /not valid JSON/],
    ['wrong schema', '{"schema": "test/other", "version": 1, "count": 3}', /field "schema" is "test\/other"/],
    ['older version', '{"schema": "test/counter", "version": 0, "count": 3}', /field "version" is 0/],
    ['wrong field type', '{"schema": "test/counter", "version": 1, "count": "three"}', /count: /],
  ])(
    'moves a corrupt file (%s) aside, never overwrites it, and keeps failing until a person acts',
    async (_name, content, problem) => {
      await writeFileAtomic(file, content);
      const error = await stateError(() => updateStateFile(file, counterFormat, () => ({ count: 1 })));
      expect(error.message).toMatch(problem);
      expect(error.keptAt).toBeDefined();
      expect(error.message).toContain(error.keptAt!);
      expect(error.message).toMatch(/delete .* to start counter\.json afresh/);
      expect(existsSync(file)).toBe(false);
      expect(readFileSync(error.keptAt!, 'utf8')).toBe(content);
      expect(path.basename(error.keptAt!)).toMatch(/^counter\.json\.corrupt-\d{4}-\d\d-\d\dT/);

      // No silent fresh start: reading and updating fail while the corrupt copy waits.
      const again = await stateError(() => readStateFile(file, counterFormat));
      expect(again.message).toContain(error.keptAt!);
      await stateError(() => updateStateFile(file, counterFormat, () => ({ count: 1 })));
      expect(existsSync(file)).toBe(false);
      expect(corruptCopies()).toHaveLength(1);

      rmSync(error.keptAt!);
      expect(await readStateFile(file, counterFormat)).toBeUndefined();
    },
  );

  it('leaves a file from a newer version in place and says to upgrade', async () => {
    const content = '{"schema": "test/counter", "version": 7, "count": 3, "newField": true}';
    await writeFileAtomic(file, content);
    const error = await stateError(() => updateStateFile(file, counterFormat, () => ({ count: 1 })));
    expect(error.message).toMatch(/newer autoresearch-ci .*version 7; this version reads 1/);
    expect(error.message).toMatch(/upgrade/);
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(corruptCopies()).toHaveLength(0);
  });

  it('refuses to write a value that would not read back, naming the field', async () => {
    await updateStateFile(file, counterFormat, () => ({ count: 5 }));
    const before = readFileSync(file, 'utf8');
    const error = await stateError(() =>
      updateStateFile(file, counterFormat, () => ({ count: 1.5 }) as { count: number }),
    );
    expect(error.message).toMatch(/refusing to write .*counter\.json.*count: /);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('keeps unknown fields of the document when updating', async () => {
    await writeFileAtomic(file, '{"schema": "test/counter", "version": 1, "count": 1, "note": "kept"}');
    await updateStateFile(file, counterFormat, (c) => ({ ...c!, count: c!.count + 1 }));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ count: 2, note: 'kept' });
  });
});

describe('orphan temp files', () => {
  it('removes temp files of dead writers only, and never reads them as data', async () => {
    await updateStateFile(file, counterFormat, () => ({ count: 1 }));
    const dir = path.dirname(file);
    // pid 2^22+1 is above Linux's pid_max ceiling and macOS's 99999: no such process.
    const orphan = path.join(dir, `.counter.json.${2 ** 22 + 1}.abcdef.tmp`);
    const live = path.join(dir, `.counter.json.${process.pid}.abcdef.tmp`);
    const unrelated = path.join(dir, '.other.json.1.abcdef.tmp');
    for (const temp of [orphan, live, unrelated])
      writeFileSync(temp, '{"schema":"test/counter","version":1,"count":99}');

    expect((await readStateFile(file, counterFormat))?.count).toBe(1);
    expect(await removeOrphanTemps(file)).toEqual([path.basename(orphan)]);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(unrelated)).toBe(true);

    writeFileSync(orphan, 'partial');
    await updateStateFile(file, counterFormat, (c) => ({ count: c!.count + 1 }));
    expect(existsSync(orphan)).toBe(false);
    expect((await readStateFile(file, counterFormat))?.count).toBe(2);
  });
});
