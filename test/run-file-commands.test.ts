import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { afterEach, describe, expect, it } from 'vitest';
import { execute } from '../src/run/execute.js';
import { changedFileCommands, StepFileCommands, snapshotFileCommands } from '../src/run/file-commands.js';
import { tempDirs, trainerArgv } from './helpers/trainers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

function runnerFiles(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_PATH', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']) {
    env[name] = path.join(dir, name.toLowerCase());
    writeFileSync(env[name], 'existing=1\n');
  }
  return env;
}

describe('file-command tampering', () => {
  it('reports nothing when no file changed', async () => {
    const env = runnerFiles(dirs.make());
    const before = await snapshotFileCommands(env);
    expect(before.map((s) => s.variable)).toEqual([
      'GITHUB_ENV',
      'GITHUB_OUTPUT',
      'GITHUB_PATH',
      'GITHUB_STATE',
      'GITHUB_STEP_SUMMARY',
    ]);
    expect(await changedFileCommands(before)).toEqual([]);
  });

  it('names the file a trainer appended to', async () => {
    const dir = dirs.make();
    const env = runnerFiles(dir);
    const before = await snapshotFileCommands(env);
    const result = await execute({
      argv: trainerArgv('tamper', env['GITHUB_OUTPUT']!),
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      logPath: path.join(dir, 'run.log'),
      timeoutMs: 30_000,
    });
    expect(result.exit.exitCode).toBe(0);
    expect(await changedFileCommands(before)).toEqual([env['GITHUB_OUTPUT']]);
  });

  it('notices same-size rewrites, created and deleted files', async () => {
    const dir = dirs.make();
    const env = runnerFiles(dir);
    const absent = path.join(dir, 'not-yet');
    env['GITHUB_STATE'] = absent;
    const before = await snapshotFileCommands(env);
    expect(before.find((s) => s.variable === 'GITHUB_STATE')?.content).toBe('absent');
    writeFileSync(env['GITHUB_ENV']!, 'existing=2\n');
    appendFileSync(absent, 'x=1\n');
    rmSync(env['GITHUB_PATH']!);
    expect((await changedFileCommands(before)).sort()).toEqual(
      [env['GITHUB_ENV'], absent, env['GITHUB_PATH']].sort(),
    );
  });

  it('skips variables that are not set', async () => {
    expect(await snapshotFileCommands({ GITHUB_OUTPUT: '' })).toEqual([]);
  });
});

describe('the file-command files at the very end of the step', () => {
  /** Writes through @actions/core as the action does, with the runner's variables pointing at `env`. */
  function asTheAction(env: NodeJS.ProcessEnv, write: () => void): void {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      write();
    } finally {
      for (const name of Object.keys(env)) if (saved[name] === undefined) delete process.env[name];
      Object.assign(process.env, saved);
    }
  }

  it("accepts exactly the action's own outputs and summary", async () => {
    const env = runnerFiles(dirs.make());
    const step = await StepFileCommands.open(env);
    asTheAction(env, () => {
      step.recordOutput('status', 'discard');
      core.setOutput('status', 'discard');
      step.recordOutput('verdict', 'regressed');
      core.setOutput('verdict', 'regressed');
    });
    step.recordSummary('## summary\n');
    appendFileSync(env['GITHUB_STEP_SUMMARY']!, '## summary\n');
    expect(await step.verifyAndRestore()).toEqual([]);
  });

  it('restores what a leftover process wrote after the checks, and names the files', async () => {
    const env = runnerFiles(dirs.make());
    const step = await StepFileCommands.open(env);
    asTheAction(env, () => {
      step.recordOutput('status', 'discard');
      core.setOutput('status', 'discard');
    });
    // The attack: a helper appends after the training's check, before the runner reads the files.
    appendFileSync(env['GITHUB_OUTPUT']!, 'status=keep\n');
    appendFileSync(env['GITHUB_ENV']!, 'BASH_ENV=/tmp/evil\n');
    appendFileSync(env['GITHUB_PATH']!, '/tmp/evil-bin\n');
    expect(await step.verifyAndRestore()).toEqual(['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_PATH']);
    expect(readFileSync(env['GITHUB_ENV']!, 'utf8')).toBe('existing=1\n');
    expect(readFileSync(env['GITHUB_PATH']!, 'utf8')).toBe('existing=1\n');
    const output = readFileSync(env['GITHUB_OUTPUT']!, 'utf8');
    expect(output).not.toContain('status=keep');
    expect(output).toMatch(/^existing=1\nstatus<<(ghadelimiter_[\w-]+)\ndiscard\n\1\n$/);
  });
});
