import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A webhook payload: untyped JSON from GitHub, read field by field with fallbacks.
 */
// biome-ignore lint/suspicious/noExplicitAny: webhook JSON is read defensively, field by field
export type Payload = Record<string, any>;

/** The runner's description of this job, read once from the environment the runner sets. */
export interface JobContext {
  eventName: string;
  /** The webhook payload (`GITHUB_EVENT_PATH`); `{}` when there is none (local runs). */
  payload: Payload;
  owner: string;
  repo: string;
  sha: string;
  ref: string;
  actor: string;
  runId: string;
  runAttempt: string;
  serverUrl: string;
  /** Omitted when the runner does not set it (then the client uses api.github.com). */
  apiUrl?: string;
  workspace: string;
  runnerName: string;
  runnerTemp: string;
}

/** Raised when the runner environment lacks what the action needs. */
export class ContextError extends Error {
  override name = 'ContextError';
}

/**
 * Reads the job context. Missing variables that only the runner sets fall back to local values so
 * the same flow works from the CLI; a named event file that cannot be read is an error.
 */
export function readJobContext(env: NodeJS.ProcessEnv, cwd: string): JobContext {
  const repository = env.GITHUB_REPOSITORY ?? 'local/local';
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) {
    throw new ContextError(`GITHUB_REPOSITORY is '${repository}'; expected owner/name as the runner sets it`);
  }
  let payload: Payload = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      payload = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as Payload;
    } catch (error) {
      throw new ContextError(
        `cannot read the event payload GITHUB_EVENT_PATH=${env.GITHUB_EVENT_PATH}: ${(error as Error).message}`,
      );
    }
  }
  return {
    eventName: env.GITHUB_EVENT_NAME ?? 'local',
    payload,
    owner,
    repo,
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    actor: env.GITHUB_ACTOR ?? env.USER ?? 'local',
    runId: env.GITHUB_RUN_ID ?? 'local',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '1',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    ...(env.GITHUB_API_URL ? { apiUrl: env.GITHUB_API_URL } : {}),
    workspace: env.GITHUB_WORKSPACE ?? cwd,
    runnerName: env.RUNNER_NAME ?? hostname(),
    runnerTemp: env.RUNNER_TEMP ?? '',
  };
}
