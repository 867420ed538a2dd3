/**
 * The protocol's `integrity` section: how the judge checks that a number is the harness's
 * measurement (the train.py guard), how long a run may take by the runner's clock, and which values
 * are plausible. Every field has a default, so documents without the section load unchanged.
 */
import { z } from 'zod';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Python identifier');

/**
 * How the judge checks that a number is the harness's measurement and not train.py's say-so. Every
 * field has a default (the autoresearch harness: `prepare.evaluate_bpb`), so documents without
 * this section, such as autoresearch-mlx's own, load unchanged.
 */
export const integritySchema = z.looseObject({
  /** The AST guard of train.py; `false` turns it off (for harnesses without an evaluation function). */
  trainPyGuard: z
    .union([
      z.literal(false),
      z.looseObject({
        file: z.string().min(1).default('train.py'),
        harnessModule: identifier.default('prepare'),
        evaluationFunction: identifier.default('evaluate_bpb'),
        /** Summary keys that must be printed from the evaluation's result; default: the primary metric. */
        guardedKeys: z.array(identifier).min(1).optional(),
        python: z.string().min(1).default('python3'),
      }),
    ])
    .prefault({}),
  wallClock: z
    .looseObject({
      /** Start-up and evaluation time allowed on top of the budget; default max(60 s, the budget). */
      allowanceSeconds: z.number().nonnegative().optional(),
    })
    .prefault({}),
  plausibility: z
    .looseObject({
      /** Values at or below this are impossible (val_bpb ≤ 0); null for none. */
      lowerBound: z.number().nullable().default(0),
      /** Values at or above this are impossible; null for none. */
      upperBound: z.number().nullable().default(null),
      /** An improvement over the best the runner has seen beyond this many σ … */
      maxImprovementSigma: z.number().positive().default(20),
      /** … and beyond this fraction of that best value is held as suspicious. */
      maxImprovementRelative: z.number().positive().default(0.1),
    })
    .prefault({}),
});

/** The train.py guard's settings, resolved (see `integrity.trainPyGuard`). */
export interface TrainPyGuardSpec {
  file: string;
  harnessModule: string;
  evaluationFunction: string;
  guardedKeys: string[];
  python: string;
}

/** What the judge checks beyond the number itself (`integrity` in the protocol, with defaults). */
export interface IntegritySpec {
  /** Absent when the protocol turns the guard off. */
  trainPyGuard?: TrainPyGuardSpec;
  /** Measured wall time above `budgetSeconds + this` makes a run not comparable. */
  wallClockAllowanceSeconds: number;
  plausibility: {
    lowerBound: number | null;
    upperBound: number | null;
    maxImprovementSigma: number;
    maxImprovementRelative: number;
  };
}

/** The section with its defaults resolved (the guarded keys default to the primary metric). */
export function resolveIntegrity(doc: {
  integrity: z.output<typeof integritySchema>;
  execution: { stopCondition: { trainingSecondsBudget: number } };
  measurement: { primaryMetric: { name: string } };
}): IntegritySpec {
  const { trainPyGuard, wallClock, plausibility } = doc.integrity;
  const budget = doc.execution.stopCondition.trainingSecondsBudget;
  const primaryMetric = doc.measurement.primaryMetric.name;
  return {
    ...(trainPyGuard === false
      ? {}
      : {
          trainPyGuard: {
            file: trainPyGuard.file,
            harnessModule: trainPyGuard.harnessModule,
            evaluationFunction: trainPyGuard.evaluationFunction,
            guardedKeys: trainPyGuard.guardedKeys ?? [primaryMetric],
            python: trainPyGuard.python,
          },
        }),
    wallClockAllowanceSeconds: wallClock.allowanceSeconds ?? Math.max(60, budget),
    plausibility: {
      lowerBound: plausibility.lowerBound,
      upperBound: plausibility.upperBound,
      maxImprovementSigma: plausibility.maxImprovementSigma,
      maxImprovementRelative: plausibility.maxImprovementRelative,
    },
  };
}
