import type { GitHubClient } from './octokit.js';

/** A repository permission level, highest first. */
export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

/** An issue comment as the sticky-comment logic needs it. */
export interface IssueComment {
  id: number;
  body: string;
  authorLogin: string;
  authorType: string;
  url: string;
}

/** An open or merged pull request found for a pushed commit. */
export interface FoundPullRequest {
  number: number;
  headRef: string;
  headRepo: string | null;
  state: string;
}

/**
 * The few REST calls the action makes, bound to one repository. Everything else takes this
 * interface, so the same code runs against GitHub, GitHub Enterprise Server and the test emulator.
 */
export interface RepositoryApi {
  /**
   * Login the token acts as, which authors our comments: a personal token's user. The workflow's
   * GITHUB_TOKEN may not read /user (403); then undefined, and the caller assumes github-actions[bot].
   */
  authenticatedLogin(): Promise<string | undefined>;
  /** The user's permission on the repository (role name when GitHub reports one). */
  permissionOf(user: string): Promise<Permission>;
  /** Paths changed between two commits (three-dot: from their merge base), renames giving both names. */
  changedPaths(base: string, head: string): Promise<{ paths: string[]; truncated: boolean }>;
  /** Pull requests whose head is this commit, then open ones with this head branch. */
  pullRequestsFor(sha: string, branch: string): Promise<FoundPullRequest[]>;
  /** Every comment of an issue or pull request, all pages. */
  listComments(issueNumber: number): Promise<IssueComment[]>;
  createComment(issueNumber: number, body: string): Promise<IssueComment>;
  updateComment(commentId: number, body: string): Promise<IssueComment>;
  /** Removes a label from an issue or pull request; a label that is not there is no error. */
  removeLabel(issueNumber: number, name: string): Promise<void>;
}

/** GitHub's compare endpoint lists at most this many files. */
const COMPARE_FILE_LIMIT = 300;

/** Binds the REST client to `owner/repo`. */
export function repositoryApi(client: GitHubClient, owner: string, repo: string): RepositoryApi {
  const toComment = (c: {
    id: number;
    body?: string | undefined;
    user: { login: string; type: string } | null;
    html_url: string;
  }): IssueComment => ({
    id: c.id,
    body: c.body ?? '',
    authorLogin: c.user?.login ?? '',
    authorType: c.user?.type ?? '',
    url: c.html_url,
  });
  return {
    async authenticatedLogin() {
      try {
        return (await client.rest.users.getAuthenticated()).data.login;
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status === 403 || status === 404) return undefined;
        throw error;
      }
    },
    async removeLabel(issueNumber, name) {
      try {
        await client.rest.issues.removeLabel({ owner, repo, issue_number: issueNumber, name });
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw error;
      }
    },
    async permissionOf(user) {
      const { data } = await client.rest.repos.getCollaboratorPermissionLevel({
        owner,
        repo,
        username: user,
      });
      const role = (data.role_name || data.permission) as string;
      return (['admin', 'maintain', 'write', 'triage', 'read'].includes(role) ? role : 'none') as Permission;
    },
    async changedPaths(base, head) {
      const { data } = await client.rest.repos.compareCommitsWithBasehead({
        owner,
        repo,
        basehead: `${base}...${head}`,
        per_page: 100,
      });
      const files = data.files ?? [];
      const paths = new Set<string>();
      for (const f of files) {
        paths.add(f.filename);
        if (f.previous_filename) paths.add(f.previous_filename);
      }
      return { paths: [...paths].sort(), truncated: files.length >= COMPARE_FILE_LIMIT };
    },
    async pullRequestsFor(sha, branch) {
      const byCommit = await client.rest.repos.listPullRequestsAssociatedWithCommit({
        owner,
        repo,
        commit_sha: sha,
      });
      const found = byCommit.data.filter((pr) => pr.head.ref === branch || pr.head.sha === sha);
      if (found.length === 0) {
        const open = await client.rest.pulls.list({
          owner,
          repo,
          state: 'open',
          head: `${owner}:${branch}`,
          per_page: 100,
        });
        found.push(...open.data);
      }
      return found.map((pr) => ({
        number: pr.number,
        headRef: pr.head.ref,
        headRepo: pr.head.repo?.full_name ?? null,
        state: pr.state,
      }));
    },
    async listComments(issueNumber) {
      const all = await client.paginate(client.rest.issues.listComments, {
        owner,
        repo,
        issue_number: issueNumber,
        per_page: 100,
      });
      return all.map(toComment);
    },
    async createComment(issueNumber, body) {
      const { data } = await client.rest.issues.createComment({
        owner,
        repo,
        issue_number: issueNumber,
        body,
      });
      return toComment(data);
    },
    async updateComment(commentId, body) {
      const { data } = await client.rest.issues.updateComment({ owner, repo, comment_id: commentId, body });
      return toComment(data);
    },
  };
}
