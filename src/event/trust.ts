import type { Permission, RepositoryApi } from '../github/repository-api.js';
import type { Settings } from '../settings/inputs.js';
import type { JobContext } from './context.js';
import { type Plan, SAFE_TO_TEST_LABEL } from './plan.js';

/** The trust gate's answer; a refusal says why and what a maintainer can do. */
export type TrustDecision = { trusted: true; note: string } | { trusted: false; reason: string };

const WRITERS: ReadonlySet<Permission> = new Set(['admin', 'maintain', 'write']);

/**
 * Decides whether the commit may run, before any of its code executes. Fork pull requests never
 * run unless `allow-forks` is on, the PR carries the safe-to-test label, and the actor (who added
 * the label or pushed) has write access. Same-repository pull requests need an actor with write
 * access read from the API: `author_association` in the payload is not trusted. Pushes need write
 * access to happen at all.
 */
export async function checkTrust(
  plan: Extract<Plan, { kind: 'experiment' }>,
  ctx: Pick<JobContext, 'actor' | 'owner' | 'repo'>,
  settings: Pick<Settings, 'allowForks'>,
  api: Pick<RepositoryApi, 'permissionOf' | 'removeLabel'>,
): Promise<TrustDecision> {
  if (!plan.fromPullRequest) return { trusted: true, note: 'push by a user with write access' };
  const pr = plan.pullRequest;
  if (!pr) return { trusted: false, reason: 'the pull request is missing from the event payload' };
  const repoName = `${ctx.owner}/${ctx.repo}`;
  const fork = pr.headRepo === null || pr.headRepo !== pr.baseRepo;
  if (fork) {
    if (!settings.allowForks) {
      return {
        trusted: false,
        reason: `pull request #${pr.number} comes from a fork (${pr.headRepo ?? 'deleted repository'}); fork code never runs on this runner. A maintainer can push the change to a branch of ${repoName}, or set allow-forks: true and label the PR '${SAFE_TO_TEST_LABEL}' after reviewing it.`,
      };
    }
    if (!pr.labels.includes(SAFE_TO_TEST_LABEL)) {
      return {
        trusted: false,
        reason: `pull request #${pr.number} comes from a fork and has no '${SAFE_TO_TEST_LABEL}' label; a maintainer reviews the change, then adds the label.`,
      };
    }
    // The label approves the head it was added to. Any other event (a new push, Update branch,
    // reopen) may carry a head nobody reviewed, whoever triggered it.
    if (plan.addedLabel !== SAFE_TO_TEST_LABEL) {
      const moved = plan.action === 'synchronize';
      if (moved) await api.removeLabel(pr.number, SAFE_TO_TEST_LABEL).catch(() => undefined);
      return {
        trusted: false,
        reason: `pull request #${pr.number} comes from a fork; its '${SAFE_TO_TEST_LABEL}' label approves only the head it was added to, and this '${plan.action ?? 'unknown'}' event is for ${pr.headSha.slice(0, 7)}${moved ? ' (the label was removed because the head moved)' : ''}. A maintainer reviews this head, then adds the label again.`,
      };
    }
  }
  const permission = await readPermission(api, ctx.actor);
  if (!WRITERS.has(permission)) {
    return {
      trusted: false,
      reason: `${ctx.actor} has '${permission}' permission on ${repoName}; experiments from pull requests run only for actors with write, maintain or admin. A maintainer can push the change to a branch of ${repoName}, or (with allow-forks) add the '${SAFE_TO_TEST_LABEL}' label, which starts a run as the maintainer.`,
    };
  }
  return {
    trusted: true,
    note: fork
      ? `fork pull request labelled '${SAFE_TO_TEST_LABEL}', actor ${ctx.actor} has ${permission}`
      : `actor ${ctx.actor} has ${permission}`,
  };
}

async function readPermission(api: Pick<RepositoryApi, 'permissionOf'>, user: string): Promise<Permission> {
  try {
    return await api.permissionOf(user);
  } catch (error) {
    // A 404 means "not a collaborator"; anything else must not silently grant or deny.
    if ((error as { status?: number }).status === 404) return 'none';
    throw error;
  }
}
