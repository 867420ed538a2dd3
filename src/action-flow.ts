import path from 'node:path';
import { describeCheckout } from './event/checkout.js';
import { guardCommitAgainst } from './event/commit-guard.js';
import type { JobContext } from './event/context.js';
import { APPROVE_LABEL, type Plan, planJob } from './event/plan.js';
import { guardTrainPy } from './event/train-py-guard.js';
import { checkTrust } from './event/trust.js';
import type { RepositoryApi } from './github/repository-api.js';
import type { CommandRunner } from './identity/command-runner.js';
import type { Report, Status } from './model.js';
import {
  type CommentTarget,
  type PublishOutcome,
  type PublishSinks,
  publishReport,
  type ResultsTarget,
} from './publish/publish-report.js';
import { renderErrorComment, renderProgressComment } from './publish/render-comment.js';
import { resultsFilePath, resultsTarget } from './publish/results-target.js';
import { ACTIONS_BOT_LOGIN, commentMarker, upsertStickyComment } from './publish/sticky-comment.js';
import type { Settings } from './settings/inputs.js';
import type { Protocol } from './settings/protocol.js';
import { establishBaseline } from './verdict/establish-baseline.js';
import type { JobRequest } from './verdict/job.js';
import { judgeExperiment } from './verdict/judge-experiment.js';
import { type BaseReport, baseReport, rejectedReport, skippedReport } from './verdict/report.js';

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

/** A job cleared to run: the commit to train and where its comment goes. */
interface GoAhead {
  plan: Extract<Plan, { kind: 'experiment' | 'baseline' }>;
  sha: string;
  subject: string;
  comment?: CommentTarget;
  /** The train.py guard's findings (experiments). */
  guardFindings?: string[];
}

/** What the gate decided: stop with a report that says why, or go ahead. */
type Gate = { kind: 'stop'; report: Report; comment?: CommentTarget } | { kind: 'go'; job: GoAhead };

/**
 * The action: plan from the event, refuse untrusted or protocol-breaking commits before anything
 * of theirs runs, judge (or baseline), then publish. Always returns a report, also for skips,
 * refusals and rejections, so every path ends in a job summary and outputs.
 */
export async function runAction(deps: ActionDeps): Promise<ActionResult> {
  const errors: string[] = [];
  const gate = await gateJob(deps, errors);
  if (gate.kind === 'stop') return finish(deps, { report: gate.report, comment: gate.comment, errors });
  const { job } = gate;
  if (job.comment) await postProgress(deps, job);
  let report: Report;
  try {
    const request = jobRequest(deps, job);
    ({ report } =
      job.plan.kind === 'baseline' ? await establishBaseline(request) : await judgeExperiment(request));
  } catch (error) {
    // Do not leave a "training…" comment behind: say why there is no verdict, then fail the step.
    if (job.comment) await replaceWithError(job.comment, (error as Error).message);
    throw error;
  }
  const results = resultsTarget(deps.settings, deps.protocol, deps.ctx, job.plan.branch);
  return finish(deps, { report, comment: job.comment, errors, results });
}

/** Plans the job, then clears it or stops it with a skip or rejection report. */
async function gateJob(deps: ActionDeps, errors: string[]): Promise<Gate> {
  const plan = planJob(deps.ctx, deps.settings);
  if (plan.kind === 'skip') return stop(skippedReport(notRun(deps), plan.reason));
  return plan.kind === 'baseline' ? gateBaseline(deps, plan) : gateExperiment(deps, plan, errors);
}

/** A baseline is every later verdict's yardstick: only the event's head of a vetted branch. */
async function gateBaseline(deps: ActionDeps, plan: Extract<Plan, { kind: 'baseline' }>): Promise<Gate> {
  const { settings } = deps;
  const checkout = await describeCheckout(settings.workingDirectory);
  if (checkout && plan.sha && checkout.sha !== plan.sha) {
    const reason = `the checkout holds ${checkout.sha.slice(0, 7)}, but a baseline is measured only on the head of ${plan.branch} the event names (${plan.sha.slice(0, 7)}); check out that ref, without another ref input`;
    return stop(rejectedReport(notRun(deps, plan), { reason, paths: [] }));
  }
  // The default branch's head is vetted by whoever merged into it; another branch is guarded.
  const bases = plan.branch === plan.defaultBranch ? [] : [plan.defaultBranch];
  const guard = await guardCommitAgainst(bases, {
    workingDirectory: settings.workingDirectory,
    protocol: deps.protocol,
    api: deps.api,
    head: plan.sha,
    warning: deps.warning,
  });
  if (guard.problems.length > 0) {
    const reason = `the baseline branch ${plan.branch} changes files the protocol does not allow, compared with ${plan.defaultBranch}`;
    return stop(rejectedReport(notRun(deps, plan), { reason, paths: guard.problems }));
  }
  return { kind: 'go', job: { plan, sha: checkout?.sha ?? plan.sha, subject: checkout?.subject ?? '' } };
}

/** An experiment runs only for a trusted actor, on the event's commit, within the protocol. */
async function gateExperiment(
  deps: ActionDeps,
  plan: Extract<Plan, { kind: 'experiment' }>,
  errors: string[],
): Promise<Gate> {
  const { settings, protocol, api } = deps;
  if (!api) {
    if (plan.fromPullRequest) {
      const reason = 'no github-token: the actor of a pull request cannot be checked, so nothing runs';
      return stop(skippedReport(notRun(deps), reason));
    }
  } else {
    const trust = await checkTrust(plan, deps.ctx, settings, api);
    if (!trust.trusted) return stop(skippedReport(notRun(deps, plan), trust.reason));
    deps.sinks.log(`Trusted: ${trust.note}`);
  }
  await assertCheckoutIs(settings.workingDirectory, plan.sha);
  const comment = await commentTarget(deps, plan, errors);
  const base = plan.diffBase ?? plan.defaultBranch;
  // A pull request into another branch is checked against the default branch too: its base may
  // hold code that never passed the guard.
  const bases =
    plan.pullRequest && plan.pullRequest.baseRef !== plan.defaultBranch ? [base, plan.defaultBranch] : [base];
  const guard = await guardCommitAgainst(bases, {
    workingDirectory: settings.workingDirectory,
    protocol,
    api,
    head: plan.sha,
    ignoredPath:
      settings.resultsBranch === ''
        ? resultsFilePath(settings, protocol, deps.ctx.runnerName, plan.branch)
        : undefined,
    warning: deps.warning,
  });
  if (guard.problems.length > 0) {
    const reason = `the commit changes files the protocol does not allow (only ${protocol.allowedGlobs.join(', ')} may change)`;
    return {
      kind: 'stop',
      report: rejectedReport(notRun(deps, plan), { reason, paths: guard.problems }),
      comment,
    };
  }
  deps.sinks.log(
    `Protocol guard: ${guard.changed} changed path(s) since ${bases.map((b) => b.slice(0, 12)).join(' and ')}, all allowed.`,
  );
  const guardFindings = await guardTrainPy(settings.workingDirectory, protocol.integrity, deps.sinks.log);
  const subject = (await describeCheckout(settings.workingDirectory))?.subject ?? '';
  return { kind: 'go', job: { plan, sha: plan.sha, subject, comment, guardFindings } };
}

function stop(report: Report): Gate {
  return { kind: 'stop', report };
}

/** The comment target of an experiment: its pull request, when commenting is on and one exists. */
async function commentTarget(
  deps: ActionDeps,
  plan: Extract<Plan, { kind: 'experiment' }>,
  errors: string[],
): Promise<CommentTarget | undefined> {
  const issueNumber = await findPullRequest(deps, plan, errors);
  if (!deps.settings.comment || !deps.api || issueNumber === undefined) return undefined;
  const marker = commentMarker(deps.ctx.runnerName);
  return { api: deps.api, issueNumber, marker, botLogin: await commentAuthor(deps.api, errors) };
}

/** "Training…" in the sticky comment while the runs go on. */
async function postProgress(deps: ActionDeps, job: GoAhead): Promise<void> {
  const target = job.comment;
  if (!target) return;
  try {
    await upsertStickyComment(
      target.api,
      target.issueNumber,
      target.marker,
      renderProgressComment({
        marker: target.marker,
        runnerLabel: deps.ctx.runnerName,
        commit: { sha: job.sha, subject: job.subject },
        startedAt: new Date(),
        budgetSeconds: deps.protocol.budgetSeconds,
      }),
      target.botLogin,
    );
  } catch (error) {
    // Only a courtesy while the runs go on: the verdict's comment is what must be published, and
    // its own failure is reported by publishing.
    deps.warning(`the "training…" comment could not be written: ${(error as Error).message}`);
  }
}

/** What the verdict stage needs of a cleared job. */
function jobRequest(deps: ActionDeps, job: GoAhead): JobRequest {
  const { settings, ctx } = deps;
  const { plan } = job;
  return {
    settings,
    protocol: deps.protocol,
    command: settings.command ?? deps.protocol.command,
    workdir: settings.workingDirectory,
    runsDir: path.join(deps.workDir, 'runs'),
    runnerName: ctx.runnerName,
    commit: { sha: job.sha, subject: job.subject, branch: plan.branch, ref: `refs/heads/${plan.branch}` },
    triggeredBy: ctx.actor,
    reason: plan.kind === 'baseline' ? plan.reason : undefined,
    repeats: plan.kind === 'baseline' ? plan.repeats : undefined,
    guardFindings: job.guardFindings,
    // The label event itself is the approval: it holds for the head it was added to, nothing later.
    approval:
      plan.kind === 'experiment' && plan.addedLabel === APPROVE_LABEL
        ? { by: ctx.actor, sha: job.sha }
        : undefined,
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
}

/** Step failure per `fail-on`: crash/rejected (crash), also regressed (regression), or never. */
export function shouldFail(report: Report, failOn: Settings['failOn']): boolean {
  if (failOn === 'never') return false;
  const broken: Status[] = ['crash', 'rejected'];
  if (broken.includes(report.status)) return true;
  return failOn === 'regression' && report.verdict === 'regressed';
}

/** What the job ends with, to publish. */
interface Ending {
  report: Report;
  comment?: CommentTarget;
  /** Failures before publishing, listed with the publishing ones. */
  errors: string[];
  results?: ResultsTarget;
}

async function finish(deps: ActionDeps, ending: Ending): Promise<ActionResult> {
  const { report } = ending;
  if (report.status === 'skipped')
    deps.notice(`autoresearch-ci skipped: ${report.skipped?.reason ?? report.headline}`);
  const published = await publishReport({
    report,
    protocol: deps.protocol,
    outDir: deps.workDir,
    sinks: deps.sinks,
    comment: ending.comment,
    results: ending.results,
    earlierErrors: ending.errors,
  });
  for (const error of published.errors) deps.warning(error);
  return { report, published };
}

/** The base report of a job that ran nothing: the commit the plan named, nothing measured. */
function notRun(deps: ActionDeps, plan?: Extract<Plan, { kind: 'experiment' | 'baseline' }>): BaseReport {
  return baseReport(deps.protocol, {
    mode: plan?.kind === 'baseline' ? 'baseline' : 'experiment',
    runner: { name: deps.ctx.runnerName, label: deps.ctx.runnerName },
    commit: plan && { sha: plan.sha, subject: '', branch: plan.branch },
  });
}

async function replaceWithError(target: CommentTarget, message: string): Promise<void> {
  try {
    await upsertStickyComment(
      target.api,
      target.issueNumber,
      target.marker,
      renderErrorComment({ marker: target.marker, message }),
      target.botLogin,
    );
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
