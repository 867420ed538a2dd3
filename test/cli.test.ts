import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREPARE_PY, protocolJson, trainPy } from './e2e/project.js';

const root = path.resolve(import.meta.dirname, '..');
const shared = JSON.parse(
  await readFile(path.join(root, 'src/settings/autoresearch-mlx.protocol.json'), 'utf8'),
);
let home: string;
let project: string;

/** The CLI as a user runs it: the built bin, its own process, a fresh HOME, in the project. */
function cli(...args: string[]) {
  return cliIn(project, ...args);
}

/** The CLI started from the shell directory `cwd`. */
function cliIn(cwd: string, ...args: string[]) {
  return execa(process.execPath, [path.join(root, 'dist/cli.js'), ...args], {
    env: { ...process.env, HOME: home, RUNNER_NAME: 'laptop' },
    reject: false,
    cwd,
  });
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'arci-cli-home-'));
  project = await mkdtemp(path.join(tmpdir(), 'arci-cli-proj-'));
  await writeFile(path.join(project, 'prepare.py'), PREPARE_PY);
  await writeFile(path.join(project, 'protocol.json'), protocolJson(shared));
  await writeFile(path.join(project, 'train.py'), trainPy({ value: 1.8 }));
  await execa('python3', ['prepare.py'], { cwd: project, env: { ...process.env, HOME: home } });
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(project, { recursive: true, force: true });
});

describe('autoresearch-ci (local CLI)', () => {
  it('runs one training and prints the metrics and outcome as JSON', async () => {
    const { exitCode, stdout, stderr } = await cli('run', '--json');
    expect(exitCode, stderr).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ status: 'discard', verdict: 'no-baseline', primary: { name: 'val_bpb' } });
    // Advice in the CLI's words, not the action's.
    expect(result.headline).toContain('Run `autoresearch-ci baseline` to establish one.');
    expect(stdout).not.toContain('workflow_dispatch');
    expect(result.value).toBeCloseTo(1.8, 1);
    const figure = (metric: string) =>
      result.figures.find((f: { metric: string }) => f.metric === metric)?.value;
    expect([figure('peak_vram_mb'), figure('training_seconds'), figure('total_tokens_M')]).toEqual([
      2, 1, 1.5,
    ]);
    expect(result.logs).toHaveLength(1);
    expect(await readFile(result.logs[0], 'utf8')).toContain('val_bpb:');
    // Progress and notices go to stderr, neutralised: the trainer's ::set-output line is not echoed.
    expect(stderr).toContain('Training run 1/1');
  });

  it('establishes a baseline, then judges against it with the same state dir, and lists the history', async () => {
    const base = await cli('baseline', '--repeats', '2');
    expect(base.exitCode, base.stderr).toBe(0);
    expect(base.stdout).toMatch(/Baseline established on laptop/);
    await writeFile(path.join(project, 'train.py'), trainPy({ value: 1.7 }));
    const run = await cli('run', '--cwd', project);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^status\s+keep$/m);
    expect(run.stdout).toMatch(/^verdict\s+improved$/m);
    expect(run.stdout).toMatch(/^delta\s+-0\.\d{4} \(-\d+\.\dσ\)/m);
    const again = await cli('run');
    expect(again.stdout).toContain('Not run again; pass --force to re-run it.');
    const history = await cli('history');
    expect(history.stdout.trim().split('\n')).toHaveLength(4);
    expect(history.stdout).toMatch(/baseline .* keep/);
    // The progress page of the same state dir: the two experiments of the branch and the baseline.
    const report = await cli('report', '--out', 'progress');
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout.trim()).toBe(path.join(project, 'progress', 'index.html'));
    const page = await readFile(path.join(project, 'progress', 'index.html'), 'utf8');
    expect(page).toContain('<svg');
    expect(page).toMatch(/2 experiments · 1 kept · 0 crashed/);
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect((await cli('report')).exitCode).toBe(2);
  });

  it('exits 1 on a crash and names the crash kind', async () => {
    await writeFile(path.join(project, 'train.py'), trainPy({ crash: true }));
    const { exitCode, stdout } = await cli('run');
    expect(exitCode).toBe(1);
    expect(stdout).toMatch(/^crash\s+exception: ValueError: \[matmul\] shapes do not match$/m);
  });

  it('rejects bad usage with exit 2, naming the flag in its own words', async () => {
    const unknown = await cli('fly');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'fly'");
    const badFlag = await cli('run', '--repeats', 'many');
    expect(badFlag.exitCode).toBe(2);
    expect(badFlag.stderr).toContain("--repeats has value 'many': expected a whole number from 1 to 20.");
    expect(badFlag.stderr).not.toContain('input');
    const badBaseline = await cli('baseline', '--repeats', '1');
    expect(badBaseline.exitCode).toBe(2);
    expect(badBaseline.stderr).toContain("--repeats has value '1': expected a whole number from 2 to 50.");
    const noDir = await cli('run', '--cwd', '/nonexistent');
    expect(noDir.exitCode).toBe(2);
    expect(noDir.stderr).toContain('--cwd /nonexistent: no such directory');
    const unknownFlag = await cli('run', '--fast');
    expect(unknownFlag.exitCode).toBe(2);
    expect(unknownFlag.stderr).toContain("Unknown option '--fast'");
    expect((await cli('--help')).stdout).toContain('Usage: autoresearch-ci');
  });

  it('reports the timeout it applied', async () => {
    await writeFile(path.join(project, 'train.py'), 'import time\ntime.sleep(30)\n');
    const { exitCode, stdout } = await cli('run', '--timeout-seconds', '1');
    expect(exitCode).toBe(1);
    expect(stdout).toMatch(/^crash\s+timeout: the run exceeded the hard timeout of 1 s and was stopped/m);
    expect(stdout).not.toContain('30 s');
  });
});

describe('paths and the state directory', () => {
  it('resolves --protocol, --state-dir and --cache-dir against the shell directory', async () => {
    const shell = await mkdtemp(path.join(tmpdir(), 'arci-cli-shell-'));
    try {
      await writeFile(path.join(shell, 'custom.json'), protocolJson(shared));
      await writeFile(path.join(project, 'train.py'), trainPy({ value: 1.8 }));
      const cacheDir = path.join(home, '.cache/autoresearch');
      const run = await cliIn(
        shell,
        'run',
        '--cwd',
        project,
        '--protocol',
        'custom.json',
        '--state-dir',
        'state',
        '--cache-dir',
        path.relative(shell, cacheDir),
        '--json',
      );
      expect(run.exitCode, run.stderr).toBe(0);
      expect(existsSync(path.join(shell, 'state/ledger.jsonl'))).toBe(true);
      expect(existsSync(path.join(project, 'state'))).toBe(false);
      expect(JSON.parse(run.stdout).logs[0]).toContain(path.join(shell, 'state'));
      const missing = await cliIn(shell, 'run', '--cwd', project, '--protocol', 'nowhere.json');
      expect(missing.stderr).toContain(`protocol file ${path.join(shell, 'nowhere.json')} cannot be read`);
      expect(missing.stderr).toContain('set --protocol to an existing JSON file');
    } finally {
      await rm(shell, { recursive: true, force: true });
    }
  });

  it('history creates no state directory', async () => {
    const stateDir = path.join(home, 'never-created');
    const history = await cli('history', '--state-dir', stateDir);
    expect(history.exitCode, history.stderr).toBe(0);
    expect(history.stdout).toBe(`No runs recorded: ${stateDir} does not exist.`);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('history tells uncommitted versions of train.py apart by their blob', async () => {
    const git = (...args: string[]) =>
      execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: project });
    await git('init', '-q');
    await writeFile(path.join(project, 'train.py'), trainPy({ value: 1.7 }));
    await git('add', '-A');
    await git('commit', '-qm', 'start');
    const stateDir = path.join(home, 'blobs-state');
    const blobs: string[] = [];
    for (const value of [1.71, 1.72]) {
      await writeFile(path.join(project, 'train.py'), trainPy({ value }));
      blobs.push((await git('hash-object', 'train.py')).stdout.trim());
      const run = await cli('run', '--state-dir', stateDir);
      expect(run.exitCode, run.stderr).toBe(0);
    }
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    const rows = (await cli('history', '--state-dir', stateDir)).stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    for (const [i, row] of rows.entries()) {
      expect(row).toContain(head.slice(0, 7));
      expect(row).toContain(blobs[i]!.slice(0, 7));
    }
    expect(blobs[0]).not.toBe(blobs[1]);
  });
});
