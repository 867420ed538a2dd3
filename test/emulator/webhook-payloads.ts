/**
 * Event payloads for `GITHUB_EVENT_PATH`, made from GitHub's real webhook examples
 * (@octokit/webhooks-examples) with the repository, refs, shas, numbers and sender rewritten to
 * match an emulator's state.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diffFiles, logCommits } from './git-repo.js';
import { pullRequest, repository, type Urls, user } from './objects.js';
import type { GitHubEmulator } from './server.js';
import type { RepoState } from './state.js';

type Json = Record<string, any>;

interface WebhookDefinition {
  name: string;
  examples: Json[];
}

let definitions: WebhookDefinition[] | undefined;

function examples(event: string): Json[] {
  if (!definitions) {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('@octokit/webhooks-examples/package.json');
    definitions = JSON.parse(
      readFileSync(path.join(path.dirname(pkg), 'api.github.com', 'index.json'), 'utf8'),
    ) as WebhookDefinition[];
  }
  const found = definitions.find((d) => d.name === event);
  if (!found) throw new Error(`@octokit/webhooks-examples has no ${event} event`);
  return found.examples;
}

/** The first example of `event` that `accept` likes, deep-copied. */
function pick(event: string, accept: (example: Json) => boolean): Json {
  const found = examples(event).find(accept);
  if (!found) throw new Error(`@octokit/webhooks-examples has no suitable ${event} example`);
  return structuredClone(found);
}

function urlsOf(gh: GitHubEmulator): Urls {
  return { api: gh.apiUrl, html: gh.serverUrl };
}

/**
 * The example's repository with the emulator's repository written over it. Webhook repositories
 * keep the event's own quirks (push events give `created_at`/`pushed_at` as epoch seconds).
 */
function webhookRepository(gh: GitHubEmulator, example: Json, repo: RepoState): Json {
  const rest = repository(urlsOf(gh), repo);
  const out: Json = { ...example, ...rest };
  for (const key of ['created_at', 'pushed_at']) {
    if (typeof example[key] === 'number') out[key] = Math.floor(Date.parse(repo.createdAt) / 1000);
  }
  return out;
}

/** Drops the organisation, enterprise and app installation blocks the examples may carry. */
function strip(payload: Json): Json {
  delete payload['organization'];
  delete payload['enterprise'];
  delete payload['installation'];
  return payload;
}

/** Options shared by the payload builders. */
export interface PayloadOptions {
  /** Login of the user who triggered the event; the repository owner when omitted. */
  sender?: string;
}

/** A `push` event for `ref` (a branch), from `before` to the branch tip (or `after`). */
export async function pushPayload(
  gh: GitHubEmulator,
  owner: string,
  name: string,
  options: PayloadOptions & { ref: string; before?: string; after?: string },
): Promise<Json> {
  const repo = gh.state.requireRepo(owner, name);
  const ref = options.ref.startsWith('refs/') ? options.ref : `refs/heads/${options.ref}`;
  const after = options.after ?? (await gh.resolveRef(owner, name, ref));
  if (!after) throw new Error(`pushPayload: ${ref} does not exist in ${repo.fullName}`);
  const before = options.before ?? '0'.repeat(40);
  const range = options.before ? [`${options.before}..${after}`] : ['-1', after];
  const infos = (await logCommits(repo.gitDir, ['-n', '20', ...range])).slice(-20);
  const payload = strip(
    pick('push', (e) => String(e['ref']).startsWith('refs/heads/') && e['commits'].length > 0),
  );
  const template = payload['commits'][0] as Json;
  const sender = options.sender ?? repo.owner;
  const commits = await Promise.all(
    infos.map(async (info) => {
      const files = info.parents[0] ? await diffFiles(repo.gitDir, info.parents[0], info.sha) : [];
      const named = (status: string) => files.filter((f) => f.status === status).map((f) => f.filename);
      return {
        ...template,
        id: info.sha,
        tree_id: info.tree,
        message: info.message,
        timestamp: info.committerDate,
        url: `${gh.serverUrl}/${repo.fullName}/commit/${info.sha}`,
        author: { name: info.authorName, email: info.authorEmail, username: sender },
        committer: { name: info.committerName, email: info.committerEmail, username: sender },
        added: named('added'),
        removed: named('removed'),
        modified: named('modified'),
      };
    }),
  );
  return {
    ...payload,
    ref,
    before,
    after,
    created: options.before === undefined,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `${gh.serverUrl}/${repo.fullName}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits,
    head_commit: commits.at(-1) ?? null,
    repository: webhookRepository(gh, payload['repository'], repo),
    pusher: { name: sender, email: `${sender}@users.noreply.github.com` },
    sender: user(urlsOf(gh), sender),
  };
}

/**
 * A `pull_request` event (`opened` or `synchronize`) for a pull request already added to the
 * emulator, same-repository or from a fork. `before` is the previous head sha of a synchronize.
 */
export function pullRequestPayload(
  gh: GitHubEmulator,
  owner: string,
  name: string,
  number: number,
  action: 'opened' | 'synchronize' | 'reopened' | 'labeled',
  options: PayloadOptions & { before?: string } = {},
): Json {
  const repo = gh.state.requireRepo(owner, name);
  const pr = gh.state.pullsOf(repo.fullName).get(number);
  if (!pr) throw new Error(`pullRequestPayload: no pull request #${number} in ${repo.fullName}`);
  const payload = strip(pick('pull_request', (e) => e['action'] === action || e['action'] === 'synchronize'));
  const out: Json = {
    ...payload,
    action,
    number,
    pull_request: { ...payload['pull_request'], ...pullRequest(urlsOf(gh), gh.state, repo, pr) },
    repository: webhookRepository(gh, payload['repository'], repo),
    sender: user(urlsOf(gh), options.sender ?? pr.user),
  };
  if (action === 'synchronize') {
    out['before'] = options.before ?? pr.base.sha;
    out['after'] = pr.head.sha;
  } else {
    delete out['before'];
    delete out['after'];
  }
  return out;
}

/** A `workflow_dispatch` event on `ref` with `inputs`. */
export function workflowDispatchPayload(
  gh: GitHubEmulator,
  owner: string,
  name: string,
  options: PayloadOptions & { ref?: string; inputs?: Record<string, string>; workflow?: string } = {},
): Json {
  const repo = gh.state.requireRepo(owner, name);
  const payload = strip(pick('workflow_dispatch', () => true));
  const ref = options.ref ?? repo.defaultBranch;
  return {
    ...payload,
    inputs: options.inputs ?? {},
    ref: ref.startsWith('refs/') ? ref : `refs/heads/${ref}`,
    repository: webhookRepository(gh, payload['repository'], repo),
    sender: user(urlsOf(gh), options.sender ?? repo.owner),
    workflow: options.workflow ?? payload['workflow'],
  };
}

/** A payload written to a temp file, for `GITHUB_EVENT_PATH`. */
export interface EventFile {
  path: string;
  /** Deletes the file and its temp directory. */
  remove(): Promise<void>;
}

/** Writes `payload` as JSON to a fresh temp file. */
export async function writeEventFile(payload: Json): Promise<EventFile> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gh-event-'));
  const file = path.join(dir, 'event.json');
  await writeFile(file, `${JSON.stringify(payload, null, 2)}\n`);
  return { path: file, remove: () => rm(dir, { recursive: true, force: true }) };
}
