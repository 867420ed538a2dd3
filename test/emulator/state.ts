/**
 * The emulator's in-memory world: repositories, pull requests, collaborators, comments and the log
 * of requests. Plain data that tests may read and mutate directly.
 */

/** Repository roles GitHub knows, strongest first. */
export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

/** One repository; its git data lives in the bare repository `gitDir`. */
export interface RepoState {
  id: number;
  owner: string;
  name: string;
  /** `owner/name`. */
  fullName: string;
  defaultBranch: string;
  private: boolean;
  /** Set on forks: the `owner/name` of the parent. */
  parent?: string;
  gitDir: string;
  createdAt: string;
  /** Collaborators by lower-cased login. */
  permissions: Map<string, Permission>;
}

/** One side of a pull request. */
export interface PullRequestRef {
  ref: string;
  sha: string;
  /** `owner/name` of the repository holding the branch (differs from the base repo on forks). */
  repo: string;
}

/** A pull request, stored under its base repository. */
export interface PullRequestState {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  draft: boolean;
  merged: boolean;
  /** Author login. */
  user: string;
  labels: string[];
  head: PullRequestRef;
  base: PullRequestRef;
  createdAt: string;
  updatedAt: string;
}

/** A comment on an issue or pull request conversation. */
export interface CommentState {
  id: number;
  /** `owner/name` of the repository. */
  repo: string;
  issueNumber: number;
  body: string;
  user: string;
  userType: 'User' | 'Bot';
  createdAt: string;
  updatedAt: string;
}

/** A ref update seen in a push. */
export interface PushedRef {
  ref: string;
  before: string;
  after: string;
}

/** One request the emulator answered (or refused). */
export interface RequestLogEntry {
  kind: 'api' | 'git';
  method: string;
  /** Path without the API prefix, with the query string. */
  path: string;
  /** 0 when the connection was dropped (emulator set down). */
  status: number;
  operationId?: string;
  /** For `git push`: the refs it updated. */
  push?: PushedRef[];
}

/** A request or response that does not conform to GitHub's REST description. */
export interface Violation {
  phase: 'request' | 'response' | 'route';
  method: string;
  path: string;
  operationId?: string;
  status?: number;
  errors: string[];
}

/** Deterministic numeric id for a login, stable across runs (GitHub ids are positive integers). */
export function userId(login: string): number {
  let hash = 0;
  for (const ch of login.toLowerCase()) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return (hash % 90_000_000) + 1_000;
}

/** GitHub's timestamp format: ISO 8601 without milliseconds. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The mutable store behind one emulator. */
export class EmulatorState {
  readonly repos = new Map<string, RepoState>();
  /** Pull requests by base repository `owner/name` (lower-cased), then number. */
  readonly pulls = new Map<string, Map<number, PullRequestState>>();
  readonly comments: CommentState[] = [];
  readonly requests: RequestLogEntry[] = [];
  readonly violations: Violation[] = [];
  private nextId = 1_000_000;

  /** A fresh id for repositories, pull requests and comments. */
  newId(): number {
    this.nextId += 1;
    return this.nextId;
  }

  /** The repository, or undefined (names compare case-insensitively, like GitHub). */
  repo(owner: string, name: string): RepoState | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  /** The repository; throws a message naming it when it was never created. */
  requireRepo(owner: string, name: string): RepoState {
    const repo = this.repo(owner, name);
    if (!repo) throw new Error(`Emulator has no repository ${owner}/${name}: call createRepo first`);
    return repo;
  }

  /** Pull requests of a base repository, by number. */
  pullsOf(fullName: string): Map<number, PullRequestState> {
    const key = fullName.toLowerCase();
    let map = this.pulls.get(key);
    if (!map) {
      map = new Map();
      this.pulls.set(key, map);
    }
    return map;
  }

  /** Comments on one issue or pull request, oldest first. */
  commentsOn(fullName: string, issueNumber: number): CommentState[] {
    const key = fullName.toLowerCase();
    return this.comments.filter((c) => c.repo.toLowerCase() === key && c.issueNumber === issueNumber);
  }

  /** The comment with this id in this repository. */
  comment(fullName: string, id: number): CommentState | undefined {
    const key = fullName.toLowerCase();
    return this.comments.find((c) => c.id === id && c.repo.toLowerCase() === key);
  }

  /** The effective permission of a user: explicit, the owner's admin, or the public default. */
  permissionOf(repo: RepoState, login: string): Permission {
    const explicit = repo.permissions.get(login.toLowerCase());
    if (explicit) return explicit;
    if (login.toLowerCase() === repo.owner.toLowerCase()) return 'admin';
    // Anyone may read a public repository; GitHub reports that as "read".
    return repo.private ? 'none' : 'read';
  }
}
