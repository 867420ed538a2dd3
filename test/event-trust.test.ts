import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan, PullRequestInfo } from '../src/event/plan.js';
import { checkTrust } from '../src/event/trust.js';
import type { RepositoryApi } from '../src/github/repository-api.js';
import { type GitHubEmulator, startEmulator } from './emulator/server.js';
import { emulatedRepositoryApi } from './support/emulated-api.js';

let gh: GitHubEmulator;
let api: RepositoryApi;
const ctx = (actor: string) => ({ actor, owner: 'lab', repo: 'mini' });

function prPlan(
  pr: Partial<PullRequestInfo> = {},
  event: { action?: string; addedLabel?: string } = { action: 'opened' },
): Extract<Plan, { kind: 'experiment' }> {
  const info: PullRequestInfo = {
    number: 1,
    headRef: 'autoresearch/a',
    headSha: 'a'.repeat(40),
    baseRef: 'main',
    baseSha: 'b'.repeat(40),
    headRepo: 'lab/mini',
    baseRepo: 'lab/mini',
    labels: [],
    author: 'alice',
    ...pr,
  };
  return {
    kind: 'experiment',
    sha: info.headSha,
    branch: info.headRef,
    defaultBranch: 'main',
    pullRequest: info,
    fromPullRequest: true,
    ...event,
  };
}

beforeAll(async () => {
  gh = await startEmulator();
  await gh.createRepo('lab', 'mini', { files: { 'train.py': 'x = 1\n' } });
  gh.setPermission('lab', 'mini', 'alice', 'write');
  gh.setPermission('lab', 'mini', 'maria', 'maintain');
  gh.setPermission('lab', 'mini', 'rita', 'read');
  gh.setPermission('lab', 'mini', 'tom', 'triage');
  api = emulatedRepositoryApi(gh, 'lab', 'mini');
});

afterAll(async () => {
  gh.assertNoViolations();
  await gh.close();
});

describe('the trust gate, with permissions read from the API', () => {
  it('trusts a same-repository pull request from an actor with write or maintain', async () => {
    expect(await checkTrust(prPlan(), ctx('alice'), { allowForks: false }, api)).toMatchObject({
      trusted: true,
    });
    expect(await checkTrust(prPlan(), ctx('maria'), { allowForks: false }, api)).toMatchObject({
      trusted: true,
    });
  });

  it('refuses actors with read or triage, whatever the payload says about them', async () => {
    for (const actor of ['rita', 'tom']) {
      const decision = await checkTrust(prPlan(), ctx(actor), { allowForks: false }, api);
      expect(decision).toMatchObject({ trusted: false, reason: expect.stringContaining(`${actor} has '`) });
    }
  });

  it('refuses fork pull requests unless allowed, labelled and pushed or labelled by a writer', async () => {
    const fork = { headRepo: 'mallory/mini' };
    expect(await checkTrust(prPlan(fork), ctx('alice'), { allowForks: false }, api)).toMatchObject({
      trusted: false,
      reason: expect.stringContaining('comes from a fork (mallory/mini)'),
    });
    expect(await checkTrust(prPlan(fork), ctx('alice'), { allowForks: true }, api)).toMatchObject({
      trusted: false,
      reason: expect.stringContaining("no 'safe-to-test' label"),
    });
    const labelled = prPlan(
      { ...fork, labels: ['safe-to-test'] },
      { action: 'labeled', addedLabel: 'safe-to-test' },
    );
    expect(await checkTrust(labelled, ctx('mallory'), { allowForks: true }, api)).toMatchObject({
      trusted: false,
    });
    expect(await checkTrust(labelled, ctx('maria'), { allowForks: true }, api)).toMatchObject({
      trusted: true,
      note: expect.stringContaining("fork pull request labelled 'safe-to-test'"),
    });
  });

  it('binds the label to the head it was added to: a later event for the fork is refused', async () => {
    const pr = await gh.addPullRequest('lab', 'mini', {
      head: 'main',
      base: 'main',
      user: 'mallory',
      labels: ['safe-to-test'],
    });
    const fork = { number: pr.number, headRepo: 'mallory/mini', labels: ['safe-to-test'] };
    // A maintainer's "Update branch" or reopen: the actor is trusted, the head is not reviewed.
    const reopened = await checkTrust(
      prPlan(fork, { action: 'reopened' }),
      ctx('maria'),
      { allowForks: true },
      api,
    );
    expect(reopened).toMatchObject({
      trusted: false,
      reason: expect.stringContaining("approves only the head it was added to, and this 'reopened' event"),
    });
    expect(gh.state.pullsOf('lab/mini').get(pr.number)!.labels).toEqual(['safe-to-test']);
    // A new push: refused, and the stale label is removed so nobody mistakes it for an approval.
    const pushed = await checkTrust(
      prPlan(fork, { action: 'synchronize' }),
      ctx('maria'),
      { allowForks: true },
      api,
    );
    expect(pushed).toMatchObject({
      trusted: false,
      reason: expect.stringContaining('the label was removed'),
    });
    expect(gh.state.pullsOf('lab/mini').get(pr.number)!.labels).toEqual([]);
  });

  it('treats a deleted fork as a fork', async () => {
    expect(
      await checkTrust(prPlan({ headRepo: null }), ctx('alice'), { allowForks: false }, api),
    ).toMatchObject({
      trusted: false,
      reason: expect.stringContaining('deleted repository'),
    });
  });

  it('needs no API call for a push: pushing already required write access', async () => {
    const before = gh.requests.length;
    const push: Extract<Plan, { kind: 'experiment' }> = {
      kind: 'experiment',
      sha: 'a'.repeat(40),
      branch: 'autoresearch/a',
      defaultBranch: 'main',
      fromPullRequest: false,
    };
    expect(await checkTrust(push, ctx('anyone'), { allowForks: false }, api)).toMatchObject({
      trusted: true,
    });
    expect(gh.requests.length).toBe(before);
  });

  it('does not guess when the API fails: the error stops the job', async () => {
    gh.failNext(4, 500); // the first try and all three retries
    await expect(checkTrust(prPlan(), ctx('alice'), { allowForks: false }, api)).rejects.toThrow();
  });
});
