// `npx node scripts/screenshot-comment.mjs [--out FILE]`: runs scripts/screenshot-comment.ts, which
// drives the built action against the local GitHub emulator on the example experiment, renders the
// resulting sticky comment in headless Chromium and writes docs/comment-screenshot.png.
// Needs Chromium at /usr/bin/chromium (or CHROMIUM_PATH) and python3.
import { runBundled } from './run-bundled.mjs';

await runBundled('scripts/screenshot-comment.ts', { args: process.argv.slice(2) });
