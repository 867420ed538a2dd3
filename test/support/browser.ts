/**
 * Renders a PR comment the way GitHub shows it, in headless Chromium: GFM markdown through
 * `marked` (raw HTML passes through, so `<details>`, `<summary>` and `<sub>` work and any HTML a
 * comment let through would come alive), `@user` mentions and `#123` references linked outside
 * code as GitHub links them, and mermaid blocks drawn by the mermaid bundle from node_modules.
 * The browser is offline: the page and the mermaid bundle are read from disk (a file loads in a
 * fraction of the time the same 5 MB takes through the DevTools protocol), and every other request
 * is refused and recorded.
 * Which browser runs is test/support/chromium.ts's choice (the packaged one, or `CHROMIUM_PATH`).
 *
 * Used by test/render-in-browser.test.ts and scripts/screenshot-comment.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Marked, type Tokens } from 'marked';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { findChromium } from './chromium.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Headless, no GPU, and no background traffic of its own (updates, sync, QUIC probes). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The mermaid bundle GitHub-style diagrams are drawn with, loaded from disk (no network). */
export const MERMAID_BUNDLE = path.join(root, 'node_modules/mermaid/dist/mermaid.min.js');

/** Width of the comment box, about that of a PR conversation column. */
const COMMENT_WIDTH = 780;

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The comment's markdown as HTML: GFM (tables, fenced code, autolinks), raw HTML passed through
 * unchanged (marked's default), and ```` ```mermaid ```` blocks turned into
 * `<pre class="mermaid">` for mermaid to draw, as GitHub does.
 */
export function markdownToHtml(markdown: string): string {
  const marked = new Marked({
    gfm: true,
    renderer: {
      code(token: Tokens.Code): string | false {
        if (token.lang?.trim() !== 'mermaid') return false;
        return `<pre class="mermaid">${escapeHtml(token.text)}</pre>\n`;
      },
    },
  });
  return marked.parse(markdown, { async: false });
}

/** GitHub's light-theme look of a PR comment, enough for layout and screenshots. */
const CSS = `
* { box-sizing: border-box; }
body { margin: 0; padding: 16px; background: #ffffff; color: #1f2328;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif,
    "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji";
  font-size: 14px; line-height: 1.5; }
.timeline-comment { width: ${COMMENT_WIDTH}px; border: 1px solid #d0d7de; border-radius: 6px; background: #ffffff; }
.timeline-comment-header { display: flex; align-items: center; gap: 8px; padding: 8px 16px;
  background: #f6f8fa; border-bottom: 1px solid #d0d7de; border-radius: 6px 6px 0 0; color: #59636e; }
.timeline-comment-header .avatar { width: 20px; height: 20px; border-radius: 50%; background: #2da44e; }
.timeline-comment-header .author { font-weight: 600; color: #1f2328; }
.timeline-comment-header .label { border: 1px solid #d0d7de; border-radius: 2em; padding: 0 7px;
  font-size: 12px; font-weight: 500; }
.markdown-body { padding: 16px; word-wrap: break-word; }
.markdown-body > *:first-child { margin-top: 0 !important; }
.markdown-body > *:last-child { margin-bottom: 0 !important; }
.markdown-body p, .markdown-body blockquote, .markdown-body ul, .markdown-body ol, .markdown-body table,
.markdown-body pre, .markdown-body details { margin-top: 0; margin-bottom: 16px; }
.markdown-body h1, .markdown-body h2, .markdown-body h3 { margin-top: 24px; margin-bottom: 16px;
  font-weight: 600; line-height: 1.25; }
.markdown-body h3 { font-size: 1.25em; }
.markdown-body a { color: #0969da; text-decoration: none; }
.markdown-body a.user-mention, .markdown-body a.issue-link { font-weight: 600; }
.markdown-body code { padding: .2em .4em; margin: 0; font-size: 85%; white-space: break-spaces;
  background: rgba(129, 139, 152, .12); border-radius: 6px;
  font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; }
.markdown-body pre { padding: 16px; overflow: auto; font-size: 85%; line-height: 1.45;
  background: #f6f8fa; border-radius: 6px; }
.markdown-body pre code { padding: 0; background: transparent; font-size: 100%; white-space: pre; }
.markdown-body pre.mermaid { background: #ffffff; padding: 0; text-align: center; }
.markdown-body table { display: block; width: max-content; max-width: 100%; overflow: auto;
  border-spacing: 0; border-collapse: collapse; }
.markdown-body table th { font-weight: 600; }
.markdown-body table th, .markdown-body table td { padding: 6px 13px; border: 1px solid #d0d7de; }
.markdown-body table tr { background: #ffffff; border-top: 1px solid #d1d9e0; }
.markdown-body table tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d0d7de; }
.markdown-body ul { padding-left: 2em; }
.markdown-body summary { cursor: pointer; }
.markdown-body details[open] > summary { margin-bottom: 16px; }
.markdown-body sub { font-size: 75%; color: #1f2328; }
`;

/** Options of {@link commentPageHtml}. */
export interface PageOptions {
  /** Shown in the comment header (default `github-actions`). */
  author?: string;
}

/** A whole page holding one PR comment: header, then the rendered markdown in `#comment-body`. */
export function commentPageHtml(markdown: string, opts: PageOptions = {}): string {
  const author = escapeHtml(opts.author ?? 'github-actions');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PR comment</title><style>${CSS}</style></head>
<body>
<div class="timeline-comment" id="comment">
<div class="timeline-comment-header"><span class="avatar"></span><span class="author">${author}</span><span class="label">bot</span><span>commented</span></div>
<div class="markdown-body" id="comment-body">
${markdownToHtml(markdown)}
</div>
</div>
</body></html>`;
}

/**
 * Links `@user` mentions and `#123` references in text outside `code`, `pre` and links, with
 * GitHub's rule: the sigil follows the start or a non-word character and is directly followed
 * by the name or number. Runs in the page.
 */
function linkMentions(): void {
  // The project compiles without the DOM library: the page's globals are reached untyped.
  const doc = (globalThis as any).document;
  const SHOW_TEXT = 4;
  const ACCEPT = 1;
  const REJECT = 2;
  const body = doc.getElementById('comment-body');
  if (!body) return;
  const pattern = /(^|[^A-Za-z0-9_`/])(?:@([A-Za-z0-9][A-Za-z0-9-]{0,38})|#(\d+))(?![A-Za-z0-9_-])/g;
  const walker = doc.createTreeWalker(body, SHOW_TEXT, {
    acceptNode: (node: any) => (node.parentElement?.closest('code, pre, a, script, style') ? REJECT : ACCEPT),
  });
  const texts: any[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node);
  for (const text of texts) {
    const value: string = text.data;
    pattern.lastIndex = 0;
    if (!pattern.test(value)) continue;
    pattern.lastIndex = 0;
    const fragment = doc.createDocumentFragment();
    let at = 0;
    for (let m = pattern.exec(value); m; m = pattern.exec(value)) {
      const start = m.index + m[1]!.length;
      fragment.append(value.slice(at, start));
      const link = doc.createElement('a');
      if (m[2] !== undefined) {
        link.className = 'user-mention';
        link.href = `https://github.com/${m[2]}`;
        link.textContent = `@${m[2]}`;
      } else {
        link.className = 'issue-link';
        link.href = `https://github.com/issues/${m[3]}`;
        link.textContent = `#${m[3]}`;
      }
      fragment.append(link);
      at = m.index + m[0].length;
    }
    fragment.append(value.slice(at));
    text.replaceWith(fragment);
  }
}

/** How mermaid fared on the page. */
export interface MermaidResult {
  /** `<pre class="mermaid">` blocks on the page. */
  blocks: number;
  /** Whether `mermaid.run()` resolved. */
  ok: boolean;
  /** The error it rejected with, if any. */
  error?: string;
}

/** One comment loaded in a page, and what happened while it rendered. */
export interface RenderedComment {
  page: Page;
  mermaid: MermaidResult;
  /** Requests the page tried to make (all refused: the browser is offline). */
  requests: string[];
  /** `alert`/`confirm`/`prompt` dialogs some script opened (dismissed). */
  dialogs: string[];
  /** Uncaught errors in the page. */
  pageErrors: string[];
}

/** A running Chromium that renders comments; {@link CommentBrowser.close} removes its profile. */
export interface CommentBrowser {
  render(markdown: string, opts?: PageOptions): Promise<RenderedComment>;
  /** Loads a whole HTML page as it is (no markdown, no mermaid), offline. */
  open(html: string): Promise<Omit<RenderedComment, 'mermaid'>>;
  close(): Promise<void>;
}

/**
 * Starts Chromium with a fresh user-data dir. Throws, naming the browser and what went wrong,
 * when it cannot start: a test that needs it must fail, not skip.
 */
export async function launchCommentBrowser(): Promise<CommentBrowser> {
  const browser = await findChromium();
  const mermaidUrl = pathToFileURL(MERMAID_BUNDLE).href;
  const profile = await mkdtemp(path.join(tmpdir(), 'arci-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: browser.executablePath,
      env: { ...process.env, ...browser.env },
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: COMMENT_WIDTH + 32, height: 900 },
      deviceScaleFactor: 1,
      offline: true,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(`Chromium from ${browser.source} did not start: ${(error as Error).message}`);
  }
  for (const page of context.pages()) await page.close();
  let pages = 0;

  /**
   * Loads `html` from a file in a fresh page; every request other than that file and `allowed`
   * is refused and recorded, dialogs are dismissed and recorded, page errors collected.
   */
  async function load(name: string, html: string, allowed: readonly string[] = []) {
    const page = await context.newPage();
    const requests: string[] = [];
    const dialogs: string[] = [];
    const pageErrors: string[] = [];
    const file = path.join(profile, `${name}-${++pages}.html`);
    const permitted = new Set([pathToFileURL(file).href, ...allowed]);
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (permitted.has(url)) return route.continue();
      requests.push(url);
      return route.abort();
    });
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await writeFile(file, html);
    await page.goto(pathToFileURL(file).href);
    return { page, requests, dialogs, pageErrors };
  }

  return {
    async render(markdown, opts = {}) {
      const loaded = await load('comment', commentPageHtml(markdown, opts), [mermaidUrl]);
      const { page } = loaded;
      await page.evaluate(linkMentions);
      await page.addScriptTag({ url: mermaidUrl });
      const mermaid = await page.evaluate(async (): Promise<MermaidResult> => {
        const m = (globalThis as any).mermaid;
        const blocks = (globalThis as any).document.querySelectorAll('pre.mermaid').length;
        m.initialize({ startOnLoad: false, securityLevel: 'strict' });
        try {
          await m.run({ querySelector: 'pre.mermaid' });
          return { blocks, ok: true };
        } catch (error) {
          return { blocks, ok: false, error: String((error as Error)?.message ?? error) };
        }
      });
      return { ...loaded, mermaid };
    },
    open: (html) => load('page', html),
    async close() {
      try {
        await context.close();
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
    },
  };
}
