// `npx node scripts/screenshot-comment.mjs [--out FILE]`: runs scripts/screenshot-comment.ts, which
// drives the built action against the local GitHub emulator on the example experiment, renders the
// resulting sticky comment in headless Chromium and writes docs/comment-screenshot.png.
// Needs python3; the browser is the one the tests use (test/support/chromium.ts).
import { runBundled } from './run-bundled.mjs';

await runBundled('scripts/screenshot-comment.ts', { args: process.argv.slice(2) });
