/**
 * run-as with a real second user: created here (useradd needs root), the training run as that
 * user, then checked from the outside. Where that cannot be done (not Linux, not root, no system
 * python3 the user may execute) the suite says so in its name and on stderr instead of passing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRunAs, RunAsError } from '../src/run/run-as.js';
import { runTraining } from '../src/run/train.js';
import { builtinProtocol } from '../src/settings/protocol.js';
import { isProcessGone } from './helpers/trainers.js';

const SYSTEM_PYTHON = '/usr/bin/python3';
const whyNot =
  process.platform !== 'linux'
    ? `this test creates a Linux user; the platform is ${process.platform}`
    : process.getuid?.() !== 0
      ? 'creating a second user (useradd) needs root, and the tests do not run as root here'
      : !existsSync(SYSTEM_PYTHON)
        ? `${SYSTEM_PYTHON} is missing: the training user needs a python3 outside root's home`
        : undefined;
if (whyNot) console.warn(`run-as tests CANNOT RUN: ${whyNot}`);

const TRAINER = String.raw`
import os, sys, time
target, pid_file = sys.argv[1], sys.argv[2]
for what, path in (("runner file", target), ("workspace", "written-by-training.txt")):
    try:
        with open(path, "a") as f:
            f.write("status=keep\n")
        print("%s: written" % what)
    except OSError as e:
        print("%s: refused (%s)" % (what, e.strerror))
# A helper that leaves the session and clears its environment: no sweep by group, session or marker finds it.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(pid_file, "w") as f:
            f.write(str(os.getpid()))
        os.execve("/bin/sleep", ["sleep", "30"], {})
    os._exit(0)
while not os.path.exists(pid_file):
    time.sleep(0.01)
time.sleep(0.2)
print("---")
print("val_bpb:          1.234567")
print("training_seconds: 1.0")
`;

/** Processes of the user that are not zombies, after giving SIGKILLs a moment to land. */
async function livingProcessesOf(user: string): Promise<string[]> {
  let living: string[] = [];
  for (let i = 0; i < 50; i++) {
    const ps = await execa('ps', ['-u', user, '-o', 'pid=,stat=,args='], { reject: false });
    living = ps.stdout.split('\n').filter((l) => l.trim() !== '' && !/^\s*\d+\s+Z/.test(l));
    if (living.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return living;
}

describe.skipIf(whyNot !== undefined)(
  `run-as with a real second user${whyNot ? ` — CANNOT RUN: ${whyNot}` : ''}`,
  () => {
    const user = `arci-t${process.pid}`;
    let dir: string;

    beforeAll(async () => {
      await execa('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', user]);
      dir = await mkdtemp(path.join(tmpdir(), 'arci-runas-'));
      await chmod(dir, 0o755);
    });

    afterAll(async () => {
      await execa('pkill', ['-KILL', '-u', user], { reject: false });
      await execa('userdel', [user], { reject: false });
      await rm(dir, { recursive: true, force: true });
    });

    it("runs the training as that user: it cannot write the runner's files or the workspace, and nothing of it outlives the run", async () => {
      const workspace = path.join(dir, 'workspace');
      await execa('mkdir', ['-m', '755', workspace]);
      await writeFile(path.join(workspace, 'train.py'), TRAINER);
      const target = path.join(dir, 'github_output');
      await writeFile(target, 'before\n');
      const pidFile = path.join('/tmp', `arci-runas-helper-${process.pid}`);
      await rm(pidFile, { force: true });
      const runDir = path.join(dir, 'run-1');

      const run = await runTraining({
        protocol: builtinProtocol(),
        command: `${SYSTEM_PYTHON} -B train.py ${target} ${pidFile}`,
        cwd: workspace,
        runDir,
        timeoutSeconds: 60,
        offline: false,
        parentEnv: { PATH: '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' },
        runAs: await planRunAs(user),
      });

      const log = readFileSync(run.logPath, 'utf8');
      expect(run.outcome, log).toEqual({ status: 'ok' });
      expect(run.summary.primary).toBe(1.234567);
      expect(log).toContain('runner file: refused (Permission denied)');
      expect(log).toContain('workspace: refused (Permission denied)');
      expect(readFileSync(target, 'utf8')).toBe('before\n');
      expect(existsSync(path.join(workspace, 'written-by-training.txt'))).toBe(false);
      const helper = Number(readFileSync(pidFile, 'utf8'));
      expect(helper).toBeGreaterThan(0);
      expect(isProcessGone(helper)).toBe(true);
      expect(await livingProcessesOf(user)).toEqual([]);
      await rm(pidFile, { force: true });
    });

    it("refuses a missing user, root, and the runner's own user, naming the input", async () => {
      await expect(planRunAs('no-such-user-arci')).rejects.toThrow(
        /input 'run-as': user 'no-such-user-arci' does not exist/,
      );
      await expect(planRunAs('root')).rejects.toThrow(RunAsError);
    });
  },
);
