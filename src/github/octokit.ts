import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';

/** The REST client the action uses: Octokit with the retry and throttling plugins. */
export type GitHubClient = InstanceType<
  ReturnType<typeof Octokit.plugin<typeof Octokit, [typeof retry, typeof throttling]>>
>;

/** Options for {@link createGitHubClient}. */
export interface ClientOptions {
  token: string;
  /** `GITHUB_API_URL` (github.com, GitHub Enterprise Server's /api/v3, or a local emulator). Omitted → api.github.com. */
  baseUrl?: string;
  /** Base of the retry back-off in ms (1 s on GitHub; tests shorten it). */
  retryBaseMs?: number;
  /** Where retries and rate-limit waits are reported. */
  log?: (line: string) => void;
  /** A request without an answer after this long fails (and is retried like a 5xx); default 30 s. */
  requestTimeoutMs?: number;
}

/** Default time a single API request may take before it is abandoned. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * fetch with a deadline: a hung endpoint would otherwise hold the job for as long as the TCP
 * connection lives (many minutes per call, each retry included).
 */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      return await fetch(input, { ...init, signal });
    } catch (error) {
      if (deadline.aborted && !init?.signal?.aborted) {
        throw new Error(`no answer from ${String(input)} within ${timeoutMs / 1000} s`, { cause: error });
      }
      throw error;
    }
  };
}

/**
 * Builds the client. Transient failures (5xx, network errors) are retried by the plugin a bounded
 * number of times; 4xx other than rate limits are final. Rate limits wait once, then give up.
 */
export function createGitHubClient(options: ClientOptions): GitHubClient {
  const RetryingOctokit = Octokit.plugin(retry, throttling);
  const log = options.log ?? (() => {});
  return new RetryingOctokit({
    auth: options.token,
    // @octokit/rest ignores GITHUB_API_URL; never pass baseUrl: undefined (it overrides the default).
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, '') } : {}),
    userAgent: 'autoresearch-ci',
    request: { fetch: fetchWithTimeout(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) },
    log: { debug: () => {}, info: () => {}, warn: (m: string) => log(m), error: () => {} },
    retry: { retries: 3, retryAfterBaseValue: options.retryBaseMs ?? 1000 },
    throttle: {
      onRateLimit: (after: number, req: { method: string; url: string }, _o: unknown, count: number) => {
        log(
          `GitHub rate limit on ${req.method} ${req.url}; ${count === 0 ? `retrying in ${after} s` : 'giving up'}`,
        );
        return count === 0;
      },
      onSecondaryRateLimit: (
        after: number,
        req: { method: string; url: string },
        _o: unknown,
        count: number,
      ) => {
        log(
          `GitHub secondary rate limit on ${req.method} ${req.url}; ${count === 0 ? `retrying in ${after} s` : 'giving up'}`,
        );
        return count === 0;
      },
    },
  });
}
