/**
 * A local GitHub for end-to-end tests: REST answers validated against GitHub's OpenAPI description,
 * git over smart HTTP, fault injection, and in-memory state tests can seed and inspect.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gitAuthorized, serveGit } from './git-http.js';
import { commitFiles, fetchCommit, initBare, resolveCommit, showFile } from './git-repo.js';
import type { Urls } from './objects.js';
import { matchOperation, type Operation } from './openapi.js';
import { validateRequest, validateResponse } from './openapi-validator.js';
import { errorBody, type RouteResult, routes } from './rest-routes.js';
import {
  type CommentState,
  EmulatorState,
  type Permission,
  type PullRequestState,
  type RepoState,
  type RequestLogEntry,
  timestamp,
  type Violation,
} from './state.js';

/** How to start an emulator. */
export interface EmulatorOptions {
  /** `''` for api.github.com's shape, `'/api/v3'` for GitHub Enterprise Server's. */
  pathPrefix?: '' | '/api/v3';
  /** The token clients must send; random when omitted. */
  token?: string;
  /** Login the token acts as (comments it creates are authored by this `Bot`). */
  botLogin?: string;
}

/** Options of `createRepo`. */
export interface CreateRepoOptions {
  /** Files of the initial commit; without files the repository starts empty. */
  files?: Record<string, string>;
  defaultBranch?: string;
  private?: boolean;
  /** `owner/name` of the repository this one is a fork of (its branches are copied). */
  forkOf?: string;
}

/** Options of `addPullRequest`. */
export interface PullRequestSpec {
  /** Head branch, in this repository or in `headRepo` (a fork). */
  head: string;
  /** `owner/name` of a fork holding the head branch. */
  headRepo?: string;
  /** Base branch; the default branch when omitted. */
  base?: string;
  number?: number;
  title?: string;
  body?: string | null;
  /** Author login; the head repository's owner when omitted. */
  user?: string;
  labels?: string[];
  draft?: boolean;
  state?: 'open' | 'closed';
}

/** Options of `failNext`. */
export interface FailOptions {
  /** Fail git HTTP requests too. */
  git?: boolean;
}

const GIT_PATH = /^\/([^/]+)\/([^/]+?)\.git(\/.*)?$/;
const MAX_BODY = 25 * 1024 * 1024;

/** A running emulator. Read `apiUrl`, seed state with the helpers, call `close()` when done. */
export class GitHubEmulator {
  /** Base URL for Octokit (`baseUrl`) and `GITHUB_API_URL`. */
  readonly apiUrl: string;
  /** Web root (`GITHUB_SERVER_URL`); git lives under it like on github.com. */
  readonly serverUrl: string;
  readonly token: string;
  readonly botLogin: string;
  readonly pathPrefix: string;
  readonly state = new EmulatorState();
  /** Temp directory holding the bare repositories (`<owner>/<repo>.git`). */
  readonly root: string;
  private failures: { remaining: number; status: number; git: boolean } = {
    remaining: 0,
    status: 502,
    git: false,
  };
  private down = false;
  private hangs = 0;

  /** Use `startEmulator`. */
  constructor(
    private readonly server: Server,
    root: string,
    port: number,
    options: Required<EmulatorOptions>,
  ) {
    this.root = root;
    this.serverUrl = `http://127.0.0.1:${port}`;
    this.pathPrefix = options.pathPrefix;
    this.apiUrl = `${this.serverUrl}${options.pathPrefix}`;
    this.token = options.token;
    this.botLogin = options.botLogin;
  }

  /** Every request answered so far. */
  get requests(): RequestLogEntry[] {
    return this.state.requests;
  }

  /** Requests or responses that broke GitHub's REST description. */
  get violations(): Violation[] {
    return this.state.violations;
  }

  private get urls(): Urls {
    return { api: this.apiUrl, html: this.serverUrl };
  }

  /** Clone URL of a repository (without credentials). */
  gitUrl(owner: string, repo: string): string {
    return `${this.serverUrl}/${owner}/${repo}.git`;
  }

  /** Makes the next `n` API requests fail with `status` and a GitHub-shaped body. */
  failNext(n: number, status = 502, options: FailOptions = {}): void {
    this.failures = { remaining: n, status, git: options.git ?? false };
  }

  /** The next `n` API requests are accepted but never answered, like a hung endpoint. */
  hangNext(n: number): void {
    this.hangs = n;
  }

  /** While down, API connections are closed without an answer, like an unreachable host. */
  setDown(down: boolean): void {
    this.down = down;
  }

  /** Throws an error listing every violation, so a test fails with the details. */
  assertNoViolations(): void {
    if (this.violations.length === 0) return;
    const lines = this.violations.map(
      (v) =>
        `- ${v.phase} ${v.method} ${v.path}${v.operationId ? ` (${v.operationId})` : ''}: ${v.errors.join('; ')}`,
    );
    throw new Error(`GitHub emulator saw ${this.violations.length} violation(s):\n${lines.join('\n')}`);
  }

  /** Creates a repository with a bare git repository on disk and an optional first commit. */
  async createRepo(owner: string, name: string, options: CreateRepoOptions = {}): Promise<RepoState> {
    if (this.state.repo(owner, name)) throw new Error(`Emulator already has a repository ${owner}/${name}`);
    const parent = options.forkOf ? this.state.requireRepo(...splitName(options.forkOf)) : undefined;
    const defaultBranch = options.defaultBranch ?? parent?.defaultBranch ?? 'main';
    const gitDir = path.join(this.root, owner, `${name}.git`);
    await mkdir(path.dirname(gitDir), { recursive: true });
    await initBare(gitDir, defaultBranch);
    const repo: RepoState = {
      id: this.state.newId(),
      owner,
      name,
      fullName: `${owner}/${name}`,
      defaultBranch,
      private: options.private ?? false,
      gitDir,
      createdAt: timestamp(),
      permissions: new Map(),
      ...(parent ? { parent: parent.fullName } : {}),
    };
    this.state.repos.set(repo.fullName.toLowerCase(), repo);
    if (parent) {
      const tip = await resolveCommit(parent.gitDir, `refs/heads/${parent.defaultBranch}`);
      if (tip) await fetchCommit(gitDir, parent.gitDir, tip, `refs/heads/${defaultBranch}`);
    }
    if (options.files && Object.keys(options.files).length > 0) {
      await commitFiles(gitDir, defaultBranch, options.files, 'Initial commit');
    }
    return repo;
  }

  /**
   * Commits `files` to `branch` (a `null` content deletes a file); a new branch starts from the
   * default branch. Returns the commit sha.
   */
  async commitTo(
    owner: string,
    name: string,
    branch: string,
    files: Record<string, string | null>,
    message = `Update ${Object.keys(files).join(', ')}`,
  ): Promise<string> {
    const repo = this.state.requireRepo(owner, name);
    const from = await resolveCommit(repo.gitDir, `refs/heads/${repo.defaultBranch}`);
    return commitFiles(repo.gitDir, branch, files, message, from);
  }

  /** A file's content at a ref or sha (`git show`), for assertions. */
  readFile(owner: string, name: string, ref: string, file: string): Promise<string> {
    return showFile(this.state.requireRepo(owner, name).gitDir, ref, file);
  }

  /** The sha a ref names in a repository, or undefined. */
  resolveRef(owner: string, name: string, ref: string): Promise<string | undefined> {
    return resolveCommit(this.state.requireRepo(owner, name).gitDir, ref);
  }

  /**
   * A new branch started from the default branch with a commit of its own, and an open pull
   * request of it into the default branch by `user`: what an experiment's pull request starts as.
   */
  async openBranchPullRequest(
    owner: string,
    name: string,
    branch: string,
    user = 'alice',
  ): Promise<PullRequestState> {
    await this.commitTo(owner, name, branch, {}, 'start');
    return this.addPullRequest(owner, name, { head: branch, user });
  }

  /**
   * Opens a pull request from a branch (of this repository or a fork) into `base`; like GitHub, its
   * head commit is also stored as `refs/pull/<n>/head` in the base repository.
   */
  async addPullRequest(owner: string, name: string, spec: PullRequestSpec): Promise<PullRequestState> {
    const repo = this.state.requireRepo(owner, name);
    const headRepo = spec.headRepo ? this.state.requireRepo(...splitName(spec.headRepo)) : repo;
    const pulls = this.state.pullsOf(repo.fullName);
    const number = spec.number ?? Math.max(0, ...pulls.keys()) + 1;
    const baseRef = spec.base ?? repo.defaultBranch;
    const now = timestamp();
    const pr: PullRequestState = {
      id: this.state.newId(),
      number,
      title: spec.title ?? `Update from ${spec.head}`,
      body: spec.body === undefined ? null : spec.body,
      state: spec.state ?? 'open',
      draft: spec.draft ?? false,
      merged: false,
      user: spec.user ?? headRepo.owner,
      labels: spec.labels ?? [],
      head: { ref: spec.head, sha: '', repo: headRepo.fullName },
      base: { ref: baseRef, sha: '', repo: repo.fullName },
      createdAt: now,
      updatedAt: now,
    };
    pulls.set(number, pr);
    await this.refreshPullRequest(owner, name, number);
    return pr;
  }

  /** Re-reads the head and base branch tips of a pull request (after new commits: "synchronize"). */
  async refreshPullRequest(owner: string, name: string, number: number): Promise<PullRequestState> {
    const repo = this.state.requireRepo(owner, name);
    const pr = this.state.pullsOf(repo.fullName).get(number);
    if (!pr) throw new Error(`Emulator has no pull request #${number} in ${repo.fullName}`);
    const headRepo = this.state.requireRepo(...splitName(pr.head.repo));
    const headSha = await resolveCommit(headRepo.gitDir, `refs/heads/${pr.head.ref}`);
    if (!headSha)
      throw new Error(`Branch ${pr.head.ref} does not exist in ${headRepo.fullName}: commit to it first`);
    const baseSha = await resolveCommit(repo.gitDir, `refs/heads/${pr.base.ref}`);
    if (!baseSha) throw new Error(`Base branch ${pr.base.ref} does not exist in ${repo.fullName}`);
    await fetchCommit(repo.gitDir, headRepo.gitDir, headSha, `refs/pull/${number}/head`);
    pr.head.sha = headSha;
    pr.base.sha = baseSha;
    pr.updatedAt = timestamp();
    return pr;
  }

  /** Sets a user's role on a repository (`none` removes access, even on public repositories). */
  setPermission(owner: string, name: string, login: string, permission: Permission): void {
    this.state.requireRepo(owner, name).permissions.set(login.toLowerCase(), permission);
  }

  /** Seeds a comment on a pull request conversation (authored by `user`, default the repo owner). */
  addComment(
    owner: string,
    name: string,
    issueNumber: number,
    body: string,
    options: { user?: string; type?: 'User' | 'Bot' } = {},
  ): CommentState {
    const repo = this.state.requireRepo(owner, name);
    const now = timestamp();
    const comment: CommentState = {
      id: this.state.newId(),
      repo: repo.fullName,
      issueNumber,
      body,
      user: options.user ?? repo.owner,
      userType: options.type ?? 'User',
      createdAt: now,
      updatedAt: now,
    };
    this.state.comments.push(comment);
    return comment;
  }

  /** Comments on one issue or pull request, oldest first. */
  comments(owner: string, name: string, issueNumber: number): CommentState[] {
    return this.state.commentsOn(`${owner}/${name}`, issueNumber);
  }

  /** Stops the server, drops open connections and deletes the repositories. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await rm(this.root, { recursive: true, force: true });
  }

  /** Entry point for every HTTP request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.serverUrl);
    const git = GIT_PATH.exec(url.pathname);
    if (git) return this.handleGit(req, res, url, git[1] ?? '', git[2] ?? '', git[3] ?? '');
    return this.handleApi(req, res, url);
  }

  private async handleGit(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    owner: string,
    name: string,
    rest: string,
  ): Promise<void> {
    const entry: RequestLogEntry = {
      kind: 'git',
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      status: 0,
    };
    this.state.requests.push(entry);
    if (this.failures.git && this.failures.remaining > 0) {
      this.failures.remaining -= 1;
      entry.status = this.failures.status;
      return sendText(res, this.failures.status, 'Service unavailable\n');
    }
    if (!gitAuthorized(req.headers.authorization, this.token)) {
      entry.status = 401;
      res.setHeader('WWW-Authenticate', 'Basic realm="GitHub"');
      return sendText(
        res,
        401,
        'Invalid username or token. Password authentication is not supported for Git operations.\n',
      );
    }
    const repo = this.state.repo(owner, name);
    if (!repo) {
      entry.status = 404;
      return sendText(res, 404, 'Repository not found.\n');
    }
    const outcome = await serveGit(req, res, {
      projectRoot: this.root,
      pathInfo: `/${repo.owner}/${repo.name}.git${rest}`,
      query: url.search.replace(/^\?/, ''),
    });
    entry.status = outcome.status;
    if (outcome.push) entry.push = outcome.push;
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const inPrefix = url.pathname === this.pathPrefix || url.pathname.startsWith(`${this.pathPrefix}/`);
    const apiPath = inPrefix ? url.pathname.slice(this.pathPrefix.length) || '/' : url.pathname;
    const entry: RequestLogEntry = { kind: 'api', method, path: apiPath + url.search, status: 0 };
    this.state.requests.push(entry);
    if (this.down) {
      // Like an unreachable host: no HTTP answer at all.
      req.socket.destroy();
      return;
    }
    if (this.hangs > 0) {
      this.hangs -= 1;
      // Never answered; close() ends the connection.
      return;
    }
    if (this.failures.remaining > 0) {
      this.failures.remaining -= 1;
      entry.status = this.failures.status;
      return sendJson(res, this.failures.status, errorBody(this.failures.status, 'Server Error'));
    }
    if (!inPrefix) {
      entry.status = 404;
      this.violate({
        phase: 'route',
        method,
        path: entry.path,
        errors: [`path is outside the API prefix ${this.pathPrefix}`],
      });
      return sendJson(res, 404, errorBody(404, 'Not Found'));
    }
    const match = matchOperation(method, apiPath);
    if (!match) {
      entry.status = 404;
      this.violate({
        phase: 'route',
        method,
        path: entry.path,
        errors: ['no operation in the REST description has this path'],
      });
      return sendJson(res, 404, errorBody(404, 'Not Found'));
    }
    const { operation } = match;
    entry.operationId = operation.operationId;
    const result = await this.answer(req, url, match.params, operation, entry.path);
    const checked = this.checkResponse(operation, method, entry.path, result);
    entry.status = checked.status;
    const headers = { ...rateLimitHeaders(), ...(checked.headers ?? {}) };
    return sendJson(res, checked.status, checked.body, headers);
  }

  /** Authenticates, parses and validates the request, then runs the operation's handler. */
  private async answer(
    req: IncomingMessage,
    url: URL,
    params: Record<string, string>,
    operation: Operation,
    logPath: string,
  ): Promise<RouteResult> {
    const method = operation.method;
    const auth = req.headers.authorization;
    if (!auth) return { status: 401, body: errorBody(401, 'Requires authentication') };
    const m = /^(token|bearer)\s+(\S+)$/i.exec(auth.trim());
    if (!m || m[2] !== this.token) return { status: 401, body: errorBody(401, 'Bad credentials') };

    const raw = await readBody(req);
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return this.invalid('request', method, logPath, operation, ['body is not valid JSON']);
      }
    }
    const request = validateRequest(operation, params, url.searchParams, body);
    if (request.errors.length > 0) return this.invalid('request', method, logPath, operation, request.errors);
    const route = routes[operation.operationId];
    if (!route) {
      return this.invalid('route', method, logPath, operation, [
        'the emulator does not implement this operation',
      ]);
    }
    try {
      return await route({
        state: this.state,
        urls: this.urls,
        params,
        query: url.searchParams,
        body,
        login: this.botLogin,
        loginType: 'Bot',
        requestUrl: url,
      });
    } catch (error) {
      return this.invalid('response', method, logPath, operation, [
        `handler failed: ${(error as Error).stack}`,
      ]);
    }
  }

  /** Validates a handler's answer; an invalid one is recorded and replaced by a 500. */
  private checkResponse(
    operation: Operation,
    method: string,
    logPath: string,
    result: RouteResult,
  ): RouteResult {
    if (result.status === 500) return result;
    const response = validateResponse(operation, result.status, result.body);
    if (response.errors.length === 0) return result;
    return this.invalid('response', method, logPath, operation, response.errors, result.status);
  }

  private invalid(
    phase: Violation['phase'],
    method: string,
    logPath: string,
    operation: Operation,
    errors: string[],
    status?: number,
  ): RouteResult {
    this.violate({
      phase,
      method,
      path: logPath,
      operationId: operation.operationId,
      errors,
      ...(status ? { status } : {}),
    });
    const message = `GitHub emulator: ${phase} of ${operation.operationId} (${method} ${operation.template}) does not conform to GitHub's REST description: ${errors.join('; ')}`;
    return { status: 500, body: errorBody(500, message) };
  }

  private violate(violation: Violation): void {
    this.state.violations.push(violation);
  }
}

function splitName(fullName: string): [string, string] {
  const [owner, name, extra] = fullName.split('/');
  if (!owner || !name || extra !== undefined)
    throw new Error(`Expected owner/name, got ${JSON.stringify(fullName)}`);
  return [owner, name];
}

function rateLimitHeaders(): Record<string, string> {
  return {
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-used': '1',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    'x-ratelimit-resource': 'core',
    'x-github-media-type': 'github.v3; format=json',
    'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error(`request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  // writeHead merges headers set earlier with setHeader (WWW-Authenticate).
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

/** Starts an emulator on 127.0.0.1 with a random port. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<GitHubEmulator> {
  const root = await mkdtemp(path.join(tmpdir(), 'gh-emulator-'));
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const emulator = new GitHubEmulator(server, root, port, {
    pathPrefix: options.pathPrefix ?? '',
    token: options.token ?? `ghs_${randomBytes(18).toString('hex')}`,
    botLogin: options.botLogin ?? 'github-actions[bot]',
  });
  server.on('request', (req, res) => {
    emulator.handle(req, res).catch((error: Error) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(500, `GitHub emulator failed: ${error.message}`));
      else res.destroy(error);
    });
  });
  return emulator;
}

/** The emulator type tests receive. */
export type Emulator = GitHubEmulator;
