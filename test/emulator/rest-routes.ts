/**
 * The REST operations the emulator implements, keyed by GitHub's `operationId`. Each handler reads
 * and changes the in-memory state and returns a status and a body; validation happens around it.
 */
import { diffFiles, isAncestor, logCommits, mergeBase, resolveCommit } from './git-repo.js';
import {
  authenticatedUser,
  collaboratorPermission,
  commit,
  diffEntry,
  fullRepository,
  issueComment,
  pullRequest,
  pullRequestSimple,
  type Urls,
} from './objects.js';
import { type EmulatorState, type RepoState, timestamp } from './state.js';

/** Everything a handler may use. */
export interface RouteContext {
  state: EmulatorState;
  urls: Urls;
  /** Path parameters of the matched template. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body, already validated against the operation. */
  body: any;
  /** Login and type of the caller (the token's owner). */
  login: string;
  loginType: 'User' | 'Bot';
  /** The request URL as the client sent it, for building `Link` headers. */
  requestUrl: URL;
}

/** What a handler answers. */
export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A handler for one operation. */
export type Route = (ctx: RouteContext) => Promise<RouteResult> | RouteResult;

/** GitHub's error body (`basic-error`). */
export function errorBody(status: number, message: string): Record<string, string> {
  return { message, documentation_url: 'https://docs.github.com/rest', status: String(status) };
}

/** A GitHub-shaped error result. */
export function error(status: number, message: string): RouteResult {
  return { status, body: errorBody(status, message) };
}

const notFound = (): RouteResult => error(404, 'Not Found');

/**
 * Slices `items` by `per_page` (default 30, max 100) and `page`, with GitHub's `Link` header
 * (`next`, `last`, `first`, `prev`) pointing back at the request URL.
 */
export function paginate<T>(ctx: RouteContext, items: T[]): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('per_page') ?? 30) || 30));
  const page = Math.max(1, Number(ctx.query.get('page') ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number, rel: string) => {
    const url = new URL(ctx.requestUrl);
    url.searchParams.set('per_page', String(perPage));
    url.searchParams.set('page', String(p));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {},
  };
}

function repoOf(ctx: RouteContext): RepoState | undefined {
  return ctx.state.repo(ctx.params['owner'] ?? '', ctx.params['repo'] ?? '');
}

/** Strips an optional `owner:` prefix from a compare side (`octocat:main`). */
function compareSide(side: string): string {
  const colon = side.indexOf(':');
  return colon === -1 ? side : side.slice(colon + 1);
}

/** The implemented operations. */
export const routes: Record<string, Route> = {
  'users/get-authenticated': (ctx) => ({
    status: 200,
    body: authenticatedUser(ctx.urls, ctx.login, ctx.loginType),
  }),

  'repos/get': (ctx) => {
    const repo = repoOf(ctx);
    return repo ? { status: 200, body: fullRepository(ctx.urls, ctx.state, repo) } : notFound();
  },

  'pulls/get': (ctx) => {
    const repo = repoOf(ctx);
    const pr = repo && ctx.state.pullsOf(repo.fullName).get(Number(ctx.params['pull_number']));
    if (!repo || !pr) return notFound();
    return { status: 200, body: pullRequest(ctx.urls, ctx.state, repo, pr) };
  },

  'pulls/list': (ctx) => {
    const repo = repoOf(ctx);
    if (!repo) return notFound();
    const wanted = ctx.query.get('state') ?? 'open';
    const head = ctx.query.get('head');
    const base = ctx.query.get('base');
    const direction = ctx.query.get('direction') ?? 'desc';
    const matching = [...ctx.state.pullsOf(repo.fullName).values()]
      .filter((pr) => wanted === 'all' || pr.state === wanted)
      .filter((pr) => {
        if (!head) return true;
        // `owner:branch`; a bare branch is matched against the base repository's owner.
        const [owner, branch] = head.includes(':') ? head.split(':', 2) : [repo.owner, head];
        return pr.head.repo.split('/')[0]?.toLowerCase() === owner?.toLowerCase() && pr.head.ref === branch;
      })
      .filter((pr) => !base || pr.base.ref === base)
      .sort((a, b) => (direction === 'asc' ? a.number - b.number : b.number - a.number));
    const page = paginate(ctx, matching);
    return {
      status: 200,
      body: page.items.map((pr) => pullRequestSimple(ctx.urls, ctx.state, repo, pr)),
      headers: page.headers,
    };
  },

  'repos/list-pull-requests-associated-with-commit': async (ctx) => {
    const repo = repoOf(ctx);
    if (!repo) return notFound();
    const sha = await resolveCommit(repo.gitDir, ctx.params['commit_sha'] ?? '');
    if (!sha) return error(422, `No commit found for SHA: ${ctx.params['commit_sha']}`);
    const found = [];
    for (const pr of ctx.state.pullsOf(repo.fullName).values()) {
      // GitHub lists the pull requests whose commits include this one: the head itself, or an
      // ancestor of the head that the base does not already contain.
      const headSha = await resolveCommit(repo.gitDir, `refs/pull/${pr.number}/head`);
      const contains =
        pr.head.sha === sha ||
        (headSha !== undefined &&
          (await isAncestor(repo.gitDir, sha, headSha)) &&
          !(await isAncestor(repo.gitDir, sha, pr.base.sha)));
      if (contains) found.push(pr);
    }
    found.sort((a, b) => b.number - a.number);
    const page = paginate(ctx, found);
    return {
      status: 200,
      body: page.items.map((pr) => pullRequestSimple(ctx.urls, ctx.state, repo, pr)),
      headers: page.headers,
    };
  },

  'repos/get-collaborator-permission-level': (ctx) => {
    const repo = repoOf(ctx);
    if (!repo) return notFound();
    const login = ctx.params['username'] ?? '';
    return {
      status: 200,
      body: collaboratorPermission(ctx.urls, login, ctx.state.permissionOf(repo, login)),
    };
  },

  'issues/list-comments': (ctx) => {
    const repo = repoOf(ctx);
    const number = Number(ctx.params['issue_number']);
    if (!repo || !ctx.state.pullsOf(repo.fullName).has(number)) return notFound();
    const since = ctx.query.get('since');
    const comments = ctx.state
      .commentsOn(repo.fullName, number)
      .filter((c) => !since || Date.parse(c.updatedAt) >= Date.parse(since));
    const page = paginate(ctx, comments);
    return {
      status: 200,
      body: page.items.map((c) => issueComment(ctx.urls, ctx.state, repo, c)),
      headers: page.headers,
    };
  },

  'issues/create-comment': (ctx) => {
    const repo = repoOf(ctx);
    const number = Number(ctx.params['issue_number']);
    if (!repo || !ctx.state.pullsOf(repo.fullName).has(number)) return notFound();
    const now = timestamp();
    const comment = {
      id: ctx.state.newId(),
      repo: repo.fullName,
      issueNumber: number,
      body: String(ctx.body.body),
      user: ctx.login,
      userType: ctx.loginType,
      createdAt: now,
      updatedAt: now,
    };
    ctx.state.comments.push(comment);
    const body = issueComment(ctx.urls, ctx.state, repo, comment);
    return { status: 201, body, headers: { location: String(body['url']) } };
  },

  'issues/update-comment': (ctx) => {
    const repo = repoOf(ctx);
    const comment = repo && ctx.state.comment(repo.fullName, Number(ctx.params['comment_id']));
    if (!repo || !comment) return notFound();
    comment.body = String(ctx.body.body);
    comment.updatedAt = timestamp();
    return { status: 200, body: issueComment(ctx.urls, ctx.state, repo, comment) };
  },

  'issues/remove-label': (ctx) => {
    const repo = repoOf(ctx);
    const pr = repo ? ctx.state.pullsOf(repo.fullName).get(Number(ctx.params['issue_number'])) : undefined;
    const name = decodeURIComponent(ctx.params['name'] ?? '');
    if (!repo || pr === undefined || !pr.labels.includes(name)) return error(404, 'Label does not exist');
    pr.labels = pr.labels.filter((l) => l !== name);
    const labels = pullRequest(ctx.urls, ctx.state, repo, pr)['labels'] as unknown[];
    return { status: 200, body: labels };
  },

  'repos/compare-commits-with-basehead': (ctx) => compare(ctx, ctx.params['basehead'] ?? ''),

  // The same comparison under its older template `/compare/{base}...{head}`.
  'repos/compare-commits': (ctx) => compare(ctx, `${ctx.params['base']}...${ctx.params['head']}`),
};

/** `GET /repos/{owner}/{repo}/compare/{basehead}`: commits and files from the merge base to head. */
async function compare(ctx: RouteContext, basehead: string): Promise<RouteResult> {
  const repo = repoOf(ctx);
  if (!repo) return notFound();
  const parts = basehead.split('...');
  if (parts.length !== 2) return notFound();
  const [baseSha, headSha] = await Promise.all(parts.map((p) => resolveCommit(repo.gitDir, compareSide(p))));
  if (!baseSha || !headSha) return notFound();
  const mb = await mergeBase(repo.gitDir, baseSha, headSha);
  if (!mb) return error(404, `No common ancestor between ${parts[0]} and ${parts[1]}.`);
  const [ahead, behind, [baseInfo], [mbInfo], files] = await Promise.all([
    logCommits(repo.gitDir, [`${mb}..${headSha}`]),
    logCommits(repo.gitDir, [`${mb}..${baseSha}`]),
    logCommits(repo.gitDir, ['-1', baseSha]),
    logCommits(repo.gitDir, ['-1', mb]),
    diffFiles(repo.gitDir, mb, headSha),
  ]);
  if (!baseInfo || !mbInfo) return notFound();
  const status =
    ahead.length === 0 && behind.length === 0
      ? 'identical'
      : behind.length === 0
        ? 'ahead'
        : ahead.length === 0
          ? 'behind'
          : 'diverged';
  const api = `${ctx.urls.api}/repos/${repo.fullName}`;
  const html = `${ctx.urls.html}/${repo.fullName}`;
  return {
    status: 200,
    body: {
      url: `${api}/compare/${basehead}`,
      html_url: `${html}/compare/${basehead}`,
      permalink_url: `${html}/compare/${repo.owner}:${baseSha}...${repo.owner}:${headSha}`,
      diff_url: `${html}/compare/${basehead}.diff`,
      patch_url: `${html}/compare/${basehead}.patch`,
      base_commit: commit(ctx.urls, repo, baseInfo),
      merge_base_commit: commit(ctx.urls, repo, mbInfo),
      status,
      ahead_by: ahead.length,
      behind_by: behind.length,
      total_commits: ahead.length,
      commits: ahead.map((info) => commit(ctx.urls, repo, info)),
      files: files.map((f) => diffEntry(ctx.urls, repo, headSha, f)),
    },
  };
}
