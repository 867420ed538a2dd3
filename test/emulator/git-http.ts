/**
 * Git over smart HTTP: authenticates like github.com and hands the request to `git http-backend`
 * as a CGI program, streaming the body in and the CGI response out.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync, constants as zlib } from 'node:zlib';
import { isolatedGitEnv } from './git-repo.js';
import type { PushedRef } from './state.js';

/** Where Debian/Ubuntu install git's CGI backend; override with `GIT_HTTP_BACKEND`. */
export const GIT_HTTP_BACKEND = process.env['GIT_HTTP_BACKEND'] ?? '/usr/lib/git-core/git-http-backend';

/**
 * Whether an `Authorization` header carries `token`, as github.com accepts it: Basic with the token
 * as password (any user name, e.g. `x-access-token`) or as user name, or `Bearer`/`token` schemes.
 */
export function gitAuthorized(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^\s*(\w+)\s+(\S+)\s*$/.exec(header);
  if (!m) return false;
  const scheme = (m[1] ?? '').toLowerCase();
  const value = m[2] ?? '';
  if (scheme === 'bearer' || scheme === 'token') return value === token;
  if (scheme !== 'basic') return false;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return decoded === token;
  return decoded.slice(colon + 1) === token || decoded.slice(0, colon) === token;
}

/** Reads the ref updates from the start of a receive-pack request (pkt-lines up to the flush). */
export function parsePushCommands(body: Buffer, gzip: boolean): PushedRef[] {
  let data = body;
  if (gzip) {
    try {
      // The captured prefix may end mid-stream: a sync flush inflates what is there.
      data = gunzipSync(body, { finishFlush: zlib.Z_SYNC_FLUSH });
    } catch {
      return [];
    }
  }
  const refs: PushedRef[] = [];
  let offset = 0;
  while (offset + 4 <= data.length) {
    const length = Number.parseInt(data.subarray(offset, offset + 4).toString('latin1'), 16);
    if (!Number.isFinite(length) || length === 0) break;
    const line = data
      .subarray(offset + 4, offset + length)
      .toString('utf8')
      .split('\0')[0]
      ?.trim();
    offset += length;
    const m = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) (\S+)$/.exec(line ?? '');
    if (m) refs.push({ before: m[1] ?? '', after: m[2] ?? '', ref: m[3] ?? '' });
  }
  return refs;
}

/** Inputs of one git request. */
export interface GitRequest {
  /** Directory holding `<owner>/<repo>.git`. */
  projectRoot: string;
  /** `/<owner>/<repo>.git/<rest>` with the repository's canonical spelling. */
  pathInfo: string;
  query: string;
}

/** What happened, for the request log. */
export interface GitOutcome {
  status: number;
  push?: PushedRef[];
}

const CAPTURE_LIMIT = 64 * 1024;

/** Runs `git http-backend` for one request and streams its answer to `res`. */
export function serveGit(req: IncomingMessage, res: ServerResponse, git: GitRequest): Promise<GitOutcome> {
  const isPush = req.method === 'POST' && git.pathInfo.endsWith('/git-receive-pack');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...isolatedGitEnv(),
    GIT_PROJECT_ROOT: git.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    REMOTE_USER: 'x-access-token',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    PATH_INFO: git.pathInfo,
    QUERY_STRING: git.query,
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    GATEWAY_INTERFACE: 'CGI/1.1',
  };
  const length = req.headers['content-length'];
  if (length) env['CONTENT_LENGTH'] = length;
  const encoding = req.headers['content-encoding'];
  if (encoding) env['HTTP_CONTENT_ENCODING'] = encoding;
  // Protocol v2 is negotiated through this header; the backend reads it from GIT_PROTOCOL.
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env['GIT_PROTOCOL'] = protocol;

  return new Promise((resolve) => {
    const child = spawn(GIT_HTTP_BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const captured: Buffer[] = [];
    let capturedBytes = 0;
    if (isPush) {
      req.on('data', (chunk: Buffer) => {
        if (capturedBytes < CAPTURE_LIMIT) {
          captured.push(chunk);
          capturedBytes += chunk.length;
        }
      });
    }
    req.pipe(child.stdin);
    child.stdin.on('error', () => {});

    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });

    let head = Buffer.alloc(0);
    let status = 200;
    let headersSent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      const crlf = text.indexOf('\r\n\r\n');
      const lf = text.indexOf('\n\n');
      const end = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf + 4 : lf !== -1 ? lf + 2 : -1;
      if (end === -1) return;
      const headers: Record<string, string> = {};
      for (const line of text.slice(0, end).split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon === -1) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      headersSent = true;
      res.write(head.subarray(end));
    });

    child.on('error', (err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`git http-backend could not start (${GIT_HTTP_BACKEND}): ${err.message}\n`);
      resolve({ status: 500 });
    });
    child.on('close', (code) => {
      if (!headersSent) {
        status = 500;
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.write(`git http-backend exited with ${code}: ${stderr}\n`);
      }
      res.end();
      const outcome: GitOutcome = { status };
      if (isPush) outcome.push = parsePushCommands(Buffer.concat(captured), encoding === 'gzip');
      resolve(outcome);
    });
  });
}
