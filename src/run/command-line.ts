/** How the protocol's command becomes an argv: split without a shell unless it needs one. */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

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
