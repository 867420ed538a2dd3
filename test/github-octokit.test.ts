import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubClient } from '../src/github/octokit.js';
import { repositoryApi } from '../src/github/repository-api.js';
import { type GitHubEmulator, startEmulator } from './emulator/server.js';

let gh: GitHubEmulator;

beforeAll(async () => {
  gh = await startEmulator();
  await gh.createRepo('lab', 'mini', { files: { 'train.py': 'x = 1\n' } });
  gh.setPermission('lab', 'mini', 'alice', 'write');
});

afterAll(async () => {
  gh.assertNoViolations();
  await gh.close();
});

const api = (requestTimeoutMs: number) =>
  repositoryApi(
    createGitHubClient({ token: gh.token, baseUrl: gh.apiUrl, retryBaseMs: 10, requestTimeoutMs }),
    'lab',
    'mini',
  );

describe('API requests against a hung endpoint', () => {
  it('abandon a request that gets no answer and retry it', async () => {
    gh.hangNext(1);
    const started = Date.now();
    expect(await api(300).permissionOf('alice')).toBe('write');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('give up after the retries with an error that says what happened', async () => {
    gh.hangNext(4);
    const started = Date.now();
    await expect(api(300).permissionOf('alice')).rejects.toThrow(/no answer from .* within 0\.3 s/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
