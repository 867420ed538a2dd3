/**
 * Makes untrusted text (training output, commit subjects, file names) safe to place in GitHub
 * markdown: it cannot escape its code block, inject HTML, ping people, leak tokens, or hide text
 * behind terminal or bidi tricks. Everything the training prints goes through here before it is
 * rendered.
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '[redacted]';

// ESC-based sequences: CSI (colours, cursor moves), OSC (titles, hyperlinks) ended by BEL or ST,
// charset selection, and any other two-byte escape. C1 CSI (0x9B) is the 8-bit form of ESC [.
const ANSI_SEQUENCE =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|\x1b[()*+][0-9A-Za-z]|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// C0 controls except tab and newline, DEL, C1 controls (\r is handled before this runs).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// Bidi embeddings/overrides/isolates and marks (Trojan Source), plus the BOM / zero-width no-break.
const INVISIBLE = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff]/g;

/**
 * Terminal output as a person would have seen it: ANSI sequences, control characters and bidi
 * controls removed; CRLF read as a newline; of each `\r`-separated line (progress bars redrawn in
 * place) only the last non-blank segment kept; trailing blanks trimmed.
 */
export function sanitizeTerminal(text: string): string {
  const lines = text
    .replace(ANSI_SEQUENCE, '')
    .replace(/\r\n/g, '\n')
    .replace(/[\u2028\u2029\x85]/g, '\n')
    .split('\n');
  return lines
    .map((line) => lastVisibleSegment(line).replace(CONTROL, '').replace(INVISIBLE, '').trimEnd())
    .join('\n');
}

function lastVisibleSegment(line: string): string {
  if (!line.includes('\r')) return line;
  const segments = line.split('\r');
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]!;
    if (segment.trim() !== '') return segment;
  }
  return '';
}

/** Token shapes replaced wholesale. Prefixes follow the issuers' documented formats. */
const TOKEN_PATTERNS: RegExp[] = [
  // GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens.
  /\bgh[pousr]_[A-Za-z0-9]{16,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  // AWS access key ids (long-term and temporary).
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  // Hugging Face user access tokens.
  /\bhf_[A-Za-z0-9]{20,}\b/g,
  // JSON Web Tokens (header.payload.signature, both JSON parts base64url of `{"`).
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
];

/** Token shapes where a recognisable prefix is kept so the reader knows what was there. */
const KEEP_PREFIX_PATTERNS: Array<[RegExp, string]> = [
  [/x-access-token:[^@\s]+@/gi, `x-access-token:${REDACTED}@`],
  // A digit is required so prose ("the bearer of …") stays intact; real credentials have one.
  [/\bBearer\s+(?=[A-Za-z._~+/-]*\d)[A-Za-z0-9._~+/-]{16,}=*/gi, `Bearer ${REDACTED}`],
  // HTTP `Authorization: token …` / `Basic …` headers echoed by clients.
  [/\b(Authorization:\s*(?:token|basic))\s+[A-Za-z0-9._~+/-]{8,}=*/gi, `$1 ${REDACTED}`],
  // Credentials embedded in any URL: scheme://user:password@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]+):[^\s/@]+@/gi, `$1:${REDACTED}@`],
];

// `token=…`, `api_token: …`, `password=…`, `client_secret=…`, optionally quoted.
const ASSIGNED_SECRET =
  /\b([\w-]*?(?:token|passw(?:or)?d|secret))(\s*[=:]\s*)(["']?)([A-Za-z0-9+/_.=-]{16,})/gi;

/**
 * Replaces token-like strings with `[redacted]`: GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`,
 * `ghr_`, `github_pat_`), `x-access-token:…@`, `Bearer …`, URL passwords, AWS key ids, Hugging
 * Face `hf_` tokens, JSON Web Tokens, and long high-entropy values assigned to `token=`, `password=`, `secret=`.
 */
export function redactSecrets(text: string): string {
  let out = text;
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, REDACTED);
  for (const [pattern, replacement] of KEEP_PREFIX_PATTERNS) out = out.replace(pattern, replacement);
  return out.replace(ASSIGNED_SECRET, (match, key: string, sep: string, quote: string, value: string) =>
    looksRandom(value) ? `${key}${sep}${quote}${REDACTED}` : match,
  );
}

/**
 * A value looks like a generated secret when it mixes many distinct characters: ≥ 3 bits of
 * Shannon entropy per character. Paths and words (`/usr/local/share/…`) stay readable.
 */
function looksRandom(value: string): boolean {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy >= 3 && /\d/.test(value);
}

/** Sanitised and redacted: the form in which untrusted text may be shown anywhere. */
export function cleanUntrusted(text: string): string {
  return redactSecrets(sanitizeTerminal(text));
}

/**
 * A fenced code block that shows `text` literally. The fence is one backtick longer than the
 * longest backtick run inside (minimum 3), so the content cannot close it early; the language tag
 * is reduced to letters, digits, `+`, `-` and `_`.
 */
export function codeBlock(text: string, lang = ''): string {
  return fenceClean(cleanUntrusted(text), lang);
}

/**
 * {@link codeBlock} for text that already went through {@link cleanUntrusted}: lets a caller
 * clean a large log once and fence several cuts of it.
 */
export function fenceClean(clean: string, lang = ''): string {
  const body = clean.replace(/\n+$/, '');
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  const tag = lang.replace(/[^A-Za-z0-9+_-]/g, '').slice(0, 20);
  return `${fence}${tag}\n${body}\n${fence}`;
}

function longestRun(text: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === ch ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/**
 * Untrusted text for use outside code blocks, in prose and table cells: one line, at most `max`
 * characters before escaping (an ellipsis marks a cut), with markdown and HTML made inert and
 * `@mentions`, `#123` / `GH-123` references broken by a zero-width joiner so nobody is notified.
 */
export function inlineText(text: string, max: number): string {
  if (!Number.isInteger(max) || max < 1) {
    throw new RangeError(`inlineText: max must be a positive integer, got ${String(max)}`);
  }
  const oneLine = cleanUntrusted(text).replace(/\s+/g, ' ').trim();
  return escapeInline(truncate(oneLine, max));
}

/** Cuts to at most `max` code points, ending with `…` when something was cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

const ZWJ = '\u200d';

function escapeInline(text: string): string {
  const escaped = text
    // Backslash first, so input cannot undo the escapes added below.
    .replace(/\\/g, '\\\\')
    // GitHub links a mention or reference only when the name/number follows the sigil directly.
    // Done before the entities below, whose own `#` must stay intact.
    .replace(/@(?=[A-Za-z0-9])/g, `@${ZWJ}`)
    .replace(/#(?=\d)/g, `#${ZWJ}`)
    .replace(/\b(GH)-(?=\d)/gi, `$1-${ZWJ}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    // Entities rather than backslashes for ` and |: GFM splits table cells before it reads escapes.
    .replace(/`/g, '&#96;')
    .replace(/\|/g, '&#124;')
    .replace(/[*_[\]~$]/g, (ch) => `\\${ch}`);
  // Block syntax only matters at the start of a line: headings, lists, setext underlines.
  return escaped.replace(/^(#|[-+=]|\d+(?=[.)]))/, (m) => (/^\d/.test(m) ? `${m}\\` : `\\${m}`));
}
