/**
 * Builds REST response objects from the realistic examples in GitHub's OpenAPI description, with
 * the emulator's state and URLs written over them, so they carry every field a real answer has.
 */
import type { ChangedFile, CommitInfo } from './git-repo.js';
import { example } from './openapi.js';
import {
  type CommentState,
  type EmulatorState,
  type Permission,
  type PullRequestState,
  type RepoState,
  timestamp,
  userId,
} from './state.js';

/** Where links in responses point: the emulator's API root and its web (and git) root. */
export interface Urls {
  /** e.g. `http://127.0.0.1:PORT/api/v3`. */
  api: string;
  /** e.g. `http://127.0.0.1:PORT`. */
  html: string;
}

type Json = Record<string, any>;

/** Replaces substrings in every string of a JSON value (the examples point at octocat/Hello-World). */
function rewrite<T>(value: T, pairs: Array<[string, string]>): T {
  if (typeof value === 'string') {
    return pairs.reduce<string>((s, [from, to]) => s.split(from).join(to), value) as T;
  }
  if (Array.isArray(value)) return value.map((v) => rewrite(v, pairs)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, pairs)])) as T;
  }
  return value;
}

function nodeId(kind: string, id: number): string {
  return Buffer.from(`0${kind.length}:${kind}${id}`).toString('base64');
}

function repoPairs(urls: Urls, fullName: string): Array<[string, string]> {
  return [
    ['https://api.github.com', urls.api],
    ['https://github.com', urls.html],
    ['git:github.com/octocat/Hello-World', `${urls.html.replace(/^https?:/, 'git:')}/${fullName}`],
    ['git@github.com:octocat/Hello-World', `git@127.0.0.1:${fullName}`],
    ['octocat/Hello-World', fullName],
  ];
}

/** A `simple-user` for a login (`type: 'Bot'` for app and Actions logins). */
export function user(urls: Urls, login: string, type: 'User' | 'Bot' | 'Organization' = 'User'): Json {
  const base = rewrite(example('simple-user'), [
    ['https://api.github.com/users/octocat', `${urls.api}/users/${login}`],
    ['https://github.com/octocat', `${urls.html}/${login}`],
  ]);
  const id = userId(login);
  return {
    ...base,
    login,
    id,
    node_id: nodeId('User', id),
    avatar_url: `${urls.html}/avatars/u/${id}`,
    type,
  };
}

/** A `repository` (the shape nested in pull requests). */
export function repository(urls: Urls, repo: RepoState): Json {
  const base = rewrite(example('pull-request').head.repo, repoPairs(urls, repo.fullName));
  return {
    ...base,
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: repo.fullName,
    owner: user(urls, repo.owner),
    private: repo.private,
    visibility: repo.private ? 'private' : 'public',
    fork: repo.parent !== undefined,
    default_branch: repo.defaultBranch,
    clone_url: `${urls.html}/${repo.fullName}.git`,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    pushed_at: repo.createdAt,
  };
}

/** A `full-repository` (`GET /repos/{owner}/{repo}`). */
export function fullRepository(urls: Urls, state: EmulatorState, repo: RepoState): Json {
  const base = rewrite(example('full-repository'), repoPairs(urls, repo.fullName));
  delete base['organization'];
  delete base['template_repository'];
  delete base['parent'];
  delete base['source'];
  const out: Json = {
    ...base,
    ...repository(urls, repo),
    has_discussions: false,
    open_issues_count: [...state.pullsOf(repo.fullName).values()].filter((p) => p.state === 'open').length,
  };
  out['open_issues'] = out['open_issues_count'];
  const parent = repo.parent ? state.repo(...(repo.parent.split('/') as [string, string])) : undefined;
  if (parent) {
    out['parent'] = repository(urls, parent);
    out['source'] = repository(urls, parent);
  }
  return out;
}

/** GitHub's `author_association` of a login towards a repository. */
export function association(state: EmulatorState, repo: RepoState, login: string): string {
  if (login.toLowerCase() === repo.owner.toLowerCase()) return 'OWNER';
  const explicit = repo.permissions.get(login.toLowerCase());
  if (explicit && explicit !== 'none' && explicit !== 'read') return 'COLLABORATOR';
  const contributed = [...state.pullsOf(repo.fullName).values()].some((p) => p.user === login && p.merged);
  return contributed ? 'CONTRIBUTOR' : 'NONE';
}

function side(urls: Urls, state: EmulatorState, ref: PullRequestState['head']): Json {
  const [owner = '', name = ''] = ref.repo.split('/');
  const repo = state.repo(owner, name);
  return {
    label: `${owner}:${ref.ref}`,
    ref: ref.ref,
    sha: ref.sha,
    user: user(urls, owner),
    repo: repo ? repository(urls, repo) : null,
  };
}

/** A `pull-request` (`GET /repos/{owner}/{repo}/pulls/{pull_number}`). */
export function pullRequest(urls: Urls, state: EmulatorState, repo: RepoState, pr: PullRequestState): Json {
  const base = rewrite(example('pull-request'), repoPairs(urls, repo.fullName));
  const api = `${urls.api}/repos/${repo.fullName}`;
  const html = `${urls.html}/${repo.fullName}`;
  const label = rewrite(example('pull-request').labels[0], repoPairs(urls, repo.fullName));
  return {
    ...base,
    url: `${api}/pulls/${pr.number}`,
    id: pr.id,
    node_id: nodeId('PullRequest', pr.id),
    html_url: `${html}/pull/${pr.number}`,
    diff_url: `${html}/pull/${pr.number}.diff`,
    patch_url: `${html}/pull/${pr.number}.patch`,
    issue_url: `${api}/issues/${pr.number}`,
    commits_url: `${api}/pulls/${pr.number}/commits`,
    review_comments_url: `${api}/pulls/${pr.number}/comments`,
    comments_url: `${api}/issues/${pr.number}/comments`,
    statuses_url: `${api}/statuses/${pr.head.sha}`,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: user(urls, pr.user),
    body: pr.body,
    labels: pr.labels.map((name, i) => ({
      ...label,
      id: userId(`label:${name}`) + i,
      node_id: nodeId('Label', userId(`label:${name}`)),
      url: `${api}/labels/${encodeURIComponent(name)}`,
      name,
      // pull-request-simple declares the description non-nullable, pull-request nullable.
      description: '',
      default: false,
    })),
    milestone: null,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.state === 'closed' ? pr.updatedAt : null,
    merged_at: pr.merged ? pr.updatedAt : null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: side(urls, state, pr.head),
    base: side(urls, state, pr.base),
    _links: {
      self: { href: `${api}/pulls/${pr.number}` },
      html: { href: `${html}/pull/${pr.number}` },
      issue: { href: `${api}/issues/${pr.number}` },
      comments: { href: `${api}/issues/${pr.number}/comments` },
      review_comments: { href: `${api}/pulls/${pr.number}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${api}/pulls/${pr.number}/commits` },
      statuses: { href: `${api}/statuses/${pr.head.sha}` },
    },
    author_association: association(state, repo, pr.user),
    auto_merge: null,
    draft: pr.draft,
    merged: pr.merged,
    mergeable: pr.state === 'open' ? true : null,
    rebaseable: pr.state === 'open' ? true : null,
    mergeable_state: pr.state === 'open' ? 'clean' : 'unknown',
    merged_by: null,
    comments: state.commentsOn(repo.fullName, pr.number).length,
    review_comments: 0,
    maintainer_can_modify: false,
  };
}

let simpleKeys: string[] | undefined;

/** A `pull-request-simple` (list endpoints): the full object cut down to the list fields. */
export function pullRequestSimple(
  urls: Urls,
  state: EmulatorState,
  repo: RepoState,
  pr: PullRequestState,
): Json {
  simpleKeys ??= Object.keys(example<Json[]>('pull-request-simple-items')[0] ?? {});
  const full = pullRequest(urls, state, repo, pr);
  return Object.fromEntries(simpleKeys.map((k) => [k, full[k]]));
}

/** An `issue-comment`. */
export function issueComment(urls: Urls, state: EmulatorState, repo: RepoState, comment: CommentState): Json {
  const base = example('issue-comment');
  const api = `${urls.api}/repos/${repo.fullName}`;
  return {
    ...base,
    id: comment.id,
    node_id: nodeId('IssueComment', comment.id),
    url: `${api}/issues/comments/${comment.id}`,
    html_url: `${urls.html}/${repo.fullName}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
    body: comment.body,
    user: user(urls, comment.user, comment.userType),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    issue_url: `${api}/issues/${comment.issueNumber}`,
    author_association: comment.userType === 'Bot' ? 'NONE' : association(state, repo, comment.user),
  };
}

/** Maps a role to the legacy `permission` field (maintain → write, triage → read), as GitHub does. */
const LEGACY: Record<Permission, string> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
  none: 'none',
};

/** A `repository-collaborator-permission`. */
export function collaboratorPermission(urls: Urls, login: string, permission: Permission): Json {
  const rank = ['none', 'read', 'triage', 'write', 'maintain', 'admin'].indexOf(permission);
  return {
    permission: LEGACY[permission],
    role_name: permission,
    user: {
      ...user(urls, login),
      permissions: {
        pull: rank >= 1,
        triage: rank >= 2,
        push: rank >= 3,
        maintain: rank >= 4,
        admin: rank >= 5,
      },
      role_name: permission,
    },
  };
}

/** A `commit` from `git log` facts. */
export function commit(urls: Urls, repo: RepoState, info: CommitInfo): Json {
  const api = `${urls.api}/repos/${repo.fullName}`;
  const base = example('commit');
  delete base['files'];
  delete base['stats'];
  const toIso = (date: string) => timestamp(new Date(date));
  return {
    ...base,
    url: `${api}/commits/${info.sha}`,
    sha: info.sha,
    node_id: nodeId('Commit', userId(info.sha)),
    html_url: `${urls.html}/${repo.fullName}/commit/${info.sha}`,
    comments_url: `${api}/commits/${info.sha}/comments`,
    commit: {
      ...base['commit'],
      url: `${api}/git/commits/${info.sha}`,
      author: { name: info.authorName, email: info.authorEmail, date: toIso(info.authorDate) },
      committer: { name: info.committerName, email: info.committerEmail, date: toIso(info.committerDate) },
      message: info.message,
      tree: { url: `${api}/git/trees/${info.tree}`, sha: info.tree },
    },
    // Commit emails of the emulator are not linked to accounts, as with unknown emails on GitHub.
    author: null,
    committer: null,
    parents: info.parents.map((sha) => ({
      sha,
      url: `${api}/commits/${sha}`,
      html_url: `${urls.html}/${repo.fullName}/commit/${sha}`,
    })),
  };
}

/** A `diff-entry` for a changed file at `headSha`. */
export function diffEntry(urls: Urls, repo: RepoState, headSha: string, file: ChangedFile): Json {
  const path = file.filename.split('/').map(encodeURIComponent).join('/');
  return {
    sha: file.sha,
    filename: file.filename,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: `${urls.html}/${repo.fullName}/blob/${headSha}/${path}`,
    raw_url: `${urls.html}/${repo.fullName}/raw/${headSha}/${path}`,
    contents_url: `${urls.api}/repos/${repo.fullName}/contents/${path}?ref=${headSha}`,
    ...(file.previousFilename === undefined ? {} : { previous_filename: file.previousFilename }),
  };
}

/** The authenticated user (`GET /user`), a `private-user` built from the example. */
export function authenticatedUser(urls: Urls, login: string, type: 'User' | 'Bot'): Json {
  const base = rewrite(example('private-user'), [
    ['https://api.github.com/users/octocat', `${urls.api}/users/${login}`],
    ['https://github.com/octocat', `${urls.html}/${login}`],
  ]);
  return { ...base, ...user(urls, login, type), name: login, email: null, company: null, blog: '' };
}
