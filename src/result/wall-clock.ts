/**
 * The one number about a run the judge measures itself: how long the training process really ran.
 * `training_seconds` is train.py's own word; the wall time is the action's. A run far past the
 * budget plus the start-up and evaluation allowance is not comparable, whatever it printed, and a
 * reported training time that the measured time contradicts is flagged.
 */
import type { Summary } from '../model.js';
import type { Protocol } from '../settings/protocol.js';
import { TRAINING_SECONDS_KEY } from './budget.js';

/** Reported time may exceed the measured by this much (the process clock starts a little late). */
const REPORT_SLACK_SECONDS = 1;

/** What the measured wall time says about a run. */
export interface WallClockCheck {
  /** Set when the run went far past the budget: the result is not comparable. */
  overrun?: string;
  /** Disagreements between the reported and the measured time. */
  warnings: string[];
}

/**
 * Compares the measured duration of a finished run with the protocol's budget and allowance and
 * with the `training_seconds` it reported.
 * @param durationMs the process's measured wall time
 */
export function checkWallClock(
  durationMs: number,
  summary: Summary,
  protocol: Pick<Protocol, 'budgetSeconds' | 'integrity'>,
): WallClockCheck {
  const measured = durationMs / 1000;
  const budget = protocol.budgetSeconds;
  const allowance = protocol.integrity.wallClockAllowanceSeconds;
  const limit = budget + allowance;
  const s = (x: number) => `${x.toFixed(1)} s`;
  const warnings: string[] = [];
  const reported = summary.metrics[TRAINING_SECONDS_KEY];
  if (summary.found && reported === undefined) {
    warnings.push(
      `train.py did not report ${TRAINING_SECONDS_KEY}; the measured wall time was ${s(measured)} (budget ${s(budget)} + allowance ${s(allowance)})`,
    );
  } else if (reported !== undefined && reported > measured + REPORT_SLACK_SECONDS) {
    warnings.push(
      `train.py reports ${TRAINING_SECONDS_KEY} ${s(reported)}, but the process ran only ${s(measured)}: the reported time cannot be true`,
    );
  } else if (reported !== undefined && measured - reported > allowance) {
    warnings.push(
      `train.py reports ${TRAINING_SECONDS_KEY} ${s(reported)}, but the process ran ${s(measured)}: ${s(measured - reported)} are unaccounted for (allowance ${s(allowance)})`,
    );
  }
  return {
    ...(measured > limit
      ? {
          overrun: `the training ran ${s(measured)} by the runner's clock, past the budget ${s(budget)} plus the ${s(allowance)} start-up and evaluation allowance (integrity.wallClock.allowanceSeconds), so it is not comparable whatever ${TRAINING_SECONDS_KEY} it printed`,
        }
      : {}),
    warnings,
  };
}
