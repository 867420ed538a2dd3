// `npm run demo`: the full round trip on the example experiment (scripts/demo/round-trip.ts), which
// drives the built action, dist/index.js, against the local GitHub emulator.
import { runBundled } from './run-bundled.mjs';

await runBundled('scripts/demo/round-trip.ts');
