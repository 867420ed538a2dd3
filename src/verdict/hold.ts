/**
 * Holds a result that must not be believed on its own say-so: a train.py whose measurement path
 * the guard could not vouch for (`needs-review`), or a value that is impossible or far beyond
 * anything this runner has measured (`suspicious`). A held result is recorded as a discard with its
 * reason: it is never kept and never the branch's reference. A maintainer's approval (the
 * `autoresearch-approve` label on the pull request, which re-runs its head) releases it: a
 * `needs-review` at once, a `suspicious` one only when that re-run confirms the held value.
 */
import { APPROVE_LABEL } from '../event/plan.js';
import type { Hold } from '../model.js';
import type { Protocol } from '../settings/protocol.js';
import { readLedger } from '../state/ledger.js';
import { checkPlausibility, confirmsHeldValue } from './plausibility.js';

/** A maintainer's approval of exactly this head (the label event that started the job). */
export interface Approval {
  by: string;
  sha: string;
}

/** What {@link holdResult} weighs. */
export interface HoldInput {
  protocol: Pick<Protocol, 'primary' | 'integrity'>;
  stateDir: string;
  keyHash: string;
  trainBlob: string;
  /** The candidate's value; nothing is held without one (a crash is a crash). */
  value: number | null;
  /** Findings of the train.py guard (empty: the measurement path is intact). */
  guardFindings: readonly string[];
  approval?: Approval;
  /** The best value the runner has measured under this key (kept result or baseline mean). */
  bestSeen?: number;
  /** The single-run noise σ of this runner. */
  sigma?: number;
}

/** The hold, or a release note when an approval lifted one; neither when nothing was wrong. */
export interface HoldDecision {
  hold?: Hold;
  /** Said in the report's warnings when an approval released a hold. */
  released?: string;
}

/** Decides whether the result is held. The one place plausibility and guard findings meet the verdict. */
export async function holdResult(input: HoldInput): Promise<HoldDecision> {
  const { value, protocol, approval } = input;
  if (value === null) return {};
  const reasons = checkPlausibility({
    value,
    metric: protocol.primary.name,
    direction: protocol.primary.direction,
    spec: protocol.integrity.plausibility,
    ...(input.bestSeen === undefined ? {} : { bestSeen: input.bestSeen }),
    ...(input.sigma === undefined ? {} : { sigma: input.sigma }),
  });
  const approvedBy = approval ? `approved by ${approval.by} for ${approval.sha.slice(0, 7)}` : '';
  if (reasons.length > 0) {
    const earlier = approval ? await heldBefore(input) : undefined;
    if (earlier !== undefined && confirmsHeldValue(earlier, value, input.sigma, input.bestSeen)) {
      return {
        released: `${protocol.primary.name} ${value} was held as suspicious; this re-run confirmed it (held value ${earlier}) and it was ${approvedBy}, so it counts`,
      };
    }
    return {
      hold: {
        kind: 'suspicious',
        reasons: [
          ...reasons,
          ...input.guardFindings,
          ...(approval
            ? [
                earlier === undefined
                  ? `${approvedBy}, but there is no earlier held run of this train.py to confirm: this run is the first, a second approval re-runs it to confirm`
                  : `${approvedBy}, but this re-run (${value}) does not confirm the held value ${earlier}`,
              ]
            : []),
        ],
        release: `Not kept, and not this branch's reference. If it is real: a maintainer reviews train.py and adds the label '${APPROVE_LABEL}' to the pull request; that re-runs this commit, and the result counts only if the re-run confirms it.`,
      },
    };
  }
  if (input.guardFindings.length > 0) {
    if (approval) {
      return { released: `the train.py guard flagged this commit; it was ${approvedBy} after review` };
    }
    return {
      hold: {
        kind: 'needs-review',
        reasons: [...input.guardFindings],
        release: `Not kept: the guard cannot vouch that the printed ${protocol.primary.name} is the harness's measurement. A maintainer reviews train.py and, if it is sound, adds the label '${APPROVE_LABEL}' to the pull request to judge it again.`,
      },
    };
  }
  return {};
}

/** The value of the latest suspicious hold of this train.py under this key, if any. */
async function heldBefore(input: HoldInput): Promise<number | undefined> {
  const { records } = await readLedger(
    input.stateDir,
    (r) => r.keyHash === input.keyHash && r.trainBlob === input.trainBlob && r.hold?.kind === 'suspicious',
  );
  const value = records.at(-1)?.value;
  return typeof value === 'number' ? value : undefined;
}
