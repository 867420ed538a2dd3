/**
 * Runs the training as a dedicated unprivileged user (the `run-as` input): that user cannot write
 * the workspace, the state directory or the runner's files, and every process it has is ended
 * after each run, so nothing of a training outlives it. As root the action drops to the user
 * itself; otherwise it goes through `sudo -n -u USER`, allowed by a narrow sudoers rule
 * (docs/runner-setup.md#run-the-training-as-its-own-user).
 */
import { execa } from 'execa';

/** How to start and end the training as the dedicated user. */
export interface RunAsPlan {
  user: string;
  uid: number;
  gid: number;
  /** Prefixes argv (sudo) or leaves it (root: the spawn itself drops to uid and gid). */
  wrap(argv: string[], env: Record<string, string>): string[];
  /** Options for the spawn: uid and gid when the action is root. */
  spawn: { uid?: number; gid?: number };
  /** Ends every process of the user (SIGKILL); returns how many signals were sent (best effort). */
  endAll(): Promise<void>;
  /** How the drop is done, for the log. */
  detail: string;
}

/** Raised when the `run-as` user cannot be used; the message says what to set up. */
export class RunAsError extends Error {
  override name = 'RunAsError';
}

/**
 * Plans running as `user`. The user must exist and must not be the runner's own user or root.
 * @throws RunAsError when the user is missing, is root, or is the runner's own user
 */
export async function planRunAs(user: string): Promise<RunAsPlan> {
  const id = async (flag: string) => {
    const result = await execa('id', [flag, user], { reject: false, stdin: 'ignore' });
    if (result.exitCode !== 0) {
      throw new RunAsError(
        `input 'run-as': user '${user}' does not exist on this runner (${result.stderr.trim()}). Create it as docs/runner-setup.md describes, or leave run-as empty.`,
      );
    }
    return Number(result.stdout.trim());
  };
  const uid = await id('-u');
  const gid = await id('-g');
  const self = process.getuid?.();
  if (uid === 0 || uid === self) {
    throw new RunAsError(
      `input 'run-as': '${user}' is ${uid === 0 ? 'root' : "the runner's own user"}; name a dedicated unprivileged user that holds nothing else.`,
    );
  }
  if (self === 0) {
    return {
      user,
      uid,
      gid,
      wrap: (argv) => argv,
      spawn: { uid, gid },
      endAll: async () => {
        // kill -1 from a process of that user reaches every process of that user, and only those.
        await execa('kill', ['-KILL', '-1'], { uid, gid, reject: false, stdin: 'ignore' });
      },
      detail: `as ${user} (uid ${uid}), dropped to directly (the action runs as root)`,
    };
  }
  const sudo = ['sudo', '-n', '-u', user, '--'];
  return {
    user,
    uid,
    gid,
    // sudo resets the environment; env -i hands over exactly the allowlisted one.
    wrap: (argv, env) => [...sudo, 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv],
    spawn: {},
    endAll: async () => {
      await execa(sudo[0]!, [...sudo.slice(1), 'kill', '-KILL', '-1'], { reject: false, stdin: 'ignore' });
    },
    detail: `as ${user} (uid ${uid}) through sudo -n`,
  };
}
