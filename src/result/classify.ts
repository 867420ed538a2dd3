/**
 * Decides why a finished training run did or did not produce a usable result, from how the process
 * ended, the end of its output and its summary block. Every crash gets one human line and the log
 * lines that show it, so a person (or the agent) can act without opening run.log.
 */
import { constants } from 'node:os';
import type { CrashKind, Outcome, ProcessExit, Summary } from '../model.js';
import type { Protocol } from '../settings/protocol.js';

/** Only the end of the output is read: tracebacks, OOM aborts and FAIL are printed last. */
const TAIL_SCAN_CHARS = 256 * 1024;
/** Bounds of an excerpt, so a PR comment stays readable. */
export const MAX_EXCERPT_LINES = 40;
/** Bounds of an excerpt in characters (the end is kept: that is where the error is). */
export const MAX_EXCERPT_CHARS = 4096;
const MAX_REASON_CHARS = 300;
const MAX_LINE_CHARS = 500;

const TRACEBACK_HEADER = 'Traceback (most recent call last):';
/** Any backend's out-of-memory words; the backend's own messages come from the protocol. */
const GENERIC_OOM_PATTERNS = [/\bMemoryError\b/, /out of memory/i];
/** train.py pads each `\r` progress segment with spaces, then prints FAIL on the same segment. */
const PROGRESS_PREFIX = /^step \d+\b.*?\s{2,}(?=\S)/;

/** What `classifyOutcome` needs to know about a finished run. */
export interface ClassifyInput {
  exit: ProcessExit;
  /** The last part of the combined output (only its last 256 KB are read). */
  tail: string;
  summary: Summary;
  protocol: Protocol;
  /** Runner files the child changed; any entry makes the run a tampering crash. */
  tampered: string[];
  /** Everything the run printed, in bytes; more than the tail holds means the tail is cut. */
  outputBytes?: number;
}

/**
 * Classifies a finished run. Order: tampering, cancelled, timeout; then a clean exit with a primary
 * metric is ok; otherwise oom, diverged, exception, missing-metrics.
 */
export function classifyOutcome(input: ClassifyInput): Outcome {
  const { exit, summary, protocol, tampered } = input;
  const log = input.tail.length > TAIL_SCAN_CHARS ? input.tail.slice(-TAIL_SCAN_CHARS) : input.tail;
  const name = protocol.primary.name;

  if (tampered.length > 0) {
    return crash(
      'tampering',
      `the training changed ${tampered.length} runner file(s) it must not touch: ${clip(tampered.join(', '))}`,
      bound(tampered),
      'Remove the code in train.py that writes outside the working directory; the result was discarded.',
    );
  }
  if (exit.cancelled) {
    return crash(
      'cancelled',
      `the job was cancelled after ${seconds(exit.durationMs)} s, before the training finished`,
      tailExcerpt(log),
    );
  }
  if (exit.timedOut) {
    return crash(
      'timeout',
      `the run exceeded the hard timeout of ${protocol.hardTimeoutSeconds} s and was stopped${summary.found ? '' : ' before printing its summary'}`,
      tailExcerpt(log),
      `Training must stop after its ${protocol.budgetSeconds} s budget and the final evaluation must fit in the rest of the ${protocol.hardTimeoutSeconds} s.`,
    );
  }
  // A run that exited cleanly with its metric is trusted even if it logged a recovered error
  // (forks retry with a smaller batch after an OOM, for instance).
  if (cleanExit(exit) && summary.primary !== null) return { status: 'ok' };

  const segments = segmentsOf(log);
  const oom = detectOom(log, segments, exit, [...protocol.oomPatterns, ...GENERIC_OOM_PATTERNS]);
  if (oom) return crash('oom', oom.reason, oom.excerpt, oomHint(protocol.oomPolicy));

  const fail = lastFailSegment(segments);
  if (fail !== -1 || summary.primaryNonFinite) {
    const reason =
      fail !== -1
        ? `the loss diverged: train.py printed FAIL${stepAndLoss(segments[fail])}`
        : `the loss diverged: ${name} was ${summary.raw[name] ?? 'not finite'}`;
    return crash(
      'diverged',
      reason,
      // The progress just before FAIL shows how the loss went.
      fail !== -1 ? bound(segments.slice(Math.max(0, fail - 3))) : tailExcerpt(log),
      'Lower the learning rate or undo the change that made the loss explode.',
    );
  }

  const traceback = readTraceback(log);
  if (traceback) {
    return crash(
      'exception',
      traceback.exceptionLine ?? `Python raised an exception (${describeExit(exit, protocol)})`,
      traceback.excerpt,
    );
  }
  if (!cleanExit(exit)) {
    return crash('exception', `${describeExit(exit, protocol)} without a Python traceback`, tailExcerpt(log));
  }
  return crash(
    'missing-metrics',
    missingReason(summary, name, (input.outputBytes ?? 0) > Buffer.byteLength(input.tail)),
    tailExcerpt(log),
    `train.py must end with a "---" line followed by "${name}: <number>", as the protocol's pattern ${protocol.primary.pattern.source} expects.`,
  );
}

/** The hint for an out-of-memory crash, from the protocol's `safety.oomPolicy`. */
export function oomHint(policy: string): string {
  if (policy === 'reduce_batch') {
    return 'Reduce the batch size (the device batch, e.g. DEVICE_BATCH_SIZE in train.py) and retry; raise gradient accumulation to keep the total batch.';
  }
  return `Out of memory: the protocol's OOM policy is "${policy}"; apply it and retry.`;
}

function crash(kind: CrashKind, reason: string, excerpt: string, hint?: string): Outcome {
  return { status: 'crash', kind, reason: clip(reason), excerpt, ...(hint ? { hint } : {}) };
}

function cleanExit(exit: ProcessExit): boolean {
  return exit.exitCode === 0 && exit.signal === null;
}

/** Shells and `uv run` report a child killed by signal N as exit code 128 + N. */
function signalOf(exit: ProcessExit): string | null {
  if (exit.signal) return exit.signal;
  if (exit.exitCode === null || exit.exitCode <= 128) return null;
  const number = exit.exitCode - 128;
  const entry = Object.entries(constants.signals).find(([, n]) => n === number);
  return entry ? entry[0] : null;
}

function describeExit(exit: ProcessExit, protocol: Protocol): string {
  const command = `\`${protocol.command}\``;
  if (exit.signal) return `${command} was killed by ${exit.signal}`;
  if (exit.exitCode === null) return `${command} ended without an exit code`;
  const signal = signalOf(exit);
  return `${command} exited with code ${exit.exitCode}${signal ? ` (${signal})` : ''}`;
}

function detectOom(
  log: string,
  segments: string[],
  exit: ProcessExit,
  patterns: readonly RegExp[],
): { reason: string; excerpt: string } | null {
  let index = -1;
  for (let i = segments.length - 1; i >= 0 && index === -1; i--) {
    const segment = segments[i]!;
    if (patterns.some((pattern) => pattern.test(segment))) index = i;
  }
  if (index !== -1) {
    const traceback = readTraceback(log);
    const line = afterProgress(segments[index]!).trim();
    // A Python OOM error names itself best in the exception line; a libc++abi abort in its own line.
    const reason = traceback?.exceptionLine ?? `out of memory: ${line}`;
    const excerpt = traceback?.excerpt ?? bound(segments.slice(Math.max(0, index - 3), index + 3));
    return { reason, excerpt };
  }
  // Timeout and cancel kills were handled before, so a SIGKILL here came from someone else: on
  // macOS that is the memory-pressure killer.
  if (signalOf(exit) === 'SIGKILL') {
    return {
      reason:
        'the process was killed by SIGKILL, which the action did not send; the system most likely ran out of memory',
      excerpt: tailExcerpt(log),
    };
  }
  return null;
}

/** Index of the last FAIL segment, -1 when there is none. */
function lastFailSegment(segments: string[]): number {
  for (let i = segments.length - 1; i >= 0; i--) {
    if (afterProgress(segments[i]!).trim() === 'FAIL') return i;
  }
  return -1;
}

function stepAndLoss(segment: string | undefined): string {
  const match = segment?.match(/^step (\d+)\b.*?\bloss: (\S+)/);
  return match ? ` at step ${Number(match[1])} (loss ${match[2]})` : '';
}

function missingReason(summary: Summary, name: string, tailCut: boolean): string {
  if (!summary.found && tailCut)
    return `the run exited with code 0, but the last ${Math.round(TAIL_SCAN_CHARS / 1024)} KiB of its output hold no "---" summary block, so ${name} is missing: the summary must be the last thing train.py prints`;
  if (!summary.found)
    return `the run exited with code 0 but printed no "---" summary block, so ${name} is missing`;
  const printed = summary.raw[name];
  if (printed !== undefined) return `${name} was "${printed}" in the summary block, not a number`;
  const keys = Object.keys(summary.raw);
  return `the summary block has no ${name} line${keys.length ? ` (it has ${keys.join(', ')})` : ''}`;
}

/** The last traceback: its lines up to the exception line, and that line (absent when cut off). */
function readTraceback(log: string): { excerpt: string; exceptionLine?: string } | null {
  const at = log.lastIndexOf(TRACEBACK_HEADER);
  if (at === -1) return null;
  const lines = log.slice(at).split(/\r\n|\r|\n/);
  // Frames are indented; the exception line is the first line after the header at column 0.
  let end = lines.findIndex((line, i) => i > 0 && line.trim() !== '' && !/^\s/.test(line));
  const exceptionLine = end === -1 ? undefined : lines[end]!.trim();
  if (end === -1) end = lines.length - 1;
  const kept = lines.slice(0, end + 1);
  const excerpt =
    kept.length > MAX_EXCERPT_LINES
      ? bound([kept[0]!, '  ...', ...kept.slice(-(MAX_EXCERPT_LINES - 2))])
      : bound(kept);
  return exceptionLine === undefined ? { excerpt } : { excerpt, exceptionLine };
}

/** The last lines as a terminal shows them: of a `\r`-separated line only its last segment. */
function tailExcerpt(log: string): string {
  const lines: string[] = [];
  for (const line of log.split(/\r?\n/)) {
    const segments = line.split('\r').filter((segment) => segment.trim() !== '');
    lines.push(segments.at(-1) ?? '');
  }
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  return bound(lines.slice(-MAX_EXCERPT_LINES));
}

/** Every non-blank `\r`/`\n` segment, right-trimmed. */
function segmentsOf(log: string): string[] {
  return log
    .split(/\r\n|\r|\n/)
    .map((segment) => segment.trimEnd())
    .filter((segment) => segment !== '');
}

function afterProgress(segment: string): string {
  return segment.replace(PROGRESS_PREFIX, '');
}

/** Joins lines within the excerpt bounds, keeping the end; long lines are cut. */
function bound(lines: string[]): string {
  const kept = lines.slice(-MAX_EXCERPT_LINES).map((line) => clip(line.trimEnd(), MAX_LINE_CHARS));
  let text = kept.join('\n');
  while (text.length > MAX_EXCERPT_CHARS && kept.length > 1) {
    kept.shift();
    text = kept.join('\n');
  }
  return text.length > MAX_EXCERPT_CHARS ? text.slice(-MAX_EXCERPT_CHARS) : text;
}

function clip(text: string, max = MAX_REASON_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
