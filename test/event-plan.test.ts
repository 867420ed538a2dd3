import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { JobContext, Payload } from '../src/event/context.js';
import { matchesBranch, planJob } from '../src/event/plan.js';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{
  name: string;
  examples: Payload[];
}>;

/** A real webhook example of that event (and action), deep-copied so a test may edit it. */
function example(event: string, action?: string): Payload {
  const found = examples
    .find((e) => e.name === event)!
    .examples.find((x) => action === undefined || x.action === action);
  if (!found) throw new Error(`no ${event}/${action} example`);
  return structuredClone(found);
}

function ctx(eventName: string, payload: Payload, ref = 'refs/heads/autoresearch/mar5'): JobContext {
  return {
    eventName,
    payload,
    owner: 'Codertocat',
    repo: 'Hello-World',
    sha: 'ffffffffffffffffffffffffffffffffffffffff',
    ref,
    actor: 'Codertocat',
    runId: '1',
    runAttempt: '1',
    serverUrl: 'https://github.com',
    workspace: '/w',
    runnerName: 'mac-1',
    runnerTemp: '/tmp',
  };
}

const auto = { mode: 'auto' as const, branchPattern: 'autoresearch/*' };

describe('planJob', () => {
  it('judges a push to a matching branch, guarding the whole branch against the default branch', () => {
    const push = example('push');
    push.ref = 'refs/heads/autoresearch/mar5';
    push.before = 'a'.repeat(40);
    push.after = 'b'.repeat(40);
    push.created = false;
    push.deleted = false;
    const plan = planJob(ctx('push', push), auto);
    expect(plan).toMatchObject({
      kind: 'experiment',
      sha: 'b'.repeat(40),
      branch: 'autoresearch/mar5',
    });
    expect(plan.kind === 'experiment' && plan.diffBase).toBeUndefined();
  });

  it('diffs a newly created branch against the default branch (no diffBase)', () => {
    const push = example('push');
    const created = examples
      .find((e) => e.name === 'push')!
      .examples.find((x) => x.ref === 'refs/heads/master')!;
    expect(created.created).toBe(true);
    push.ref = 'refs/heads/autoresearch/new';
    push.before = created.before;
    push.after = created.after;
    push.created = true;
    push.deleted = false;
    const plan = planJob(ctx('push', push, push.ref), auto);
    expect(plan.kind).toBe('experiment');
    expect(plan.kind === 'experiment' && plan.diffBase).toBeUndefined();
    expect(plan.kind === 'experiment' && plan.defaultBranch).toBe(push.repository.default_branch);
  });

  it('skips a push to a branch outside branch-pattern, saying why', () => {
    const push = example('push');
    const created = examples
      .find((e) => e.name === 'push')!
      .examples.find((x) => x.ref === 'refs/heads/master')!;
    const plan = planJob(ctx('push', { ...push, ...created }, 'refs/heads/master'), auto);
    expect(plan).toEqual({
      kind: 'skip',
      reason: expect.stringContaining("branch 'master' does not match branch-pattern 'autoresearch/*'"),
    });
  });

  it('skips tag pushes and deleted branches', () => {
    const tagDeleted = examples.find((e) => e.name === 'push')!.examples.find((x) => x.deleted === true)!;
    expect(planJob(ctx('push', structuredClone(tagDeleted), 'refs/tags/simple-tag'), auto)).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining('deleted'),
    });
    const tagCreated = examples.find((e) => e.name === 'push')!.examples.find((x) => x.created === true)!;
    expect(planJob(ctx('push', structuredClone(tagCreated), 'refs/tags/simple-tag'), auto)).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining('not a branch'),
    });
  });

  it.each(['opened', 'synchronize', 'reopened'])('judges the head of a pull_request %s', (action) => {
    const payload = example('pull_request', action);
    const plan = planJob(ctx('pull_request', payload, `refs/pull/${payload.number}/merge`), auto);
    expect(plan).toMatchObject({
      kind: 'experiment',
      sha: payload.pull_request.head.sha,
      branch: payload.pull_request.head.ref,
      diffBase: payload.pull_request.base.sha,
      fromPullRequest: true,
      pullRequest: {
        number: payload.number,
        headRepo: payload.pull_request.head.repo.full_name,
        baseRepo: payload.pull_request.base.repo.full_name,
      },
    });
  });

  it('skips other pull_request actions but runs when a safe-to-test label is added', () => {
    expect(planJob(ctx('pull_request', example('pull_request', 'closed')), auto)).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining("action 'closed'"),
    });
    const labeled = example('pull_request', 'labeled');
    expect(planJob(ctx('pull_request', labeled), auto).kind).toBe('skip');
    labeled.label = { ...labeled.label, name: 'safe-to-test' };
    expect(planJob(ctx('pull_request', labeled), auto).kind).toBe('experiment');
  });

  it('turns workflow_dispatch into a baseline with its inputs', () => {
    const payload = example('workflow_dispatch');
    payload.inputs = { repeats: '5', reason: 'new prepare.py' };
    const plan = planJob(ctx('workflow_dispatch', payload, 'refs/heads/main'), auto);
    expect(plan).toEqual({
      kind: 'baseline',
      sha: 'f'.repeat(40),
      branch: 'main',
      defaultBranch: 'main',
      repeats: 5,
      reason: 'new prepare.py',
      triggeredBy: 'Codertocat',
    });
  });

  it('refuses a workflow_dispatch repeats outside 2–50, naming the input', () => {
    const payload = example('workflow_dispatch');
    payload.inputs = { repeats: '1' };
    expect(() => planJob(ctx('workflow_dispatch', payload, 'refs/heads/main'), auto)).toThrow(
      "workflow_dispatch input 'repeats' has value '1': expected a whole number from 2 to 50.",
    );
  });

  it('lets an explicit mode override the event', () => {
    const push = example('push');
    Object.assign(push, {
      ref: 'refs/heads/autoresearch/x',
      before: 'a'.repeat(40),
      after: 'b'.repeat(40),
      deleted: false,
    });
    // A baseline is measured only on the default branch or a branch the user allows.
    expect(planJob(ctx('push', push), { ...auto, mode: 'baseline' })).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining('baselines are measured only on the default branch'),
    });
    expect(
      planJob(ctx('push', push), { ...auto, mode: 'baseline', baselineBranches: ['autoresearch/*'] }).kind,
    ).toBe('baseline');
    expect(
      planJob(ctx('workflow_dispatch', example('workflow_dispatch'), 'refs/heads/main'), {
        ...auto,
        mode: 'experiment',
      }),
    ).toMatchObject({ kind: 'experiment', branch: 'main' });
  });

  it("measures a pull request's baseline on its base, never on its head", () => {
    const pr = example('pull_request', 'opened');
    const base = pr.pull_request.base;
    base.ref = pr.repository.default_branch;
    const plan = planJob(ctx('pull_request', pr, `refs/pull/${pr.number}/merge`), {
      ...auto,
      mode: 'baseline',
    });
    expect(plan).toMatchObject({ kind: 'baseline', branch: base.ref, sha: base.sha });
    expect(base.sha).not.toBe(pr.pull_request.head.sha);
    base.ref = 'release';
    expect(planJob(ctx('pull_request', pr), { ...auto, mode: 'baseline' })).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining("not on 'release'"),
    });
  });

  it.each(['pull_request_target', 'workflow_run', 'issue_comment'])('refuses %s', (event) => {
    expect(
      planJob(ctx(event, example('issue_comment', 'created')), { ...auto, mode: 'experiment' }),
    ).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining(`${event} events are refused`),
    });
  });

  it('skips unrelated events with an explanation', () => {
    expect(planJob(ctx('schedule', {}), auto)).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining("event 'schedule'"),
    });
  });
});

describe('matchesBranch', () => {
  it('keeps * within one segment', () => {
    expect(matchesBranch('autoresearch/mar5', 'autoresearch/*')).toBe(true);
    expect(matchesBranch('autoresearch/a/b', 'autoresearch/*')).toBe(false);
    expect(matchesBranch('autoresearch/a/b', 'autoresearch/**')).toBe(true);
    expect(matchesBranch('main', 'autoresearch/*')).toBe(false);
  });
});
