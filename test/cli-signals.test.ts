/**
 * Ctrl-C, `kill` and a closed terminal during a local CLI run: the CLI stops the training's whole
 * process group, releases the machine lock, records the run as cancelled and exits with the
 * shell's code for the signal; the next run then starts at once.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MACHINE_LOCK_FILE } from '../src/state/machine-lock.js';
import { PREPARE_PY, protocolJson, trainPy } from './e2e/project.js';
import { waitUntilGone } from './helpers/trainers.js';

const root = path.resolve(import.meta.dirname, '..');
const shared = JSON.parse(
  await readFile(path.join(root, 'src/settings/autoresearch-mlx.protocol.json'), 'utf8'),
);
let home: string;
let project: string;
const stateDir = () => path.join(home, '.autoresearch-ci');

/**
 * A training that starts a child (in its process group), writes both pids, and would run for
 * a minute: only a kill of the whole group stops the child.
 */
const LONG_TRAIN_PY = `import os, subprocess, sys, time
from prepare import check
check()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open("pids.txt", "w") as f:
    f.write("%d %d" % (os.getpid(), child.pid))
print("training", flush=True)
time.sleep(60)
`;

function cli(...args: string[]): ResultPromise<{ reject: false; cwd: string; env: NodeJS.ProcessEnv }> {
  return execa(process.execPath, [path.join(root, 'dist/cli.js'), ...args], {
    env: { ...process.env, HOME: home, RUNNER_NAME: 'laptop' },
    reject: false,
    cwd: project,
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 60_000): Promise<T> {
  for (const end = Date.now() + limitMs; Date.now() < end; ) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'arci-cli-signals-home-'));
  project = await mkdtemp(path.join(tmpdir(), 'arci-cli-signals-proj-'));
  await writeFile(path.join(project, 'prepare.py'), PREPARE_PY);
  await writeFile(path.join(project, 'protocol.json'), protocolJson(shared));
  await execa('python3', ['prepare.py'], { cwd: project, env: { ...process.env, HOME: home } });
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(project, { recursive: true, force: true });
});

describe('a signal during a local run', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s stops the whole training, releases the lock, records the run and exits %i',
    async (signal, code) => {
      await writeFile(path.join(project, 'train.py'), LONG_TRAIN_PY);
      await rm(path.join(project, 'pids.txt'), { force: true });
      const run = cli('run');
      const pids = await until('the training to start', async () => {
        const text = await readFile(path.join(project, 'pids.txt'), 'utf8').catch(() => '');
        return text ? text.split(' ').map(Number) : undefined;
      });
      expect(existsSync(path.join(stateDir(), MACHINE_LOCK_FILE))).toBe(true);
      const started = Date.now();
      run.kill(signal);
      const result = await run;

      expect(result.exitCode, result.stderr).toBe(code);
      expect(result.stderr).toContain(`Received ${signal}: stopping the training`);
      // The training's leader and the child in its group were both stopped, well before their minute.
      for (const pid of pids) expect(await waitUntilGone(pid), `pid ${pid}`).toBe(true);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(existsSync(path.join(stateDir(), MACHINE_LOCK_FILE))).toBe(false);
      expect(result.stdout).toMatch(/^crash\s+cancelled: /m);
      const ledger = (await readFile(path.join(stateDir(), 'ledger.jsonl'), 'utf8')).trim().split('\n');
      expect(JSON.parse(ledger.at(-1)!)).toMatchObject({
        status: 'crash',
        outcome: [{ status: 'crash', kind: 'cancelled' }],
      });
    },
  );

  it('leaves nothing behind: the next run starts at once and completes, and history shows the cancelled runs', async () => {
    await writeFile(path.join(project, 'train.py'), trainPy({ value: 1.8 }));
    const next = await cli('run');
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).not.toMatch(/waiting for the machine lock|another training/i);
    expect(next.stdout).toMatch(/^status\s+discard$/m);
    const history = await cli('history');
    expect(history.stdout.match(/\bcancelled\b/g)).toHaveLength(3);
  });
});
