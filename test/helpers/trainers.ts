/** Locates the fixture trainers and makes temporary directories for tests of src/run. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Directory of the fixture trainers (stdlib Python 3 scripts printing train.py's format). */
export const TRAINERS_DIR = path.resolve(import.meta.dirname, '../fixtures/trainers');

let python: string | undefined;

/** Absolute path of the Python interpreter (resolved once, so version-manager shims are skipped). */
export function pythonExecutable(): string {
  python ??= execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
    encoding: 'utf8',
  }).trim();
  return python;
}

/** Argv running one fixture trainer; `-B` keeps Python from writing __pycache__ into the repo. */
export function trainerArgv(name: string, ...args: string[]): string[] {
  return [pythonExecutable(), '-B', path.join(TRAINERS_DIR, `${name}.py`), ...args];
}

/** The same as a protocol command line (single-quoted words). */
export function trainerCommand(name: string, ...args: string[]): string {
  return trainerArgv(name, ...args)
    .map((word) => `'${word.replaceAll("'", `'\\''`)}'`)
    .join(' ');
}

/** Temporary directories removed by `cleanup()` (call it in afterEach/afterAll). */
export function tempDirs(): { make(prefix?: string): string; cleanup(): void } {
  const made: string[] = [];
  return {
    make(prefix = 'arci-run-') {
      const dir = mkdtempSync(path.join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    cleanup() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until the process is gone: a signal is delivered asynchronously, so a process killed a
 * moment ago may still be exiting. Resolves false if it is still alive after `limitMs`.
 */
export async function waitUntilGone(pid: number, limitMs = 5000): Promise<boolean> {
  for (const end = Date.now() + limitMs; Date.now() < end; ) {
    if (isProcessGone(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return isProcessGone(pid);
}

/** True when no live process has this pid (an unreaped zombie counts as gone). */
export function isProcessGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const state = processState(pid);
  return state === undefined || state === 'Z';
}

/** The state letter of a process (`R`, `S`, `Z`, …): /proc on Linux, `ps` on macOS; undefined when it is gone. */
function processState(pid: number): string | undefined {
  try {
    if (process.platform !== 'linux') {
      return execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim()[0];
    }
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name, is the state.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
