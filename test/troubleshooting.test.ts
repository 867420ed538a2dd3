/**
 * Keeps docs/troubleshooting.md in step with the messages the action and the CLI can print.
 *
 * The TypeScript sources are scanned (comments, strings, template literals and regular expression
 * literals are told apart by a small tokenizer) and every string or template literal in a message
 * position is collected:
 * - any argument of `new <Name>Error(…)` and of `super(…)`;
 * - any argument of a call to `setFailed`, `warning`, `notice`, `err` (the CLI's stderr), `fail`
 *   and `crash` (local helpers that build errors and crash outcomes), `none` (sandbox refusals),
 *   `onWait` (machine lock waits), `skipped` (skip reasons), and of zod's `regex`/`min`/`max` (their message argument);
 * - any argument of `errors.push`, `earlierErrors.push`, `warnings.push`, `problems.push`,
 *   `lines.push`;
 * - the value of an object property named `reason`, `headline`, `message` or `warnings`;
 * - the value given to a variable named `warning`, `reason`, `why`, `advice`, `prep` or `headline`;
 * - `return` values inside the message-building functions listed in {@link MESSAGE_BUILDERS}.
 * A value may be a literal, a `+` concatenation of literals, or a choice between them (`a ? b : c`,
 * `a ?? b`, `a || b`) or a list of them (`[a, b]`): every literal alternative counts as a message.
 *
 * A template literal becomes a pattern: its static text must appear in this order, and each
 * `${…}` matches anything (the doc writes a placeholder such as `<file>` there). Messages whose
 * static text is shorter than {@link MIN_STATIC_CHARS} say too little to be looked up and are left
 * out, and so are literals without a space between words (names and keys such as `missing-metrics`).
 * The doc lists messages in fenced blocks marked `text`, several to a block; every message must
 * match inside one block (except the internal argument checks in {@link INTERNAL}), and every block
 * must hold at least one message that still exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const DOC = path.join(root, 'docs', 'troubleshooting.md');

/** Messages with less static text than this are too generic to document on their own. */
const MIN_STATIC_CHARS = 12;
const MESSAGE_CALLEES = new Set([
  'setFailed',
  'warning',
  'notice',
  'err',
  'fail',
  'crash',
  'none',
  'onWait',
  'skipped',
  'regex',
  'min',
  'max',
]);
const MESSAGE_RECEIVERS = new Set(['errors', 'earlierErrors', 'warnings', 'problems', 'lines']);
const MESSAGE_PROPERTIES = new Set(['reason', 'headline', 'message', 'warnings']);
const MESSAGE_VARIABLES = new Set(['warning', 'reason', 'why', 'advice', 'prep', 'headline']);
/** Top-level functions whose returned strings become parts of messages (crash reasons, drift, holders). */
const MESSAGE_BUILDERS = new Set([
  'missingReason',
  'oomHint',
  'describeExit',
  'describeHolder',
  'describeOwner',
  'whatIsWrong',
  'explain',
  'headline',
  'nodeVersionProblem',
  'budgetWarnings',
  'osWarning',
]);

/**
 * Argument checks inside the action's own functions: they guard against bugs, and no input,
 * workflow, protocol or runner state can trigger them, so the doc does not list them. A message
 * is one when it starts with the name of the function that checks (`pooledSd: …`), or matches an
 * entry here: a source file or folder and the start of the message (`<…>` for an interpolation).
 */
const INTERNAL: ReadonlyArray<readonly [file: string, start: string]> = [
  ['src/verdict/statistics.ts', ''],
  ['src/verdict/', 'verdict input '],
  ['src/verdict/', 'is '],
  ['src/verdict/', 'fail-fast stopConfidence'],
  ['src/publish/', 'maxChars'],
  ['src/publish/render-comment.ts', '<…> is not a valid date'],
  ['src/publish/render-comment.ts', 'marker must be'],
  ['src/publish/sticky-comment.ts', 'a sticky comment body must start'],
  ['src/run/output-sink.ts', 'tailBytes'],
  ['src/publish/results-commit.ts', 'maxAttempts'],
  ['src/publish/results-commit.ts', 'commit message "'],
  ['src/publish/results-row.ts', 'results row:'],
  ['src/state/baselines.ts', 'cannot promote a baseline into <…>: keyHash'],
  ['src/state/atomic-file.ts', 'refusing to write'],
  ['src/state/ledger.ts', 'cannot append to <…>: the record is not JSON'],
];
/** `functionName: …`, the form of the action's own argument checks. */
const CHECKING_FUNCTION = /^[a-z]+[A-Z][A-Za-z]*: /;

function isInternal(message: Pick<Message, 'file' | 'text'>): boolean {
  return (
    CHECKING_FUNCTION.test(message.text) ||
    INTERNAL.some(([file, start]) => message.file.startsWith(file) && message.text.startsWith(start))
  );
}

// ---- tokenizer --------------------------------------------------------------------------------

type Token =
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'punct'; value: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'template'; quasis: string[]; exprs: Token[][]; pos: number }
  | { kind: 'other'; value: string; pos: number };

const PUNCTUATORS = [
  '>>>=',
  '...',
  '===',
  '!==',
  '**=',
  '<<=',
  '>>=',
  '>>>',
  '&&=',
  '||=',
  '??=',
  '=>',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '??',
  '?.',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '**',
  '<<',
];
/** After these keywords a `/` starts a regular expression, not a division. */
const REGEX_AFTER_KEYWORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/** Tokenizes TypeScript source; a template's `${…}` parts are tokenized recursively. */
function tokenize(src: string): Token[] {
  let i = 0;
  const readEscape = (): string => {
    const c = src[i + 1]!;
    i += 2;
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', 0: '\0' };
    if (c in simple) return simple[c]!;
    if (c === '\n') return '';
    if (c === 'x') {
      const hex = src.slice(i, i + 2);
      i += 2;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    if (c === 'u') {
      if (src[i] === '{') {
        const end = src.indexOf('}', i);
        const code = Number.parseInt(src.slice(i + 1, end), 16);
        i = end + 1;
        return String.fromCodePoint(code);
      }
      const hex = src.slice(i, i + 4);
      i += 4;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    return c;
  };

  const scan = (stopAtBrace: boolean): Token[] => {
    const tokens: Token[] = [];
    let depth = 0;
    const regexAllowed = (): boolean => {
      const prev = tokens.at(-1);
      if (!prev) return true;
      if (prev.kind === 'punct' && prev.value === '!') {
        // `x! / y` is a non-null assertion then a division; `(!/re/.test(s))` a negated regex.
        const before = tokens.at(-2);
        if (before?.kind === 'ident') return REGEX_AFTER_KEYWORD.has(before.value);
        return !(before?.kind === 'punct' && [')', ']'].includes(before.value));
      }
      if (prev.kind === 'punct') return ![')', ']', '}'].includes(prev.value);
      if (prev.kind === 'ident') return REGEX_AFTER_KEYWORD.has(prev.value);
      return false;
    };
    while (i < src.length) {
      const c = src[i]!;
      const pos = i;
      if (/\s/.test(c)) {
        i++;
      } else if (src.startsWith('//', i)) {
        const end = src.indexOf('\n', i);
        i = end === -1 ? src.length : end;
      } else if (src.startsWith('/*', i)) {
        const end = src.indexOf('*/', i + 2);
        i = end === -1 ? src.length : end + 2;
      } else if (c === "'" || c === '"') {
        i++;
        let value = '';
        while (i < src.length && src[i] !== c) value += src[i] === '\\' ? readEscape() : src[i++];
        i++;
        tokens.push({ kind: 'string', value, pos });
      } else if (c === '`') {
        i++;
        const quasis: string[] = [];
        const exprs: Token[][] = [];
        let value = '';
        while (i < src.length && src[i] !== '`') {
          if (src[i] === '\\') value += readEscape();
          else if (src.startsWith('${', i)) {
            i += 2;
            quasis.push(value);
            value = '';
            exprs.push(scan(true));
          } else value += src[i++];
        }
        i++;
        quasis.push(value);
        tokens.push({ kind: 'template', quasis, exprs, pos });
      } else if (c === '/' && regexAllowed()) {
        i++;
        let inClass = false;
        while (i < src.length && (inClass || src[i] !== '/')) {
          if (src[i] === '\\') i++;
          else if (src[i] === '[') inClass = true;
          else if (src[i] === ']') inClass = false;
          i++;
        }
        i++;
        while (/[a-z]/i.test(src[i] ?? '')) i++;
        tokens.push({ kind: 'other', value: src.slice(pos, i), pos });
      } else if (/[A-Za-z_$#]/.test(c)) {
        while (/[\w$#]/.test(src[i] ?? '')) i++;
        tokens.push({ kind: 'ident', value: src.slice(pos, i), pos });
      } else if (/[0-9]/.test(c)) {
        while (/[\w.]/.test(src[i] ?? '')) i++;
        tokens.push({ kind: 'other', value: src.slice(pos, i), pos });
      } else {
        const punct = PUNCTUATORS.find((p) => src.startsWith(p, i)) ?? c;
        i += punct.length;
        if (stopAtBrace && punct === '}' && depth === 0) return tokens;
        if (punct === '{') depth++;
        if (punct === '}') depth--;
        tokens.push({ kind: 'punct', value: punct, pos });
      }
    }
    return tokens;
  };
  return scan(false);
}

// ---- extraction -------------------------------------------------------------------------------

/** A message found in the source: static parts in order, with anything between them. */
interface Message {
  file: string;
  line: number;
  /** Static text of the literal, `${…}` parts left out. */
  parts: string[];
  /** For people: the parts joined by `<…>`. */
  text: string;
}

type Literal = { parts: string[] };

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/** Splits tokens at top-level occurrences of any of `separators`. */
function splitTop(tokens: Token[], separators: readonly string[]): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'punct' && OPEN.has(t.value)) depth++;
    if (t.kind === 'punct' && CLOSE.has(t.value)) depth--;
    if (depth === 0 && t.kind === 'punct' && separators.includes(t.value)) out.push([]);
    else out.at(-1)!.push(t);
  }
  return out;
}

/** The literal alternatives an expression can evaluate to (non-literal parts give none). */
function literalAlternatives(tokens: Token[]): Literal[] {
  let expr = tokens;
  // Strip wrapping parentheses.
  while (expr.length >= 2 && isPunct(expr[0], '(') && closing(expr, 0) === expr.length) {
    expr = expr.slice(1, -1);
  }
  if (expr.length === 0) return [];
  // [a, b, ...rest] — each element (a returned or assigned list of warnings).
  if (isPunct(expr[0], '[') && closing(expr, 0) === expr.length) {
    return splitTop(expr.slice(1, -1), [',']).flatMap(literalAlternatives);
  }
  // cond ? a : b — the first top-level `?` and its matching `:`.
  let depth = 0;
  let nested = 0;
  let question = -1;
  for (let k = 0; k < expr.length; k++) {
    const t = expr[k]!;
    if (t.kind !== 'punct') continue;
    if (OPEN.has(t.value)) depth++;
    else if (CLOSE.has(t.value)) depth--;
    else if (depth === 0 && t.value === '?') {
      if (question === -1) question = k;
      else nested++;
    } else if (depth === 0 && t.value === ':' && question !== -1) {
      if (nested > 0) nested--;
      else
        return [
          ...literalAlternatives(expr.slice(question + 1, k)),
          ...literalAlternatives(expr.slice(k + 1)),
        ];
    }
  }
  const choices = splitTop(expr, ['??', '||']);
  if (choices.length > 1) return choices.flatMap(literalAlternatives);
  const terms = splitTop(expr, ['+']);
  const parts: string[] = [''];
  for (const term of terms) {
    const alternatives = term.length === 1 ? literalOf(term[0]!) : undefined;
    if (!alternatives) return [];
    parts[parts.length - 1] += alternatives.parts[0]!;
    parts.push(...alternatives.parts.slice(1));
  }
  return [{ parts }];
}

function isPunct(t: Token | undefined, value: string): boolean {
  return t?.kind === 'punct' && t.value === value;
}

function literalOf(t: Token): Literal | undefined {
  if (t.kind === 'string') return { parts: [t.value] };
  if (t.kind === 'template') return { parts: [...t.quasis] };
  return undefined;
}

/** Index just after the bracket that closes the one at `open`. */
function closing(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind === 'punct' && OPEN.has(t.value)) depth++;
    if (t.kind === 'punct' && CLOSE.has(t.value)) depth--;
    if (depth === 0) return k + 1;
  }
  return tokens.length;
}

/** Tokens of an expression starting at `from`, up to a top-level `,`, `;` or closing bracket. */
function expressionAt(tokens: Token[], from: number): Token[] {
  let depth = 0;
  let k = from;
  for (; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== 'punct') continue;
    if (OPEN.has(t.value)) depth++;
    else if (CLOSE.has(t.value)) {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && (t.value === ',' || t.value === ';')) break;
  }
  return tokens.slice(from, k);
}

/** Names the top-level function around each position (declarations start at column 0). */
function enclosingFunction(src: string, pos: number): string | undefined {
  const before = src.slice(0, pos);
  const matches = [...before.matchAll(/^(?:export )?(?:async )?function\*? ?(\w+)/gm)];
  return matches.at(-1)?.[1];
}

/** Every message literal in `src`, in source order. */
function extractMessages(src: string, file: string): Message[] {
  const found: Array<{ pos: number; literal: Literal }> = [];
  const take = (pos: number, expr: Token[]) => {
    for (const literal of literalAlternatives(expr)) found.push({ pos, literal });
  };
  const walk = (tokens: Token[]) => {
    for (let k = 0; k < tokens.length; k++) {
      const t = tokens[k]!;
      if (t.kind === 'template') for (const expr of t.exprs) walk(expr);
      const next = tokens[k + 1];
      const prev = tokens[k - 1];
      if (t.kind === 'ident' && next?.kind === 'punct' && next.value === '(') {
        const isNewError = /Error$/.test(t.value) && prev?.kind === 'ident' && prev.value === 'new';
        const isCallee =
          MESSAGE_CALLEES.has(t.value) && !(prev?.kind === 'ident' && prev.value === 'function');
        const isPush =
          t.value === 'push' &&
          prev?.kind === 'punct' &&
          prev.value === '.' &&
          tokens[k - 2]?.kind === 'ident' &&
          MESSAGE_RECEIVERS.has((tokens[k - 2] as { value: string }).value);
        if (isNewError || isCallee || isPush || t.value === 'super') {
          const args = tokens.slice(k + 2, closing(tokens, k + 1) - 1);
          for (const arg of splitTop(args, [','])) take(t.pos, arg);
        }
      }
      if (
        t.kind === 'ident' &&
        MESSAGE_PROPERTIES.has(t.value) &&
        next?.kind === 'punct' &&
        next.value === ':' &&
        !(prev?.kind === 'punct' && prev.value === '?')
      ) {
        take(t.pos, expressionAt(tokens, k + 2));
      }
      if (
        t.kind === 'ident' &&
        MESSAGE_VARIABLES.has(t.value) &&
        !(prev?.kind === 'punct' && (prev.value === '.' || prev.value === '?.')) &&
        next?.kind === 'punct' &&
        next.value === '='
      ) {
        take(t.pos, expressionAt(tokens, k + 2));
      }
      if (t.kind === 'ident' && t.value === 'return') {
        const fn = enclosingFunction(src, t.pos);
        if (fn && MESSAGE_BUILDERS.has(fn)) take(t.pos, expressionAt(tokens, k + 1));
      }
    }
  };
  walk(tokenize(src));
  const messages: Message[] = [];
  const seen = new Set<string>();
  for (const { pos, literal } of found) {
    const parts = literal.parts.map(normalize).filter((p) => p !== '');
    // A literal without a space is a name or a key (a crash kind, a field path), not a sentence.
    if (parts.join('').length < MIN_STATIC_CHARS || !/\S\s/.test(literal.parts.join(''))) continue;
    const text = literal.parts.map((p) => p.replace(/\s+/g, ' ')).join('<…>');
    if (seen.has(text)) continue;
    seen.add(text);
    messages.push({ file, line: src.slice(0, pos).split('\n').length, parts, text });
  }
  return messages;
}

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The message as a pattern over whitespace-normalized text: static parts in order, anything between. */
function messagePattern(message: Pick<Message, 'parts'>): RegExp {
  const escaped = message.parts.map((p) =>
    p
      .split(' ')
      .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\s*'),
  );
  return new RegExp(escaped.join('[\\s\\S]*?'));
}

// ---- the doc ----------------------------------------------------------------------------------

/** A fenced `text` block of the doc: one documented message (or a few variants of one). */
interface DocBlock {
  line: number;
  text: string;
}

function docBlocks(markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = markdown.split('\n');
  for (let k = 0; k < lines.length; k++) {
    if (lines[k]!.trim() !== '```text') continue;
    const start = k + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    blocks.push({ line: start + 1, text: normalize(lines.slice(start, end).join('\n')) });
    k = end;
  }
  return blocks;
}

/** Which messages no block documents, and which blocks document no existing message. */
function compare(
  messages: readonly Message[],
  blocks: readonly DocBlock[],
): { missing: Message[]; stale: DocBlock[] } {
  const patterns = messages.map((m) => ({ m, re: messagePattern(m) }));
  const missing = patterns.filter(({ re }) => !blocks.some((b) => re.test(b.text))).map(({ m }) => m);
  const stale = blocks.filter((b) => !patterns.some(({ re }) => re.test(b.text)));
  return { missing, stale };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

function allMessages(): Message[] {
  return sourceFiles(path.join(root, 'src')).flatMap((file) =>
    extractMessages(readFileSync(file, 'utf8'), path.relative(root, file)),
  );
}

// ---- tests ------------------------------------------------------------------------------------

describe('docs/troubleshooting.md lists every message the action can print', () => {
  const messages = allMessages();
  const doc = readFileSync(DOC, 'utf8');
  const blocks = docBlocks(doc);

  it('documents every message found in src/ that a user can meet', () => {
    const { missing } = compare(
      messages.filter((m) => !isInternal(m)),
      blocks,
    );
    const list = missing.map((m) => `  ${m.file}:${m.line}: ${m.text}`).join('\n');
    expect(
      missing,
      `undocumented messages (add a \`\`\`text block to docs/troubleshooting.md):\n${list}`,
    ).toEqual([]);
  });

  it('lists no message that src/ no longer prints', () => {
    const { stale } = compare(messages, blocks);
    const list = stale.map((b) => `  docs/troubleshooting.md:${b.line}: ${b.text}`).join('\n');
    expect(stale, `documented messages that no longer exist in src/:\n${list}`).toEqual([]);
  });

  it('finds messages in every stage, so a broken extractor cannot pass silently', () => {
    const byFile = new Map<string, number>();
    for (const m of messages) byFile.set(m.file, (byFile.get(m.file) ?? 0) + 1);
    for (const file of [
      'src/settings/inputs.ts',
      'src/settings/protocol.ts',
      'src/event/plan.ts',
      'src/event/trust.ts',
      'src/action-flow.ts',
      'src/identity/data-snapshot.ts',
      'src/identity/hardware.ts',
      'src/run/command-line.ts',
      'src/run/execute.ts',
      'src/result/classify.ts',
      'src/state/atomic-file.ts',
      'src/state/machine-lock.ts',
      'src/verdict/decide.ts',
      'src/publish/publish-report.ts',
      'src/publish/results-commit.ts',
      'src/main.ts',
      'src/local-cli.ts',
    ]) {
      expect(byFile.get(file) ?? 0, file).toBeGreaterThan(0);
    }
    expect(messages.length).toBeGreaterThan(120);
    const texts = messages.map((m) => m.text);
    expect(texts).toContain('protocol file <…> cannot be read (<…>); set <…> to an existing JSON file');
    expect(texts).toContain('the job summary could not be written: <…>');
    expect(texts).toContain('expected true or false');
  });

  it('leaves out only internal checks that still exist', () => {
    for (const [file, start] of INTERNAL) {
      expect(
        messages.some((m) => m.file.startsWith(file) && m.text.startsWith(start)),
        `${file}: ${start}`,
      ).toBe(true);
    }
    expect(isInternal({ file: 'src/verdict/decide.ts', text: 'σ cannot be estimated from <…>' })).toBe(false);
    expect(isInternal({ file: 'src/verdict/statistics.ts', text: 'pooledSd: group <…> has n = <…>' })).toBe(
      true,
    );
    expect(
      isInternal({ file: 'src/state/machine-lock.ts', text: 'acquireMachineLock: holder.pid must be' }),
    ).toBe(true);
    expect(isInternal({ file: 'src/event/plan.ts', text: 'branch <…> does not match branch-pattern' })).toBe(
      false,
    );
  });

  it('leads with the common problems, symptom first', () => {
    const sections = [...doc.matchAll(/^## (.*)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(['Common problems', 'Message index']);
    const common = doc.slice(doc.indexOf('## Common problems'), doc.indexOf('## Message index'));
    const symptoms = [...common.matchAll(/^### (.*)$/gm)].map((m) => m[1]!);
    for (const topic of [/queued/, /comment/, /Node/, /baseline takes/, /protected/]) {
      expect(
        symptoms.some((title) => topic.test(title)),
        String(topic),
      ).toBe(true);
    }
  });

  it('gives every index entry a message, a cause and a fix', () => {
    const index = doc.slice(doc.indexOf('## Message index'));
    const entries = index.split(/^#### /m).slice(1);
    expect(entries.length).toBeGreaterThan(30);
    for (const entry of entries) {
      const title = entry.split('\n')[0];
      expect(entry, `entry "${title}"`).toMatch(/^```text$/m);
      expect(entry, `entry "${title}"`).toMatch(/\*\*Cause\.\*\*/);
      expect(entry, `entry "${title}"`).toMatch(/\*\*Fix\.\*\*/);
    }
  });
});

describe('the extractor', () => {
  const synthetic = `
    import { z } from 'zod';
    // throw new Error('a message in a comment is not printed');
    /* core.warning('nor one in a block comment') */
    const pattern = /throw new Error\\('inside a regular expression'\\)/;
    const ratio = total / count / 2; const note = 'throw new Error("inside a plain string")';
    export class WidgetError extends Error {}
    export function build(file: string, reason: string) {
      if (!file) throw new WidgetError('the widget cache is missing; run widgets init first');
      if (reason === '') throw new WidgetError(\`widget \${file} is broken: \${reason.trim()}\`);
      core.setFailed('autoresearch-ci: the widget ' + 'step failed');
      deps.warning(\`\${file} looks \${reason ? 'odd' : 'fine'}; widgets may be stale\`);
      errors.push(ok ? 'the widget was published twice' : \`the widget \${file} was not published\`);
      const why = a ?? 'no widget could be found';
      return { kind: 'skip', reason: \`widget \${file} skipped on purpose\` };
    }
  `;
  const messages = extractMessages(synthetic, 'synthetic.ts');
  const texts = messages.map((m) => m.text);

  it('takes literals in message positions, each interpolation a placeholder', () => {
    expect(texts).toEqual([
      'the widget cache is missing; run widgets init first',
      'widget <…> is broken: <…>',
      'autoresearch-ci: the widget step failed',
      '<…> looks <…>; widgets may be stale',
      'the widget was published twice',
      'the widget <…> was not published',
      'no widget could be found',
      'widget <…> skipped on purpose',
    ]);
  });

  it('makes the test fail for a new throw that the doc does not list', () => {
    const blocks = docBlocks(readFileSync(DOC, 'utf8'));
    const { missing } = compare(messages, blocks);
    expect(missing.map((m) => m.text)).toContain('the widget cache is missing; run widgets init first');
    expect(missing.find((m) => m.text.startsWith('the widget cache'))?.line).toBe(9);
  });

  it('matches a documented message with placeholders, and reports a block whose message is gone', () => {
    const doc = [
      '```text',
      'widget <file> is broken:',
      '  <reason>',
      '```',
      '```text',
      'the gizmo exploded',
      '```',
    ].join('\n');
    const { missing, stale } = compare(messages, docBlocks(doc));
    expect(missing.map((m) => m.text)).not.toContain('widget <…> is broken: <…>');
    expect(stale.map((b) => b.text)).toEqual(['the gizmo exploded']);
  });

  it('ignores messages with too little static text to look up, and names', () => {
    const src = `throw new Error(\`\${a}: \${b} (\${c})\`); crash('missing-metrics', reason, 'x');`;
    expect(extractMessages(src, 'x.ts')).toEqual([]);
  });

  it('finds the real doc stale or incomplete when one of its blocks is dropped', () => {
    const doc = readFileSync(DOC, 'utf8');
    const target = '```text\nthe job summary could not be written: <error>\n```';
    expect(doc).toContain(target);
    const { missing } = compare(
      allMessages().filter((m) => !isInternal(m)),
      docBlocks(doc.replace(target, '')),
    );
    expect(missing.map((m) => m.text)).toEqual(['the job summary could not be written: <…>']);
  });
});
