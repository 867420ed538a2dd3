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

/** The CLI as a user runs it: the built bin, its own process, a fresh HOME. */
function cli(...args: string[]) {
  return execa(process.execPath, [path.join(root, 'dist/cli.js'), ...args], {
    env: { ...process.env, HOME: home, RUNNER_NAME: 'laptop' },
    reject: false,
    cwd: project,
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
    expect(result.value).toBeCloseTo(1.8, 1);
    expect(result.figures).toMatchObject({ peakMemoryGb: 2, trainingSeconds: 1, tokensM: 1.5 });
    expect(result.logs).toHaveLength(1);
    expect(await readFile(result.logs[0], 'utf8')).toContain('val_bpb:');
    // Progress and notices go to stderr, neutralised: the trainer's ::set-output line is not echoed.
    expect(stderr).toContain('Training run 1/1');
  });

  it('establishes a baseline, then judges against it with the same state dir, and lists the history', async () => {
    const base = await cli('baseline', '--repeats', '2');
    expect(base.exitCode, base.stderr).toBe(0);
    expect(base.stdout).toMatch(/Baseline established on laptop/);
    await writeFile(path.join(project, 'train.py'), trainPy({ value: 1.6 }));
    const run = await cli('run', '--cwd', project);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^status\s+keep$/m);
    expect(run.stdout).toMatch(/^verdict\s+improved$/m);
    expect(run.stdout).toMatch(/^delta\s+-0\.\d{4} \(-\d+\.\dσ\)/m);
    const history = await cli('history');
    expect(history.stdout.trim().split('\n')).toHaveLength(4);
    expect(history.stdout).toMatch(/baseline .* keep/);
  });

  it('exits 1 on a crash and names the crash kind', async () => {
    await writeFile(path.join(project, 'train.py'), trainPy({ crash: true }));
    const { exitCode, stdout } = await cli('run');
    expect(exitCode).toBe(1);
    expect(stdout).toMatch(/^crash\s+exception: ValueError: \[matmul\] shapes do not match$/m);
  });

  it('rejects bad usage with the usage text and exit 2', async () => {
    const unknown = await cli('fly');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'fly'");
    const badFlag = await cli('run', '--repeats', 'many');
    expect(badFlag.exitCode).toBe(1);
    expect(badFlag.stderr).toContain("input 'repeats' has value 'many'");
    expect((await cli('--help')).stdout).toContain('Usage: autoresearch-ci');
  });
});
