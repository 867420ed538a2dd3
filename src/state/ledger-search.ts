/**
 * Finding a job's lines in a year of ledger without parsing the rest: the file's text is read once
 * per change, and searched for the values a question wants.
 */
import { readFile, stat } from 'node:fs/promises';
import type { LedgerFilter } from './ledger.js';

/** The last file read, by identity, size and mtime: a job asks several questions of one ledger. */
let lastRead: { file: string; stamp: string; text: string } | undefined;

/**
 * The ledger's text, read again only when the file changed (appends grow it, a move gives it a new
 * inode), so the questions of one job cost one read of a year's ledger, not four.
 */
export async function ledgerText(file: string): Promise<string> {
  const info = await stat(file);
  const stamp = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
  if (lastRead?.file === file && lastRead.stamp === stamp) return lastRead.text;
  const text = await readFile(file, 'utf8');
  lastRead = { file, stamp, text };
  return text;
}

/**
 * The [start, end) of every line after `from` that may be wanted. Parsing and checking a line
 * costs far more than searching the text, so with a wanted value (quoted as JSON, as the writer
 * wrote it) or pattern only the lines holding it are visited; the other values and the pattern
 * are checked on the line. An unterminated last line is always visited, to be reported.
 */
export function* candidateLines(
  text: string,
  from: number,
  filter: LedgerFilter | undefined,
  mayHold: RegExp | undefined,
): Generator<[number, number]> {
  const needles =
    filter === undefined || typeof filter === 'function'
      ? []
      : Object.entries(filter)
          .filter((e): e is [string, string] => typeof e[1] === 'string')
          // The text is searched for the first: the key is on nearly every line of a runner's
          // ledger, so any other value narrows the search more, and a longer one more likely.
          .sort(
            ([ka, a], [kb, b]) => Number(ka === 'keyHash') - Number(kb === 'keyHash') || b.length - a.length,
          )
          .map(([, v]) => JSON.stringify(v));
  const fits = (line: string) =>
    needles.every((n) => line.includes(n)) && (mayHold === undefined || mayHold.test(line));
  const lineAt = (pos: number): [number, number] => {
    const end = text.indexOf('\n', pos);
    return [Math.max(text.lastIndexOf('\n', pos - 1) + 1, from), end === -1 ? text.length : end];
  };
  const search =
    needles[0] !== undefined
      ? (pos: number) => text.indexOf(needles[0] as string, pos)
      : mayHold
        ? (pos: number) => {
            const global = new RegExp(mayHold.source, mayHold.flags.replace('g', '') + 'g');
            global.lastIndex = pos;
            return global.exec(text)?.index ?? -1;
          }
        : undefined;
  let lastEnd = from;
  if (search) {
    for (let pos = search(from); pos !== -1; ) {
      const [start, end] = lineAt(pos);
      if (fits(text.slice(start, end))) yield [start, end];
      lastEnd = end;
      pos = end >= text.length ? -1 : search(end + 1);
    }
    const tail = text.lastIndexOf('\n') + 1;
    if (!text.endsWith('\n') && tail >= lastEnd && tail >= from) yield [tail, text.length];
    return;
  }
  for (let start = from; start < text.length; ) {
    const end = text.indexOf('\n', start);
    yield [start, end === -1 ? text.length : end];
    start = end === -1 ? text.length : end + 1;
  }
}

/** 1-based line number of the line starting at `offset` (only for reporting a bad line). */
export function lineNumberAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
