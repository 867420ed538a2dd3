/** Checks of the verdict's input, so a malformed baseline or setting is named, never decided on. */
import type { VerdictInput } from './decide.js';

/** Raised when the verdict's input is malformed (non-finite values, bad confidence, …). */
export class VerdictInputError extends Error {
  override name = 'VerdictInputError';
}

/** Throws {@link VerdictInputError} naming the first field that cannot be decided on. */
export function checkInput(input: VerdictInput): void {
  const fail = (field: string, problem: string): never => {
    throw new VerdictInputError(`verdict input ${field} ${problem}`);
  };
  const finiteList = (values: readonly number[] | undefined, field: string): void => {
    values?.forEach((v, i) => {
      if (!Number.isFinite(v))
        fail(`${field}[${i}]`, `is ${v}; every measured value must be a finite number`);
    });
  };
  if (input.candidate.length === 0) fail('candidate', 'is empty; pass at least one measured value');
  finiteList(input.candidate, 'candidate');
  const b = input.baseline;
  if (!Number.isFinite(b.mean)) fail('baseline.mean', `is ${b.mean}; re-establish the baseline`);
  if (!Number.isInteger(b.n) || b.n < 1)
    fail('baseline.n', `is ${b.n}; it must count the baseline runs (≥ 1)`);
  if (!(Number.isFinite(b.sigma) && b.sigma >= 0))
    fail('baseline.sigma', `is ${b.sigma}; it must be finite and ≥ 0`);
  finiteList(b.samples, 'baseline.samples');
  if (b.samples.length > 0 && b.samples.length !== b.n) {
    fail(
      'baseline.n',
      `is ${b.n} but baseline.samples holds ${b.samples.length} values; store them together`,
    );
  }
  if (input.reference !== undefined) {
    if (!Number.isFinite(input.reference.value)) fail('reference.value', `is ${input.reference.value}`);
    finiteList(input.reference.samples, 'reference.samples');
  }
  input.noiseHistory?.forEach((g, i) => {
    if (!Number.isInteger(g.n) || g.n < 0)
      fail(`noiseHistory[${i}].n`, `is ${g.n}; it must be a whole number`);
    if (!(Number.isFinite(g.sd) && g.sd >= 0))
      fail(`noiseHistory[${i}].sd`, `is ${g.sd}; it must be finite and ≥ 0`);
  });
  if (input.direction !== 'minimize' && input.direction !== 'maximize') {
    fail('direction', `is ${String(input.direction)}; use 'minimize' or 'maximize'`);
  }
  if (!(input.confidence > 0.5 && input.confidence < 1)) {
    fail('confidence', `is ${input.confidence}; use a probability between 0.5 and 1 (exclusive), e.g. 0.95`);
  }
  if (!(Number.isFinite(input.minImprovement) && input.minImprovement >= 0)) {
    fail('minImprovement', `is ${input.minImprovement}; use 0 or a positive amount in metric units`);
  }
  if (input.sigmaFloor !== undefined && !(Number.isFinite(input.sigmaFloor) && input.sigmaFloor > 0)) {
    fail('sigmaFloor', `is ${input.sigmaFloor}; use a positive amount in metric units`);
  }
}
