import { ExecaError, execa } from 'execa';

/**
 * Runs a program with arguments (no shell) and resolves with its stdout. Rejects with a
 * {@link CommandError} when the program is missing, exits non-zero, or runs too long.
 * Injectable so hardware probing can be fed recorded outputs of macOS tools on any machine.
 */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

/** A command could not be run or did not succeed. */
export class CommandError extends Error {
  override name = 'CommandError';
  /** The program, e.g. `sysctl`. */
  readonly file: string;
  readonly args: readonly string[];
  /** True when the program is not installed (ENOENT), as for `nvidia-smi` on a Mac. */
  readonly notFound: boolean;

  constructor(file: string, args: readonly string[], detail: string, notFound: boolean, cause?: unknown) {
    super(`command \`${[file, ...args].join(' ')}\` failed: ${detail}`, { cause });
    this.file = file;
    this.args = args;
    this.notFound = notFound;
  }
}

/** Options of {@link execaRunner}. */
export interface ExecaRunnerOptions {
  /** Kill the command after this many milliseconds (default 30 s: `system_profiler` can be slow). */
  timeoutMs?: number;
}

/**
 * The real {@link CommandRunner}: execa without a shell. Only stdout is returned because
 * `system_profiler` logs unrelated lines to stderr on recent macOS; stderr is kept for the
 * error message only. The C locale keeps numbers and units unlocalised ("2.4 GHz", not "2,4 GHz").
 */
export function execaRunner(options: ExecaRunnerOptions = {}): CommandRunner {
  const timeout = options.timeoutMs ?? 30_000;
  return async (file, args) => {
    try {
      const result = await execa(file, [...args], {
        timeout,
        stdin: 'ignore',
        stripFinalNewline: false,
        env: { LC_ALL: 'C', LANG: 'C' },
      });
      return result.stdout;
    } catch (error) {
      if (error instanceof ExecaError) {
        const notFound = error.code === 'ENOENT';
        const stderr = String(error.stderr ?? '')
          .trim()
          .split('\n')
          .filter(Boolean)
          .slice(-3);
        const detail = [error.shortMessage, ...stderr].join('; ');
        throw new CommandError(file, args, detail, notFound, error);
      }
      throw error;
    }
  };
}
