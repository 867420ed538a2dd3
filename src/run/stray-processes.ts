/**
 * Finds and ends what a training left behind after its process group was killed: a helper that
 * started its own process group, or its own session (`setsid`), escapes a group kill. Such a
 * process still carries the run's marker variable in its environment, and until it calls
 * `setsid` it shares the leader's session; both are looked for. A helper that clears its
 * environment and leaves the session is out of reach of this sweep; running the training as its
 * own user (`run-as`) is what catches that (every process of that user is ended).
 */
import { readdir, readFile } from 'node:fs/promises';
import { execa } from 'execa';

/** Environment variable every training process inherits; its value is unique per run. */
export const RUN_MARKER_VARIABLE = 'AUTORESEARCH_CI_RUN';

/** A process the sweep may end. */
interface Candidate {
  pid: number;
  pgid: number;
  /** Session id; undefined where the platform does not show it. */
  sid?: number;
  /** Whether the run's marker is in its environment. */
  marked: boolean;
}

/**
 * Kills (SIGKILL) every process in the leader's process group or session, or carrying the marker,
 * until none is left (a dying helper may have forked). Returns the pids it killed.
 */
export async function endStrayProcesses(leaderPid: number, marker: string): Promise<number[]> {
  const killed: number[] = [];
  for (let round = 0; round < 10; round++) {
    const strays = (await listProcesses(marker)).filter(
      (p) =>
        p.pid !== process.pid &&
        p.pid !== leaderPid &&
        (p.marked || p.pgid === leaderPid || p.sid === leaderPid),
    );
    if (strays.length === 0) break;
    for (const { pid } of strays) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      } catch {
        // Gone already, or not ours to signal.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [...new Set(killed)];
}

async function listProcesses(marker: string): Promise<Candidate[]> {
  return process.platform === 'linux' ? listFromProc(marker) : listFromPs(marker);
}

/** Linux: /proc/<pid>/stat for group and session, /proc/<pid>/environ for the marker. */
async function listFromProc(marker: string): Promise<Candidate[]> {
  const needle = Buffer.from(`${RUN_MARKER_VARIABLE}=${marker}\0`);
  const found: Candidate[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      let marked = false;
      try {
        marked = (await readFile(`/proc/${entry}/environ`)).includes(needle);
      } catch {
        // Another user's process: its environment is not readable, and it is not ours to end.
      }
      found.push({ pid: Number(entry), pgid: Number(fields[2]), sid: Number(fields[3]), marked });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** macOS and other BSDs: `ps -E` shows the environment of the user's own processes. */
async function listFromPs(marker: string): Promise<Candidate[]> {
  const result = await execa('ps', ['-axwwE', '-o', 'pid=,pgid=,stat=,command='], {
    reject: false,
    stdin: 'ignore',
  });
  const found: Candidate[] = [];
  for (const line of result.stdout.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!match || match[3]!.startsWith('Z')) continue;
    found.push({
      pid: Number(match[1]),
      pgid: Number(match[2]),
      marked: match[4]!.includes(`${RUN_MARKER_VARIABLE}=${marker}`),
    });
  }
  return found;
}
