import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTrainPy } from '../src/event/train-py-guard.js';
import { builtinProtocol } from '../src/settings/protocol.js';

const spec = builtinProtocol().integrity.trainPyGuard!;
const honest = await readFile(path.resolve(import.meta.dirname, 'fixtures/train-py/honest.py'), 'utf8');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'arci-guard-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Guards `source` as train.py and returns the findings. */
async function findings(source: string): Promise<string[]> {
  await rm(path.join(dir, 'train.py'), { force: true });
  await writeFile(path.join(dir, 'train.py'), source);
  return (await checkTrainPy(dir, spec)).findings;
}

/** The honest script with one line replaced (the line must exist). */
function edit(find: string, replace: string): string {
  expect(honest).toContain(find);
  return honest.replace(find, replace);
}

describe('the train.py guard', () => {
  it('reads the protocol defaults: prepare.evaluate_bpb guards val_bpb', () => {
    expect(spec).toMatchObject({
      file: 'train.py',
      harnessModule: 'prepare',
      evaluationFunction: 'evaluate_bpb',
      guardedKeys: ['val_bpb'],
    });
  });

  it('passes an honest script (own setattr, docstrings and progress lines included)', async () => {
    expect(await findings(honest)).toEqual([]);
  });

  it('flags a script that prints a summary without training or evaluating', async () => {
    const fake = 'print("---")\nprint("val_bpb:          0.123456")\nprint("training_seconds: 300.0")\n';
    expect(await findings(fake)).toEqual([
      "train.py:1: never calls prepare.evaluate_bpb, so the metric it prints is not the harness's",
      'train.py:2: prints val_bpb with a literal value',
    ]);
  });

  it('flags a literal or another variable printed as val_bpb', async () => {
    expect(await findings(edit('{val_bpb:.6f}', '{-5:.6f}'))).toEqual([
      'train.py:41: prints val_bpb from an expression, not from the result of evaluate_bpb',
    ]);
    expect(await findings(edit('{val_bpb:.6f}', '{math.pi / 3:.6f}'))).toEqual([
      'train.py:41: prints val_bpb from an expression, not from the result of evaluate_bpb',
    ]);
    expect(await findings(edit('print("---")', 'val_bpb = val_bpb * 0.5\nprint("---")'))).toEqual([
      'train.py:42: prints val_bpb from the variable val_bpb (it is assigned more than once), not from the result of evaluate_bpb',
    ]);
  });

  it('flags the metric printed through %, .format and concatenation from anything else', async () => {
    for (const line of [
      'print("val_bpb: %.6f" % 0.5)',
      'print("val_bpb: {}".format(3))',
      'print("val_bpb:          %.6f" % (0.9,))',
      'print("val_bpb: " + str(0.7))',
      'print("val_bpb:", 0.7)',
    ]) {
      const found = await findings(edit('print(f"val_bpb:          {val_bpb:.6f}")', line));
      expect(found, line).toHaveLength(1);
      expect(found[0], line).toMatch(/^train\.py:41: prints val_bpb (from an expression|without a value)/);
    }
    for (const line of [
      'print("val_bpb: %.6f" % val_bpb)',
      'print("val_bpb: {:.6f}".format(val_bpb))',
      'print("val_bpb: " + str(val_bpb))',
      'print("val_bpb:", val_bpb)',
      'print("val_bpb:          %.6f\\ntraining_seconds: %.1f" % (val_bpb, total_training_time))',
    ]) {
      expect(await findings(edit('print(f"val_bpb:          {val_bpb:.6f}")', line)), line).toEqual([]);
    }
  });

  it('flags monkeypatching or wrapping the evaluation', async () => {
    expect(await findings(`import prepare\nprepare.evaluate_bpb = lambda *a: 0.1\n${honest}`)).toContain(
      'train.py:2: assigns to prepare.evaluate_bpb, a name of the harness',
    );
    expect(
      await findings(edit('t_start = time.time()', 'evaluate_bpb = lambda *a: 0.1\nt_start = time.time()')),
    ).toContain('train.py:23: rebinds the harness name evaluate_bpb');
    expect(
      await findings(
        edit('t_start = time.time()', 'def evaluate_bpb(*a):\n    return 0.1\nt_start = time.time()'),
      ),
    ).toContain('train.py:23: defines evaluate_bpb, a name of the harness');
    expect(
      await findings(edit('t_start = time.time()', 'TIME_BUDGET = 3000\nt_start = time.time()')),
    ).toContain('train.py:23: rebinds the harness name TIME_BUDGET');
    expect(
      await findings(`import sys\nsys.modules["prepare"].evaluate_bpb = lambda *a: 0.1\n${honest}`),
    ).toContain('train.py:2: reaches into sys.modules, which can replace the harness');
    expect(await findings(`import prepare\nsetattr(prepare, "evaluate_bpb", len)\n${honest}`)).toContain(
      'train.py:2: calls setattr on prepare, a name of the harness',
    );
    expect(await findings(`import builtins\nbuiltins.print = len\n${honest}`)).toContain(
      'train.py:2: assigns to builtins.print, which can change how the metric is computed or printed',
    );
    expect(await findings(`exec("x = 1")\n${honest}`)).toContain(
      'train.py:1: runs dynamic code with exec(), which the guard cannot read',
    );
    expect(
      await findings(edit('from prepare import', 'from mylib import evaluate_bpb\nfrom prepare import')),
    ).toContain('train.py:6: imports evaluate_bpb from mylib instead of the harness module prepare');
  });

  it('flags a metric line built where the guard cannot follow it', async () => {
    expect(await findings(edit('print("---")', 'line = "val_bpb: " + "0.5"\nprint("---")'))).toContain(
      'train.py:40: builds a val_bpb line in a way the guard cannot trace to evaluate_bpb',
    );
  });

  it('treats unparsable, linked and missing files as findings, never as a pass', async () => {
    expect(await findings('def broken(:\n')).toEqual([
      'train.py:1: cannot be parsed (invalid syntax), so the guard cannot vouch for its metric',
    ]);
    await writeFile(path.join(dir, 'elsewhere.py'), honest);
    await rm(path.join(dir, 'train.py'), { force: true });
    await symlink(path.join(dir, 'elsewhere.py'), path.join(dir, 'train.py'));
    expect((await checkTrainPy(dir, spec)).findings).toEqual(['train.py: is not a regular file']);
    await rm(path.join(dir, 'train.py'));
    expect((await checkTrainPy(dir, spec)).findings).toEqual(['train.py: cannot be read (ENOENT)']);
  });

  it('says so when python3 cannot run the guard', async () => {
    await writeFile(path.join(dir, 'train.py'), honest);
    const found = (await checkTrainPy(dir, { ...spec, python: 'no-such-python3' })).findings;
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^train\.py: the guard could not run with no-such-python3 .*set integrity\.trainPyGuard\.python/,
    );
  });
});
