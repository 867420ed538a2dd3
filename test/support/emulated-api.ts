import { createGitHubClient } from '../../src/github/octokit.js';
import { type RepositoryApi, repositoryApi } from '../../src/github/repository-api.js';
import type { GitHubEmulator } from '../emulator/server.js';

/** The action's own repository API bound to `owner/repo` on the emulator, with short retry waits. */
export function emulatedRepositoryApi(gh: GitHubEmulator, owner: string, repo: string): RepositoryApi {
  return repositoryApi(
    createGitHubClient({ token: gh.token, baseUrl: gh.apiUrl, retryBaseMs: 10 }),
    owner,
    repo,
  );
}
