import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { neutralizeWorkflowCommands, printUntrusted, stripAnsi } from '../src/run/neutralize.js';

const LOGS = path.resolve(import.meta.dirname, 'fixtures/logs');

/** What the runner would treat as a workflow command: a line (\r, \n, \r\n end lines) starting with :: or ##[. */
function commandLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((line) => {
    const content = stripAnsi(line).trimStart();
    return content.startsWith('::') || content.startsWith('##[');
  });
}

describe('neutralizeWorkflowCommands', () => {
  it('defuses every command in the hostile fixture log and changes nothing else', () => {
    const hostile = readFileSync(path.join(LOGS, 'hostile-fake-summary.log'), 'utf8');
    expect(commandLines(hostile).length).toBeGreaterThanOrEqual(4);
    const safe = neutralizeWorkflowCommands(hostile);
    expect(commandLines(safe)).toEqual([]);
    // Removing the inserted zero-width spaces gives the original back: nothing else was touched.
    expect(safe.replaceAll('\u200B', '')).toBe(hostile);
    expect(safe).toContain(':\u200B:set-output name=status::keep');
  });

  it.each([
    ['::set-output name=x::1', ':\u200B:set-output name=x::1'],
    ['::add-mask::secret', ':\u200B:add-mask::secret'],
    ['::stop-commands::tok', ':\u200B:stop-commands::tok'],
    ['   ::error::x', '   :\u200B:error::x'],
    ['\t##[group]g', '\t#\u200B#[group]g'],
    ['\x1b[31m::warning::x\x1b[0m', '\x1b[31m:\u200B:warning::x\x1b[0m'],
    [':\x1b[0m:error::split by colour', ':\u200B\x1b[0m:error::split by colour'],
    ['a line with ::inside:: is fine', 'a line with ::inside:: is fine'],
    ['# a comment ##[x]', '# a comment ##[x]'],
  ])('%j → %j', (input, expected) => {
    expect(neutralizeWorkflowCommands(input)).toBe(expected);
  });

  it('treats \\r segments and CRLF lines as separate lines', () => {
    const text = 'step 1 (1%)\r::set-env name=A::1\r\n##[error]x\r\nok\n::debug::y';
    const safe = neutralizeWorkflowCommands(text);
    expect(commandLines(safe)).toEqual([]);
    expect(safe.replaceAll('\u200B', '')).toBe(text);
  });
});

describe('printUntrusted', () => {
  it('wraps neutralised text between stop-commands and its resume token', () => {
    let out = '';
    printUntrusted('::error::pwned\nhello', (chunk) => {
      out += chunk;
    });
    const lines = out.split('\n');
    const token = /^::stop-commands::([0-9a-f]{32})$/.exec(lines[0]!)?.[1];
    expect(token).toBeDefined();
    expect(lines.slice(1)).toEqual([':\u200B:error::pwned', 'hello', `::${token}::`, '']);
  });

  it('uses a fresh token each time, so printed text cannot guess it', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 5; i++)
      printUntrusted('x', (chunk) => chunk.startsWith('::stop') && tokens.add(chunk));
    expect(tokens.size).toBe(5);
  });
});
