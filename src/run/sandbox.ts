/**
 * Network isolation for offline runs. macOS uses Seatbelt (`sandbox-exec`), Linux a fresh network
 * namespace (`unshare -rn`, whose only interface is a loopback that is down). When neither works
 * the plan says so plainly: the report must never claim an isolation that was not applied.
 */
import { execa } from 'execa';
import type { SandboxInfo } from '../model.js';

/** Path of Seatbelt's command-line front end (present on every macOS, deprecated but maintained). */
export const SANDBOX_EXEC = '/usr/bin/sandbox-exec';

/**
 * Denies all networking, then re-allows Unix sockets and localhost (Python and its tools use them
 * for local IPC). In SBPL the last matching rule wins. Hosts must be written `localhost:*`: an IP
 * literal such as 127.0.0.1 makes the whole profile fail to parse.
 */
export const SEATBELT_PROFILE =
  '(version 1)(allow default)(deny network*)(allow network* (remote unix-socket))' +
  '(allow network* (local ip "localhost:*"))(allow network* (remote ip "localhost:*"))';

/** Runs a probe command; resolves true when it started and exited 0. */
export type SandboxProbe = (argv: string[]) => Promise<boolean>;

/** How to start a command so that the chosen isolation applies to it and all its descendants. */
export interface SandboxPlan {
  /** Prefixes the argv with the sandbox launcher (identity when `kind` is `none`). */
  wrap(argv: string[]): string[];
  info: SandboxInfo;
}

const probeCache = new Map<string, Promise<boolean>>();

/** Default probe: runs the argv once (cached per process) with a short timeout. */
export const defaultProbe: SandboxProbe = (argv) => {
  const key = JSON.stringify(argv);
  let pending = probeCache.get(key);
  if (!pending) {
    pending = execa(argv[0]!, argv.slice(1), { reject: false, timeout: 10_000, stdin: 'ignore' }).then(
      (r) => r.exitCode === 0,
      () => false,
    );
    probeCache.set(key, pending);
  }
  return pending;
};

/**
 * Chooses the network isolation for a run.
 * @param opts.offline whether isolation is wanted at all
 * @param opts.platform defaults to `process.platform`
 * @param opts.probe checks that the launcher works here (defaults to running it once)
 */
export async function planSandbox(opts: {
  offline: boolean;
  platform?: NodeJS.Platform;
  probe?: SandboxProbe;
}): Promise<SandboxPlan> {
  const platform = opts.platform ?? process.platform;
  const probe = opts.probe ?? defaultProbe;
  if (!opts.offline) {
    return none('network isolation not requested (offline is false): the training may use the network');
  }
  if (platform === 'darwin') {
    if (await probe([SANDBOX_EXEC, '-p', '(version 1)(allow default)', '/usr/bin/true'])) {
      return {
        wrap: (argv) => [SANDBOX_EXEC, '-p', SEATBELT_PROFILE, ...argv],
        info: {
          kind: 'sandbox-exec',
          detail: 'macOS Seatbelt profile denies network except localhost and Unix sockets',
        },
      };
    }
    return none(
      `${SANDBOX_EXEC} is not usable on this runner (is the job already inside a sandbox? they cannot nest): the training is NOT isolated from the network`,
    );
  }
  if (platform === 'linux') {
    if (await probe(['unshare', '-rn', 'true'])) {
      return {
        wrap: (argv) => ['unshare', '-rn', ...argv],
        info: {
          kind: 'unshare',
          detail: 'separate network namespace (unshare -rn): no interfaces, loopback down',
        },
      };
    }
    return none(
      'unshare -rn failed (unprivileged user namespaces are disabled on this machine, or unshare is missing): the training is NOT isolated from the network',
    );
  }
  return none(
    `no network sandbox is known for platform ${platform}: the training is NOT isolated from the network`,
  );
}

function none(detail: string): SandboxPlan {
  return { wrap: (argv) => [...argv], info: { kind: 'none', detail } };
}
