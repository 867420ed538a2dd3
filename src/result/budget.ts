/**
 * Checks that a run trained for the protocol's budget. A run that trained noticeably shorter or
 * longer is not comparable with the baseline even when it finished cleanly (a fork changed the
 * budget, or the machine was so busy that the wall-clock budget was spent elsewhere).
 */
import type { Summary } from '../model.js';
import type { Protocol } from '../settings/protocol.js';

/** Summary key train.py prints the training time under (excluding compilation and evaluation). */
export const TRAINING_SECONDS_KEY = 'training_seconds';
/** Relative drift from the budget that is still normal (startup jitter, last step overshooting). */
export const BUDGET_TOLERANCE = 0.1;

/**
 * Warnings about the training time: one when `training_seconds` differs from the protocol's budget
 * by more than 10 %, none when it is within that or was not printed.
 */
export function budgetWarnings(summary: Summary, protocol: Protocol): string[] {
  const trained = summary.metrics[TRAINING_SECONDS_KEY];
  const budget = protocol.budgetSeconds;
  if (trained === undefined || !(budget > 0)) return [];
  const drift = (trained - budget) / budget;
  if (Math.abs(drift) <= BUDGET_TOLERANCE) return [];
  const percent = Math.round(Math.abs(drift) * 100);
  const direction = drift < 0 ? 'shorter' : 'longer';
  return [
    `training_seconds is ${trained} s but the protocol's budget is ${budget} s (${percent} % ${direction}); ` +
      'the result is not comparable with runs that trained for the budget. Check that train.py keeps the ' +
      "protocol's time budget and that the runner was not busy with other work.",
  ];
}
