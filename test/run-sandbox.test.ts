import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChildEnv } from '../src/run/environment.js';
import { execute } from '../src/run/execute.js';
import { planSandbox, SANDBOX_EXEC, SEATBELT_PROFILE } from '../src/run/sandbox.js';
import { externalIPv4, nativeSandboxKind, thisPlatform } from './helpers/platform.js';
import { tempDirs, trainerArgv } from './helpers/trainers.js';

const dirs = tempDirs();
let server: Server;
let port: number;
let accepted = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    accepted++;
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  dirs.cleanup();
  await new Promise((resolve) => server.close(resolve));
});

async function tryConnect(argv: string[]) {
  const dir = dirs.make();
  const logPath = path.join(dir, 'run.log');
  const r = await execute({
    argv,
    cwd: dir,
    env: buildChildEnv(process.env, { offline: true }),
    logPath,
    timeoutMs: 30_000,
  });
  return { exitCode: r.exit.exitCode, log: readFileSync(logPath, 'utf8') };
}

/**
 * The real sandbox of this machine. unshare gives the training a network namespace of its own, so
 * nothing on the host is reachable, not even its loopback; sandbox-exec's profile denies the
 * network but allows localhost, so on macOS the blocked target is the machine's own non-loopback
 * address.
 */
describe(`network sandbox on this machine (${process.platform})`, () => {
  const platform = thisPlatform();
  const blocked = platform === 'darwin' ? externalIPv4() : '127.0.0.1';

  it('lets an unsandboxed child connect to a server on this machine', async () => {
    const before = accepted;
    const r = await tryConnect(trainerArgv('connect', String(port), blocked));
    expect(r.log).toContain('connected');
    expect(r.exitCode).toBe(0);
    expect(accepted).toBe(before + 1);
  });

  it('keeps a sandboxed child from connecting to the same server', async () => {
    const plan = await planSandbox({ offline: true });
    expect(plan.info.kind).toBe(nativeSandboxKind());
    const before = accepted;
    const r = await tryConnect(plan.wrap(trainerArgv('connect', String(port), blocked)));
    expect(r.log).toContain('no connection');
    expect(r.exitCode).toBe(3);
    expect(accepted).toBe(before);
  });

  it("reaches the host's loopback from the sandbox only on macOS, whose profile allows localhost", async () => {
    const plan = await planSandbox({ offline: true });
    const before = accepted;
    const r = await tryConnect(plan.wrap(trainerArgv('connect', String(port), '127.0.0.1')));
    if (platform === 'darwin') {
      expect(r.log).toContain('connected');
      expect(accepted).toBe(before + 1);
    } else {
      expect(r.log).toContain('no connection');
      expect(accepted).toBe(before);
    }
  });
});

describe('planSandbox', () => {
  const yes = async () => true;
  const no = async () => false;

  it('wraps in sandbox-exec with the localhost-only profile on macOS', async () => {
    const probed: string[][] = [];
    const plan = await planSandbox({
      offline: true,
      platform: 'darwin',
      probe: async (argv) => {
        probed.push(argv);
        return true;
      },
    });
    expect(probed).toEqual([[SANDBOX_EXEC, '-p', '(version 1)(allow default)', '/usr/bin/true']]);
    expect(plan.info.kind).toBe('sandbox-exec');
    expect(plan.wrap(['uv', 'run', 'train.py'])).toEqual([
      SANDBOX_EXEC,
      '-p',
      SEATBELT_PROFILE,
      'uv',
      'run',
      'train.py',
    ]);
    expect(SEATBELT_PROFILE).toContain('(deny network*)');
    expect(SEATBELT_PROFILE).toContain('(allow network* (remote ip "localhost:*"))');
    // An IP literal makes Seatbelt reject the whole profile.
    expect(SEATBELT_PROFILE).not.toMatch(/\d+\.\d+\.\d+\.\d+/);
    // The deny comes first: in SBPL the last matching rule wins.
    expect(SEATBELT_PROFILE.indexOf('(deny network*)')).toBeLessThan(
      SEATBELT_PROFILE.indexOf('(allow network*'),
    );
  });

  it('uses unshare -rn on Linux', async () => {
    const plan = await planSandbox({ offline: true, platform: 'linux', probe: yes });
    expect(plan.info.kind).toBe('unshare');
    expect(plan.wrap(['python3', 't.py'])).toEqual(['unshare', '-rn', 'python3', 't.py']);
  });

  it.each([
    ['darwin', /sandbox-exec is not usable.*NOT isolated/],
    ['linux', /unprivileged user namespaces.*NOT isolated/],
    ['win32', /no network sandbox is known for platform win32.*NOT isolated/],
  ] as const)('says plainly when %s has no working sandbox', async (platform, detail) => {
    const plan = await planSandbox({ offline: true, platform, probe: no });
    expect(plan.info.kind).toBe('none');
    expect(plan.info.detail).toMatch(detail);
    expect(plan.wrap(['uv', 'run', 'train.py'])).toEqual(['uv', 'run', 'train.py']);
  });

  it('applies no isolation and does not probe when the run is not offline', async () => {
    let probes = 0;
    const plan = await planSandbox({
      offline: false,
      platform: 'darwin',
      probe: async () => {
        probes++;
        return true;
      },
    });
    expect(probes).toBe(0);
    expect(plan.info).toEqual({ kind: 'none', detail: expect.stringMatching(/not requested/) });
  });
});
