/**
 * What the training child is given to start with: a minimal environment and an argv.
 *
 * The environment is an allowlist, not a denylist: the runner's process carries the job token,
 * Actions runtime tokens, inputs and the paths of the file-command files, and an experiment's
 * train.py is untrusted code that must see none of them.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Variables passed through from the runner's environment when set. */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'TMPDIR',
  'SHELL',
  'TERM',
  'RUNNER_TRACKING_ID',
] as const;

/**
 * Pinned settings that keep Hugging Face, uv and Python from reaching the network (offline runs).
 * uv is frozen so a `uv run` cannot re-resolve and rewrite the lock file mid-experiment.
 */
const OFFLINE_SETTINGS: Readonly<Record<string, string>> = {
  HF_HUB_OFFLINE: '1',
  HF_DATASETS_OFFLINE: '1',
  TRANSFORMERS_OFFLINE: '1',
  HF_HUB_DISABLE_TELEMETRY: '1',
  UV_OFFLINE: '1',
  UV_FROZEN: '1',
  UV_PYTHON_DOWNLOADS: 'never',
};

/**
 * Builds the environment of the training child from the runner's environment.
 * Only PATH, HOME, USER, LOGNAME, LANG, LC_*, TMPDIR, SHELL, TERM and RUNNER_TRACKING_ID pass
 * through; `PYTHONUNBUFFERED=1` is always set (progress must stream, not arrive at exit) and the
 * offline settings are added when `offline` is true.
 */
export function buildChildEnv(parent: NodeJS.ProcessEnv, opts: { offline: boolean }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if ((PASSED_THROUGH as readonly string[]).includes(key) || /^LC_[A-Z_]+$/.test(key)) env[key] = value;
  }
  if (opts.offline) Object.assign(env, OFFLINE_SETTINGS);
  env['PYTHONUNBUFFERED'] = '1';
  return env;
}

/** Raised when the protocol's command cannot be turned into an argv. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** How a protocol command will be started. */
export interface CommandLine {
  argv: string[];
  /** True when the command uses shell syntax and is run through `/bin/sh -c`. */
  viaShell: boolean;
}

/** Characters that only a shell gives meaning to when they appear unquoted. */
const SHELL_SYNTAX = new Set([
  '|',
  '&',
  ';',
  '<',
  '>',
  '(',
  ')',
  '$',
  '`',
  '*',
  '?',
  '[',
  ']',
  '{',
  '}',
  '\n',
]);

/**
 * Splits a command such as `uv run train.py` into argv without a shell, honouring single quotes,
 * double quotes and backslash escapes. A command that relies on the shell (pipes, `&&`, redirects,
 * `$` expansion, globs, `~`, `VAR=value` prefixes, comments) is returned as `/bin/sh -c <command>`
 * instead, so it still means what its author wrote.
 * @throws CommandError on an empty command or an unterminated quote
 */
export function parseCommand(command: string): CommandLine {
  const viaShell: CommandLine = { argv: ['/bin/sh', '-c', command], viaShell: true };
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '$' || c === '`') return viaShell;
      else if (c === '\\' && i + 1 < command.length && '"\\$`\n'.includes(command[i + 1]!))
        word += command[++i];
      else word += c;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (SHELL_SYNTAX.has(c)) return viaShell;
    // `~` and `#` only mean something at the start of a word.
    if (!inWord && (c === '~' || c === '#')) return viaShell;
    inWord = true;
    if (c === "'" || c === '"') quote = c;
    else if (c === '\\') {
      if (i + 1 >= command.length)
        throw new CommandError(
          `command ${JSON.stringify(command)} ends with a lone backslash; remove it or quote it`,
        );
      word += command[++i];
    } else word += c;
  }
  if (quote) {
    throw new CommandError(
      `command ${JSON.stringify(command)} has an unterminated ${quote === '"' ? 'double' : 'single'} quote; close it in the protocol's execution.command`,
    );
  }
  if (inWord) words.push(word);
  if (words.length === 0)
    throw new CommandError(
      "the command is empty; set execution.command in the protocol (e.g. 'uv run train.py')",
    );
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) return viaShell;
  return { argv: words, viaShell: false };
}

/**
 * Finds the executable a command would start: a name with a slash is taken relative to `cwd`,
 * a bare name is looked up in `PATH` as the child will see it. Checked before starting because a
 * sandbox launcher would otherwise turn "not found" into an ordinary exit code 127.
 * @returns the absolute path, or `undefined` when there is no such executable
 */
export function findProgram(program: string, env: Record<string, string>, cwd: string): string | undefined {
  const candidates = program.includes('/')
    ? [path.resolve(cwd, program)]
    : (env['PATH'] ?? '')
        .split(path.delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => path.resolve(cwd, dir, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not there or not executable: try the next directory.
    }
  }
  return undefined;
}
