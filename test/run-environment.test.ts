import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandError, findProgram, parseCommand } from '../src/run/command-line.js';
import { buildChildEnv } from '../src/run/environment.js';
import { tempDirs } from './helpers/trainers.js';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

const RUNNER_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/Users/runner',
  USER: 'runner',
  LOGNAME: 'runner',
  LANG: 'en_US.UTF-8',
  LC_ALL: 'en_US.UTF-8',
  LC_CTYPE: 'UTF-8',
  TMPDIR: '/var/folders/x/T/',
  SHELL: '/bin/zsh',
  TERM: 'xterm-256color',
  RUNNER_TRACKING_ID: 'github_1234',
  GITHUB_TOKEN: 'ghs_secret',
  'INPUT_GITHUB-TOKEN': 'ghs_input_secret',
  INPUT_PROTOCOL: 'protocol.json',
  ACTIONS_RUNTIME_TOKEN: 'runtime-secret',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-secret',
  ACTIONS_CACHE_URL: 'https://cache',
  GITHUB_ENV: '/runner/_temp/_runner_file_commands/set_env_1',
  GITHUB_OUTPUT: '/runner/_temp/_runner_file_commands/set_output_1',
  GITHUB_PATH: '/runner/_temp/_runner_file_commands/add_path_1',
  GITHUB_STATE: '/runner/_temp/_runner_file_commands/save_state_1',
  GITHUB_STEP_SUMMARY: '/runner/_temp/_runner_file_commands/step_summary_1',
  SSH_AUTH_SOCK: '/private/tmp/ssh.sock',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  PYTHONPATH: '/evil',
  HF_TOKEN: 'hf-secret',
  NOT_LC_ALL: 'x',
};

describe('buildChildEnv', () => {
  it('passes exactly the allowlisted variables through, plus PYTHONUNBUFFERED', () => {
    const env = buildChildEnv(RUNNER_ENV, { offline: false });
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/Users/runner',
      USER: 'runner',
      LOGNAME: 'runner',
      LANG: 'en_US.UTF-8',
      LC_ALL: 'en_US.UTF-8',
      LC_CTYPE: 'UTF-8',
      TMPDIR: '/var/folders/x/T/',
      SHELL: '/bin/zsh',
      TERM: 'xterm-256color',
      RUNNER_TRACKING_ID: 'github_1234',
      PYTHONUNBUFFERED: '1',
    });
  });

  it('adds the offline settings when offline', () => {
    const env = buildChildEnv(RUNNER_ENV, { offline: true });
    expect(env).toMatchObject({
      HF_HUB_OFFLINE: '1',
      HF_DATASETS_OFFLINE: '1',
      TRANSFORMERS_OFFLINE: '1',
      HF_HUB_DISABLE_TELEMETRY: '1',
      UV_OFFLINE: '1',
      UV_FROZEN: '1',
      UV_PYTHON_DOWNLOADS: 'never',
      PYTHONUNBUFFERED: '1',
    });
    for (const secret of ['ghs_secret', 'ghs_input_secret', 'runtime-secret', 'oidc-secret', 'aws-secret']) {
      expect(Object.values(env)).not.toContain(secret);
    }
    expect(Object.keys(env).filter((k) => /^(GITHUB_|INPUT_|ACTIONS_|SSH_)/.test(k))).toEqual([]);
  });

  it('does not let the parent override the pinned settings', () => {
    const env = buildChildEnv({ ...RUNNER_ENV, UV_OFFLINE: '0', PYTHONUNBUFFERED: '0' }, { offline: true });
    expect(env['UV_OFFLINE']).toBe('1');
    expect(env['PYTHONUNBUFFERED']).toBe('1');
  });

  it('skips allowlisted variables that are unset', () => {
    expect(buildChildEnv({ PATH: '/bin' }, { offline: false })).toEqual({
      PATH: '/bin',
      PYTHONUNBUFFERED: '1',
    });
  });
});

describe('parseCommand', () => {
  it('splits a plain command into argv without a shell', () => {
    expect(parseCommand('uv run train.py')).toEqual({ argv: ['uv', 'run', 'train.py'], viaShell: false });
    expect(parseCommand('  python3   -u\ttrain.py  ')).toEqual({
      argv: ['python3', '-u', 'train.py'],
      viaShell: false,
    });
  });

  it('honours single quotes, double quotes and backslashes', () => {
    expect(parseCommand(`python3 'my train.py' "a \\"b\\" c" d\\ e --x='' --name="q w"`).argv).toEqual([
      'python3',
      'my train.py',
      'a "b" c',
      'd e',
      '--x=',
      '--name=q w',
    ]);
    // Inside single quotes nothing is special, not even what would need a shell.
    expect(parseCommand(`echo '$HOME | *'`)).toEqual({ argv: ['echo', '$HOME | *'], viaShell: false });
  });

  it.each([
    'uv run train.py | tee out.log',
    'uv sync && uv run train.py',
    'uv run train.py > out.log 2>&1',
    'uv run train.py; echo done',
    'python3 $SCRIPT',
    'python3 "$SCRIPT"',
    'python3 *.py',
    'python3 train.py?',
    'python3 ~/train.py',
    'FOO=1 python3 train.py',
    'python3 train.py # comment',
    'python3 `which train`',
    '(cd src && python3 train.py)',
  ])('runs %j through /bin/sh -c', (command) => {
    expect(parseCommand(command)).toEqual({ argv: ['/bin/sh', '-c', command], viaShell: true });
  });

  it('rejects empty commands and unterminated quotes with a clear error', () => {
    expect(() => parseCommand('   ')).toThrow(CommandError);
    expect(() => parseCommand('   ')).toThrow(/execution\.command/);
    expect(() => parseCommand(`python3 'train.py`)).toThrow(/unterminated single quote/);
    expect(() => parseCommand(`python3 "train.py`)).toThrow(/unterminated double quote/);
  });
});

describe('findProgram', () => {
  it('looks bare names up in the child PATH and paths relative to cwd', () => {
    const root = dirs.make();
    const bin = path.join(root, 'bin');
    mkdirSync(bin);
    mkdirSync(path.join(bin, 'adir'));
    writeFileSync(path.join(bin, 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(bin, 'tool'), 0o755);
    writeFileSync(path.join(bin, 'plain'), 'not executable');
    const env = { PATH: `/nonexistent:${bin}` };
    expect(findProgram('tool', env, root)).toBe(path.join(bin, 'tool'));
    expect(findProgram('./bin/tool', {}, root)).toBe(path.join(bin, 'tool'));
    expect(findProgram('plain', env, root)).toBeUndefined();
    expect(findProgram('adir', env, root)).toBeUndefined();
    expect(findProgram('tool', { PATH: '/nonexistent' }, root)).toBeUndefined();
    expect(findProgram('tool', {}, root)).toBeUndefined();
  });
});
