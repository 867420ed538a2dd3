import path from 'node:path';
import { readDispatchRepeats, type Settings } from '../settings/inputs.js';
import type { JobContext, Payload } from './context.js';

/** A pull request as the trust gate and the publisher need it. */
export interface PullRequestInfo {
  number: number;
  headRef: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  /** `owner/name` of the head repository; null when the fork was deleted. */
  headRepo: string | null;
  baseRepo: string;
  labels: string[];
  author: string;
}

/** What this job will do, decided from the event and the `mode` input before any code runs. */
export type Plan =
  | {
      kind: 'experiment';
      /** Commit to judge. */
      sha: string;
      /** Experiment branch (push branch or PR head branch). */
      branch: string;
      /** Where the changed paths are computed from: the PR base; undefined for a push (the default branch). */
      diffBase?: string;
      /** Default branch, the diff base of a newly pushed branch. */
      defaultBranch: string;
      pullRequest?: PullRequestInfo;
      /** The event was a pull request (the trust gate checks the actor). */
      fromPullRequest: boolean;
      /** The pull_request action (`opened`, `synchronize`, `labeled`, …). */
      action?: string;
      /** The label a `labeled` event added: it approves exactly the head it was added to. */
      addedLabel?: string;
    }
  | {
      kind: 'baseline';
      sha: string;
      branch: string;
      defaultBranch: string;
      repeats?: number;
      reason: string;
      triggeredBy: string;
    }
  | { kind: 'skip'; reason: string };

const ZERO_SHA = /^0+$/;
const PR_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);
/** Events whose code or context an attacker controls; refused outright. */
const REFUSED_EVENTS = new Set(['pull_request_target', 'workflow_run', 'issue_comment']);

/**
 * Decides what to do. `mode: auto` follows the event: push to a matching branch or a same-repo
 * pull request → experiment, workflow_dispatch → baseline; anything else is skipped with a reason.
 */
export function planJob(
  ctx: JobContext,
  settings: Pick<Settings, 'mode' | 'branchPattern'> & Partial<Pick<Settings, 'baselineBranches'>>,
): Plan {
  const p = ctx.payload;
  if (REFUSED_EVENTS.has(ctx.eventName)) {
    return {
      kind: 'skip',
      reason: `${ctx.eventName} events are refused: they run with secrets in the context of untrusted input. Trigger on push, pull_request or workflow_dispatch instead.`,
    };
  }
  const defaultBranch: string = p.repository?.default_branch ?? 'main';
  if (settings.mode === 'baseline' || (settings.mode === 'auto' && ctx.eventName === 'workflow_dispatch')) {
    const inputs = (p.inputs ?? {}) as Record<string, unknown>;
    // On a pull request the vetted code is its base, never its head or merge commit.
    const base = ctx.eventName === 'pull_request' ? p.pull_request?.base : undefined;
    const branch: string = base?.ref ?? branchOf(ctx.ref) ?? defaultBranch;
    const allowed = settings.baselineBranches ?? [];
    if (branch !== defaultBranch && !allowed.some((glob) => matchesBranch(branch, glob))) {
      return {
        kind: 'skip',
        reason: `baselines are measured only on the default branch ${defaultBranch}${allowed.length ? ` or ${allowed.join(', ')}` : ''}, not on '${branch}': a baseline judges every later experiment, so it runs only vetted code. Dispatch the workflow on ${defaultBranch}, or list the branch in baseline-branches.`,
      };
    }
    return {
      kind: 'baseline',
      sha: base?.sha ?? ctx.sha,
      branch,
      defaultBranch,
      repeats: readDispatchRepeats(inputs.repeats),
      reason:
        typeof inputs.reason === 'string' && inputs.reason.trim()
          ? inputs.reason.trim()
          : `${ctx.eventName} by ${ctx.actor}`,
      triggeredBy: ctx.actor,
    };
  }
  if (ctx.eventName === 'pull_request') {
    const pr = p.pull_request;
    if (!pr) return { kind: 'skip', reason: 'the pull_request payload has no pull_request object' };
    const addedLabel = p.action === 'labeled' ? String(p.label?.name ?? '') : undefined;
    const startsRun = addedLabel === SAFE_TO_TEST_LABEL || addedLabel === APPROVE_LABEL;
    if (!PR_ACTIONS.has(p.action) && !startsRun) {
      return {
        kind: 'skip',
        reason: `pull_request action '${p.action}' does not start an experiment (opened, synchronize and reopened do)`,
      };
    }
    const info = pullRequestInfo(pr);
    return {
      kind: 'experiment',
      sha: info.headSha,
      branch: info.headRef,
      diffBase: info.baseSha,
      defaultBranch,
      pullRequest: info,
      fromPullRequest: true,
      action: String(p.action),
      ...(addedLabel ? { addedLabel } : {}),
    };
  }
  if (ctx.eventName === 'push' || (settings.mode === 'experiment' && ctx.eventName !== 'pull_request')) {
    if (ctx.eventName === 'push' && (p.deleted === true || ZERO_SHA.test(String(p.after ?? '')))) {
      return { kind: 'skip', reason: `${ctx.ref} was deleted; nothing to judge` };
    }
    const branch = branchOf(ctx.ref);
    if (!branch)
      return {
        kind: 'skip',
        reason: `${ctx.ref || 'this ref'} is not a branch; experiments run on branches`,
      };
    if (settings.mode === 'auto' && !matchesBranch(branch, settings.branchPattern)) {
      return {
        kind: 'skip',
        reason: `branch '${branch}' does not match branch-pattern '${settings.branchPattern}'; push experiments to a matching branch or change the input`,
      };
    }
    // The guard checks the whole branch against the default branch, not only this push: an earlier
    // rejected push must not slip through behind a later one that touches only train.py.
    return {
      kind: 'experiment',
      sha: String(p.after ?? ctx.sha),
      branch,
      defaultBranch,
      fromPullRequest: false,
    };
  }
  return {
    kind: 'skip',
    reason: `event '${ctx.eventName}' does not start anything; use push, pull_request or workflow_dispatch (or set mode)`,
  };
}

/** Label a maintainer puts on a fork pull request to let it run (with `allow-forks: true`). */
export const SAFE_TO_TEST_LABEL = 'safe-to-test';

/**
 * Label a maintainer adds to approve a held result (`suspicious` or `needs-review`) of the pull
 * request's current head: the job it starts re-runs that head, and the approval counts for it only.
 */
export const APPROVE_LABEL = 'autoresearch-approve';

/** `refs/heads/x` → `x`; other refs → undefined. */
export function branchOf(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

/** Glob match of a branch name (`*` stays within one path segment, `**` crosses them). */
export function matchesBranch(branch: string, pattern: string): boolean {
  return path.posix.matchesGlob(branch, pattern);
}

function pullRequestInfo(pr: Payload): PullRequestInfo {
  return {
    number: Number(pr.number),
    headRef: String(pr.head?.ref ?? ''),
    headSha: String(pr.head?.sha ?? ''),
    baseRef: String(pr.base?.ref ?? ''),
    baseSha: String(pr.base?.sha ?? ''),
    headRepo: pr.head?.repo?.full_name ?? null,
    baseRepo: String(pr.base?.repo?.full_name ?? ''),
    labels: Array.isArray(pr.labels) ? pr.labels.map((l: { name?: string }) => String(l.name ?? '')) : [],
    author: String(pr.user?.login ?? ''),
  };
}
