import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cleanUntrusted,
  codeBlock,
  inlineText,
  REDACTED,
  redactSecrets,
  sanitizeTerminal,
  truncate,
} from '../src/publish/untrusted-text.js';
import { parseFences } from './support/markdown-fences.js';

const LOGS = path.resolve(import.meta.dirname, 'fixtures/logs');
const hostileLog = readFileSync(path.join(LOGS, 'hostile-fake-summary.log'), 'utf8');
const ZWJ = '\u200d';

// Built at run time so the test file itself holds nothing a secret scanner would flag.
const fake = {
  ghp: `ghp_${'A1b2C3d4E5'.repeat(4)}`,
  gho: `gho_${'Z9y8X7w6V5'.repeat(4)}`,
  ghu: `ghu_${'q1W2e3R4t5'.repeat(4)}`,
  ghs: `ghs_${'M1n2B3v4C5'.repeat(4)}`,
  ghr: `ghr_${'p0O9i8U7y6'.repeat(4)}`,
  pat: `github_pat_${'11ABCDE'.repeat(3)}_${'xYz0123456'.repeat(6)}`,
  aws: `AKIA${'IOSFODNN7EXAMPLE'}`,
  hf: `hf_${'aBcDeFgHiJ'.repeat(3)}k1`,
  jwt: `eyJhbGciOiJIUzI1NiJ9.${'eyJzdWIiOiIxMjM0In0'}.${'dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk'}`,
};

describe('sanitizeTerminal', () => {
  it('removes ANSI colour, cursor and hyperlink sequences', () => {
    expect(sanitizeTerminal('\x1b[1;31mred\x1b[0m plain \x1b[2K')).toBe('red plain');
    expect(sanitizeTerminal('\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 done')).toBe('link done');
    expect(sanitizeTerminal('\x1b]0;window title\x1b\\text')).toBe('text');
  });

  it('removes C0/C1 controls but keeps tabs and newlines', () => {
    expect(sanitizeTerminal('a\x00b\x07c\x90d\te\x7f\nnext\x08')).toBe('abcd\te\nnext');
  });

  it('removes bidi controls used to disguise text', () => {
    expect(sanitizeTerminal('safe\u202eevil\u2066x\u2069\u200e\u200f\u061c!')).toBe('safeevilx!');
  });

  it('keeps the last visible segment of a carriage-return progress line and reads CRLF as a newline', () => {
    expect(sanitizeTerminal('step 1\rstep 2\rstep 3    \nnext')).toBe('step 3\nnext');
    expect(sanitizeTerminal('progress 99%\r   \r\nafter\r\n')).toBe('progress 99%\nafter\n');
  });

  it('collapses the fixture log progress into its final step', () => {
    const clean = sanitizeTerminal(hostileLog);
    expect(clean).not.toContain('\r');
    expect(clean).toContain('step 01319 (100.0%)');
    expect(clean).not.toContain('step 01318 (100.0%)');
    expect(clean.split('\n').length).toBe(hostileLog.split('\n').length);
  });
});

describe('redactSecrets', () => {
  it.each(Object.entries(fake))('redacts a %s token', (_kind, token) => {
    const out = redactSecrets(`before ${token} after`);
    expect(out).not.toContain(token.slice(4, 20));
    expect(out).toContain(REDACTED);
    expect(out.startsWith('before ')).toBe(true);
  });

  it('redacts credentials in URLs and authorization headers, keeping the readable part', () => {
    expect(redactSecrets(`https://x-access-token:${fake.ghs}@github.com/o/r.git`)).toBe(
      `https://x-access-token:${REDACTED}@github.com/o/r.git`,
    );
    expect(redactSecrets('git clone https://bob:hunter2hunter@example.com/r')).toBe(
      `git clone https://bob:${REDACTED}@example.com/r`,
    );
    expect(redactSecrets(`Authorization: Bearer ${fake.jwt}`)).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactSecrets('Authorization: token 0123456789abcdef0123')).toBe(
      `Authorization: token ${REDACTED}`,
    );
  });

  it('redacts long random values assigned to token, password or secret keys', () => {
    expect(redactSecrets('token=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b')).toBe(`token=${REDACTED}`);
    expect(redactSecrets('WANDB_API_TOKEN: "Qm9vbXNoYWthbGFrYTEyMzQ1Njc4OQ=="')).toBe(
      `WANDB_API_TOKEN: "${REDACTED}"`,
    );
    expect(redactSecrets('password=Xk29vLq81mZpR4tw')).toBe(`password=${REDACTED}`);
    expect(redactSecrets('client_secret=a8F3kL0pQ7zX2mN9bV4c')).toBe(`client_secret=${REDACTED}`);
  });

  it('leaves ordinary training output alone', () => {
    const lines = [
      'step 00039 (3.0%) | loss: 7.928089 | lrm: 1.00 | dt: 230ms | tok/sec: 284,939 | remaining: 291s',
      'total_tokens_M:   86.5',
      'tokenizer artifacts under ~/.cache/autoresearch/tokenizer',
      'token=aaaaaaaaaaaaaaaaaaaaaaaa',
      'secret=/Users/runner/work/project/data',
      'the bearer of this message',
    ].join('\n');
    expect(redactSecrets(lines)).toBe(lines);
  });

  it('is applied by cleanUntrusted after control characters are gone', () => {
    // A colour code in the middle must not hide the token from the pattern.
    const split = `${fake.ghp.slice(0, 10)}\x1b[0m${fake.ghp.slice(10)}`;
    expect(cleanUntrusted(`leak ${split}`)).toBe(`leak ${REDACTED}`);
  });
});

describe('codeBlock', () => {
  it('uses a fence longer than any backtick run inside, at least three', () => {
    expect(codeBlock('plain')).toBe('```\nplain\n```');
    expect(codeBlock('a ``` b')).toBe('````\na ``` b\n````');
    expect(codeBlock('x `````` y', 'text')).toBe('```````text\nx `````` y\n```````');
  });

  it('keeps its content literal: a hostile log closes the fence exactly where intended', () => {
    const block = codeBlock(hostileLog, 'text');
    const markdown = `before\n\n${block}\n\nafter`;
    const parsed = parseFences(markdown);
    expect(parsed.blocks).toHaveLength(1);
    expect(parsed.blocks[0]!.info).toBe('text');
    expect(parsed.blocks[0]!.content).toBe(cleanUntrusted(hostileLog).replace(/\n+$/, ''));
    expect(parsed.outside).toBe('before\n\n\nafter');
  });

  it('cleans and redacts what it shows, and reduces the language tag to a plain word', () => {
    expect(codeBlock(`\x1b[31mboom\x1b[0m ${fake.hf}\n\n`, 'py; rm -rf')).toBe(
      '```pyrm-rf\nboom [redacted]\n```',
    );
  });
});

describe('inlineText', () => {
  it('makes HTML inert', () => {
    const out = inlineText('<img src=x onerror=alert(1)> </details> & <script>', 200);
    expect(out).not.toMatch(/[<>]/);
    expect(out).toBe('&lt;img src=x onerror=alert(1)&gt; &lt;/details&gt; &amp; &lt;script&gt;');
  });

  it('breaks mentions and issue references so nobody is notified', () => {
    const out = inlineText('@everyone ping @octo-org/team about #123, GH-7 and org/repo#9', 200);
    expect(out).toBe(
      `@${ZWJ}everyone ping @${ZWJ}octo-org/team about #${ZWJ}123, GH-${ZWJ}7 and org/repo#${ZWJ}9`,
    );
    expect(out).not.toMatch(/@[A-Za-z0-9]|#\d/);
  });

  it('escapes markdown, table pipes and code spans', () => {
    expect(inlineText('**bold** _it_ [link](http://x) `code` a|b ~~s~~ $x$', 200)).toBe(
      '\\*\\*bold\\*\\* \\_it\\_ \\[link\\](http://x) &#96;code&#96; a&#124;b \\~\\~s\\~\\~ \\$x\\$',
    );
    expect(inlineText('\\*not bold\\*', 50)).toBe('\\\\\\*not bold\\\\\\*');
  });

  it('neutralises block syntax at the start', () => {
    expect(inlineText('# Title', 50)).toBe('\\# Title');
    expect(inlineText('- item', 50)).toBe('\\- item');
    expect(inlineText('1. first', 50)).toBe('1\\. first');
    expect(inlineText('> quote', 50)).toBe('&gt; quote');
  });

  it('puts everything on one line and truncates with an ellipsis before escaping', () => {
    expect(inlineText('one\ntwo\r\n\tthree  ', 100)).toBe('one two three');
    expect(inlineText('abcdef', 4)).toBe('abc…');
    expect(inlineText('<<<<<<', 3)).toBe('&lt;&lt;…');
    expect(inlineText('abc', 3)).toBe('abc');
  });

  it('redacts tokens and drops control characters', () => {
    expect(inlineText(`key ${fake.ghp}\x1b[0m\u202e`, 200)).toBe('key \\[redacted\\]');
  });

  it('rejects a useless length limit', () => {
    expect(() => inlineText('x', 0)).toThrow(/max must be a positive integer/);
  });
});

describe('truncate', () => {
  it('never splits a surrogate pair', () => {
    expect(truncate('😀😀😀😀', 3)).toBe('😀😀…');
    expect(truncate('😀😀', 2)).toBe('😀😀');
  });
});
