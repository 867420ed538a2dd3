/**
 * Keeps the training's output from speaking to the runner. The runner reads every line of a step's
 * stdout (`\r` ends a line too) and treats one starting with `::` or `##[` (after leading
 * whitespace) as a workflow command: set outputs, mask values, stop command processing, fake
 * annotations. Output of untrusted code is therefore defused before it reaches the job log.
 */
import { randomBytes } from 'node:crypto';

/** Zero-width space: invisible when read, but breaks the `::` / `##[` markers. */
const ZWSP = '\u200B';

/** CSI and OSC escape sequences (colours, titles); a command hidden behind one still counts. */
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/y;

const ANSI_ALL = new RegExp(ANSI.source, 'g');

/** Removes ANSI escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_ALL, '');
}

/**
 * Defuses every line (lines end at `\n`, `\r\n` or a lone `\r`) whose content, after leading
 * whitespace and ANSI escapes, starts with `::` or `##[`, by putting a zero-width space between the
 * two marker characters. Other lines are returned unchanged.
 */
export function neutralizeWorkflowCommands(text: string): string {
  return text.replace(/[^\r\n]+/g, defuseLine);
}

function defuseLine(line: string): string {
  // Find where the visible content starts, skipping whitespace and escape sequences.
  let i = 0;
  for (;;) {
    if (i < line.length && /\s/.test(line[i]!)) {
      i++;
      continue;
    }
    ANSI.lastIndex = i;
    if (ANSI.test(line)) {
      i = ANSI.lastIndex;
      continue;
    }
    break;
  }
  const content = stripAnsi(line.slice(i));
  if (content.startsWith('::') || content.startsWith('##[')) {
    return line.slice(0, i + 1) + ZWSP + line.slice(i + 1);
  }
  return line;
}

/**
 * Prints untrusted text to the job log: neutralised, and also enclosed in
 * `::stop-commands::<random token>` … `::<token>::` so the runner ignores commands in between even
 * if one slipped through.
 * @param write where the job log is (defaults to the process's stdout)
 */
export function printUntrusted(
  text: string,
  write: (chunk: string) => void = (c) => process.stdout.write(c),
): void {
  const token = randomBytes(16).toString('hex');
  const body = neutralizeWorkflowCommands(text);
  write(`::stop-commands::${token}\n`);
  write(body.endsWith('\n') || body === '' ? body : `${body}\n`);
  write(`::${token}::\n`);
}
