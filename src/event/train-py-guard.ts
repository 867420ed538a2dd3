/**
 * Guards the measurement path in train.py before its number is believed: parses the file with the
 * runner's python3 (`ast`, nothing of it runs) and lists every place where the metric could come
 * from anything but the harness's evaluation. A finding holds the result as `needs-review`.
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { IntegritySpec, TrainPyGuardSpec } from '../settings/integrity.js';
import { TRAIN_PY_GUARD_SCRIPT } from './train-py-guard-script.js';

/** What the guard found; `findings` empty means the measurement path is intact. */
export interface TrainPyGuardResult {
  /** The file checked, relative to the experiment folder. */
  file: string;
  /** One line each, `train.py:12: prints val_bpb with a literal value`. */
  findings: string[];
}

/**
 * The guard as the action runs it: off when the protocol turns it off, its outcome logged.
 * @returns the findings (empty when the measurement path is intact or the guard is off)
 */
export async function guardTrainPy(
  workdir: string,
  integrity: IntegritySpec,
  log: (line: string) => void,
): Promise<string[]> {
  const spec = integrity.trainPyGuard;
  if (!spec) {
    log('train.py guard: off (integrity.trainPyGuard is false in the protocol)');
    return [];
  }
  const { findings } = await checkTrainPy(workdir, spec);
  log(
    findings.length === 0
      ? `train.py guard: ${spec.guardedKeys.join(', ')} comes from ${spec.harnessModule}.${spec.evaluationFunction}`
      : `train.py guard: ${findings.length} finding(s); the result will be held for review`,
  );
  return findings;
}

/**
 * Checks the experiment's train.py against the protocol's evaluation function and guarded keys.
 * Never throws for a hostile or broken file: an unreadable file, a parse error or a missing python3
 * are findings too (the judge cannot vouch for the number, so a person looks).
 */
export async function checkTrainPy(workdir: string, spec: TrainPyGuardSpec): Promise<TrainPyGuardResult> {
  const file = spec.file;
  const at = (line: number, message: string) => `${file}${line > 0 ? `:${line}` : ''}: ${message}`;
  const full = path.join(workdir, file);
  let source: Buffer;
  try {
    // The training runs the file at this path; a link would be judged by what it points to.
    if (!(await lstat(full)).isFile()) return { file, findings: [at(0, 'is not a regular file')] };
    source = await readFile(full);
  } catch (error) {
    return { file, findings: [at(0, `cannot be read (${(error as NodeJS.ErrnoException).code})`)] };
  }
  const config = JSON.stringify({
    file,
    module: spec.harnessModule,
    function: spec.evaluationFunction,
    keys: spec.guardedKeys,
  });
  // -I: isolated mode, so no sitecustomize, PYTHONPATH or script directory of the checkout is read.
  const result = await execa(spec.python, ['-I', '-c', TRAIN_PY_GUARD_SCRIPT, config], {
    input: source,
    reject: false,
    timeout: 60_000,
    extendEnv: false,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
  });
  if (result.exitCode !== 0) {
    const why =
      (result.failed && result.exitCode === undefined ? result.shortMessage : result.stderr.trim()) ?? '';
    return {
      file,
      findings: [
        at(
          0,
          `the guard could not run with ${spec.python} (${why.split('\n').at(-1) ?? 'no output'}); install python3 on the runner or set integrity.trainPyGuard.python in the protocol`,
        ),
      ],
    };
  }
  const parsed = JSON.parse(result.stdout) as { findings: Array<{ line: number; message: string }> };
  return { file, findings: parsed.findings.map((f) => at(f.line, f.message)) };
}
