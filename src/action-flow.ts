import path from 'node:path';
import { describeCheckout } from './event/checkout.js';
import { guardCommit } from './event/commit-guard.js';
import type { JobContext } from './event/context.js';
import { type Plan, planJob } from './event/plan.js';
import { checkTrust } from './event/trust.js';
import type { RepositoryApi } from './github/repository-api.js';
import type { CommandRunner } from './identity/command-runner.js';
import type { Report, Status } from './model.js';
import {
  type PublishOutcome,
  type PublishSinks,
  publishReport,
  type ResultsTarget,
} from './publish/publish-report.js';
import { renderProgressComment } from './publish/render-comment.js';
import { resultsFilePath, resultsTarget } from './publish/results-target.js';
import { ACTIONS_BOT_LOGIN, commentMarker, upsertStickyComment } from './publish/sticky-comment.js';
import { inlineText } from './publish/untrusted-text.js';
import type { Settings } from './settings/inputs.js';
import type { Protocol } from './settings/protocol.js';
import { establishBaseline } from './verdict/establish-baseline.js';
import type { JobRequest } from './verdict/job.js';
import { judgeExperiment } from './verdict/judge-experiment.js';

/** What the action flow needs from the outside world, passed in so tests can hand in local ones. */
export interface ActionDeps {
  settings: Settings;
  protocol: Protocol;
  ctx: JobContext;
  /** Bound to the repository; absent without a token (then PR trust cannot be checked). */
  api?: RepositoryApi;
  commands: CommandRunner;
  sinks: PublishSinks;
  /** Notices and warnings for the job log (annotations). */
  notice: (line: string) => void;
  warning: (line: string) => void;
  parentEnv: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** Where run directories and result.json go. */
  workDir: string;
}

/** How the job ended, for the step's exit status. */
export interface ActionResult {
  report: Report;
  published: PublishOutcome;
}

/**
 * The action: plan from the event, refuse untrusted or protocol-breaking commits before anything
 * of theirs runs, judge (or baseline), then publish. Always returns a report, also for skips,
 * refusals and rejections, so every path ends in a job summary and outputs.
 */
export async function runAction(deps: ActionDeps): Promise<ActionResult> {
  const { settings, ctx, protocol } = deps;
  const plan = planJob(ctx, settings);
  const marker = commentMarker(ctx.runnerName);
  const earlierErrors: string[] = [];

  if (plan.kind === 'skip') return finish(deps, skipped(deps, plan.reason), undefined, earlierErrors);

  if (plan.kind === 'experiment') {
    if (plan.fromPullRequest && !deps.api) {
      return finish(
        deps,
        skipped(deps, 'no github-token: the actor of a pull request cannot be checked, so nothing runs'),
        undefined,
        earlierErrors,
      );
    }
    if (deps.api) {
      const trust = await checkTrust(plan, ctx, settings, deps.api);
      if (!trust.trusted) return finish(deps, skipped(deps, trust.reason, plan), undefined, earlierErrors);
      deps.sinks.log(`Trusted: ${trust.note}`);
    }
  }

  if (plan.kind === 'experiment') await assertCheckoutIs(settings.workingDirectory, plan.sha);
  else {
    // A baseline measures whatever the workflow checked out (workflow_dispatch may name a ref).
    const checkout = await describeCheckout(settings.workingDirectory);
    if (checkout) plan.sha = checkout.sha;
  }
  const issueNumber =
    plan.kind === 'experiment' ? await findPullRequest(deps, plan, earlierErrors) : undefined;
  const commentTarget =
    settings.comment && deps.api && issueNumber !== undefined
      ? { api: deps.api, issueNumber, marker, botLogin: await commentAuthor(deps.api, earlierErrors) }
      : undefined;

  if (plan.kind === 'experiment') {
    const base = plan.diffBase ?? plan.defaultBranch;
    const guard = await guardCommit({
      workingDirectory: settings.workingDirectory,
      protocol,
      ...(deps.api ? { api: deps.api } : {}),
      base,
      head: plan.sha,
      ...(settings.resultsBranch === ''
        ? { ignoredPath: resultsFilePath(settings, protocol, ctx.runnerName, plan.branch) }
        : {}),
      warning: deps.warning,
    });
    if (guard.problems.length > 0)
      return finish(deps, rejected(deps, plan, guard.problems), commentTarget, earlierErrors);
    deps.sinks.log(
      `Protocol guard: ${guard.changed} changed path(s) since ${base.slice(0, 12)}, all allowed.`,
    );
  }

  const subject = (await describeCheckout(settings.workingDirectory))?.subject ?? '';
  if (commentTarget) {
    try {
      await upsertStickyComment(
        commentTarget.api,
        commentTarget.issueNumber,
        marker,
        renderProgressComment({
          marker,
          runnerLabel: ctx.runnerName,
          commit: { sha: plan.sha, subject },
          startedAt: new Date(),
          budgetSeconds: protocol.budgetSeconds,
        }),
        commentTarget.botLogin,
      );
    } catch (error) {
      earlierErrors.push(`the "training…" comment could not be written: ${(error as Error).message}`);
    }
  }

  const request: JobRequest = {
    settings,
    protocol,
    command: settings.command ?? protocol.command,
    workdir: settings.workingDirectory,
    runsDir: path.join(deps.workDir, 'runs'),
    runnerName: ctx.runnerName,
    commit: { sha: plan.sha, subject, branch: plan.branch, ref: `refs/heads/${plan.branch}` },
    triggeredBy: ctx.actor,
    ...(plan.kind === 'baseline'
      ? { reason: plan.reason, ...(plan.repeats ? { repeats: plan.repeats } : {}) }
      : {}),
    holder: {
      repo: `${ctx.owner}/${ctx.repo}`,
      runId: `${ctx.runId}/${ctx.runAttempt}`,
      pid: process.pid,
      runner: ctx.runnerName,
    },
    parentEnv: deps.parentEnv,
    commands: deps.commands,
    signal: deps.signal,
    log: deps.sinks.log,
  };
  let report: Report;
  try {
    ({ report } =
      plan.kind === 'baseline' ? await establishBaseline(request) : await judgeExperiment(request));
  } catch (error) {
    // Do not leave a "training…" comment behind: say why there is no verdict, then fail the step.
    if (commentTarget) await replaceWithError(commentTarget, marker, (error as Error).message);
    throw error;
  }
  const results = resultsTarget(settings, protocol, ctx, plan.branch);
  return finish(
    deps,
    report,
    commentTarget && { ...commentTarget, cancelled: report.crash?.kind === 'cancelled' },
    earlierErrors,
    results,
  );
}

/** Step failure per `fail-on`: crash/rejected (crash), also regressed (regression), or never. */
export function shouldFail(report: Report, failOn: Settings['failOn']): boolean {
  if (failOn === 'never') return false;
  const broken: Status[] = ['crash', 'rejected'];
  if (broken.includes(report.status)) return true;
  return failOn === 'regression' && report.verdict === 'regressed';
}

async function finish(
  deps: ActionDeps,
  report: Report,
  comment:
    | { api: RepositoryApi; issueNumber: number; marker: string; botLogin: string; cancelled?: boolean }
    | undefined,
  earlierErrors: string[],
  results?: ResultsTarget,
): Promise<ActionResult> {
  if (report.status === 'skipped')
    deps.notice(`autoresearch-ci skipped: ${report.skipped?.reason ?? report.headline}`);
  const published = await publishReport({
    report,
    protocol: deps.protocol,
    outDir: deps.workDir,
    sinks: deps.sinks,
    ...(comment ? { comment } : {}),
    ...(results ? { results } : {}),
    earlierErrors,
  });
  for (const error of published.errors) deps.warning(error);
  return { report, published };
}

/** A report for a job that ran nothing: the fields every such report shares. */
function notRun(deps: ActionDeps, plan: Plan | undefined): Omit<Report, 'status' | 'headline'> {
  return {
    mode: plan?.kind === 'baseline' ? 'baseline' : 'experiment',
    runner: { name: deps.ctx.runnerName, label: deps.ctx.runnerName },
    ...(plan && plan.kind !== 'skip' ? { commit: { sha: plan.sha, subject: '', branch: plan.branch } } : {}),
    primary: { name: deps.protocol.primary.name, direction: deps.protocol.primary.direction },
    figures: {},
    warnings: [],
    history: [],
    budgetSeconds: deps.protocol.budgetSeconds,
  };
}

function rejected(deps: ActionDeps, plan: Extract<Plan, { kind: 'experiment' }>, problems: string[]): Report {
  const reason = `the commit changes files the protocol does not allow (only ${deps.protocol.allowedGlobs.join(', ')} may change)`;
  return {
    ...notRun(deps, plan),
    status: 'rejected',
    headline: `Rejected: ${reason}. Nothing was run.`,
    rejected: { reason, paths: problems },
  };
}

function skipped(deps: ActionDeps, reason: string, plan?: Plan): Report {
  return { ...notRun(deps, plan), status: 'skipped', headline: `Skipped: ${reason}`, skipped: { reason } };
}

async function replaceWithError(
  target: { api: RepositoryApi; issueNumber: number; botLogin: string },
  marker: string,
  message: string,
): Promise<void> {
  const body = `${marker}\n### ⚠️ **Error** — no verdict\n\n${inlineText(message, 2000)}\n\nThe job summary has the details.`;
  try {
    await upsertStickyComment(target.api, target.issueNumber, marker, body, target.botLogin);
  } catch {
    // The step fails with the same message; the comment is a courtesy.
  }
}

/** Who our comments are written by: the token's user, or the Actions bot for GITHUB_TOKEN. */
async function commentAuthor(api: RepositoryApi, errors: string[]): Promise<string> {
  try {
    return (await api.authenticatedLogin()) ?? ACTIONS_BOT_LOGIN;
  } catch (error) {
    errors.push(
      `the token's user could not be read, assuming ${ACTIONS_BOT_LOGIN}: ${(error as Error).message}`,
    );
    return ACTIONS_BOT_LOGIN;
  }
}

/** The training must run on exactly the commit the event names, not a merge commit or another ref. */
async function assertCheckoutIs(dir: string, sha: string): Promise<void> {
  const checkout = await describeCheckout(dir);
  if (!checkout || !sha) return;
  if (checkout.sha !== sha) {
    throw new Error(
      `working-directory ${dir} holds commit ${checkout.sha.slice(0, 7)}, but the event is for ${sha.slice(0, 7)}. Check out the experiment commit (actions/checkout with ref: \${{ github.event.pull_request.head.sha || github.sha }}).`,
    );
  }
}

async function findPullRequest(
  deps: ActionDeps,
  plan: Extract<Plan, { kind: 'experiment' }>,
  errors: string[],
): Promise<number | undefined> {
  if (plan.pullRequest) return plan.pullRequest.number;
  if (!deps.api || !deps.settings.comment) return undefined;
  try {
    const found = await deps.api.pullRequestsFor(plan.sha, plan.branch);
    const open = found.find((pr) => pr.state === 'open') ?? found[0];
    if (!open) deps.sinks.log(`No pull request for ${plan.branch}; the result goes to the job summary only.`);
    return open?.number;
  } catch (error) {
    errors.push(`the pull request for ${plan.branch} could not be looked up: ${(error as Error).message}`);
    return undefined;
  }
}
