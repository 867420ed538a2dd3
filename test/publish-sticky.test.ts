import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepositoryApi } from '../src/github/repository-api.js';
import { commentMarker, upsertStickyComment } from '../src/publish/sticky-comment.js';
import { type GitHubEmulator, startEmulator } from './emulator/server.js';
import { emulatedRepositoryApi } from './support/emulated-api.js';

for (const pathPrefix of ['', '/api/v3'] as const) {
  describe(`sticky comment against a ${pathPrefix ? 'GitHub Enterprise' : 'github.com'}-shaped API`, () => {
    let gh: GitHubEmulator;
    let api: RepositoryApi;
    let pr: number;

    beforeAll(async () => {
      gh = await startEmulator({ pathPrefix });
      await gh.createRepo('lab', 'mini', { files: { 'train.py': 'x = 1\n' } });
      await gh.commitTo('lab', 'mini', 'autoresearch/a', { 'train.py': 'x = 2\n' }, 'experiment: a');
      pr = (await gh.addPullRequest('lab', 'mini', { head: 'autoresearch/a', user: 'alice' })).number;
      api = emulatedRepositoryApi(gh, 'lab', 'mini');
    });

    afterAll(async () => {
      gh.assertNoViolations();
      await gh.close();
    });

    it('creates one comment per runner, found again across pages and updated in place', async () => {
      const marker = commentMarker('mac-1');
      // A person quoting our marker, and our own bot quoting it further down: neither is ours.
      gh.addComment('lab', 'mini', pr, `${marker}\nlook at this`, { user: 'alice', type: 'User' });
      gh.addComment('lab', 'mini', pr, `log excerpt:\n${marker}`);
      for (let i = 0; i < 103; i++)
        gh.addComment('lab', 'mini', pr, `chatter ${i}`, { user: 'bob', type: 'User' });

      const created = await upsertStickyComment(api, pr, marker, `${marker}\nfirst`, await botLogin(api));
      const updated = await upsertStickyComment(api, pr, marker, `${marker}\nsecond`, await botLogin(api));
      expect(updated.id).toBe(created.id);
      const ours = gh
        .comments('lab', 'mini', pr)
        .filter((c) => c.body.startsWith(`${marker}\n`) && c.user === gh.botLogin);
      expect(ours).toHaveLength(1);
      expect(ours[0]!.body).toBe(`${marker}\nsecond`);
      // The list was paginated: the comment sits after 100 others.
      expect(
        gh.requests.filter((r) => r.operationId === 'issues/list-comments').length,
      ).toBeGreaterThanOrEqual(4);

      const other = await upsertStickyComment(
        api,
        pr,
        commentMarker('mac-2'),
        `${commentMarker('mac-2')}\nmine`,
        await botLogin(api),
      );
      expect(other.id).not.toBe(created.id);
    });

    it('keeps runner names from breaking out of the marker', () => {
      const marker = commentMarker('evil --> <img src=x>');
      expect(marker).toMatch(/^<!-- autoresearch-ci:runner=[A-Za-z0-9._-]+ -->$/);
      expect(marker.indexOf('-->')).toBe(marker.length - 3);
    });

    it('reads the login our comments are written by', async () => {
      expect(await api.authenticatedLogin()).toBe(gh.botLogin);
    });
  });
}

async function botLogin(api: RepositoryApi): Promise<string> {
  return (await api.authenticatedLogin()) ?? 'github-actions[bot]';
}
