import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execute } from '../src/run/execute.js';
import { changedFileCommands, snapshotFileCommands } from '../src/run/file-commands.js';
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
