/**
 * Reading a finished run: parseSummary + classifyOutcome on a ~100 MB log (a runaway progress
 * printer), and parseSummary on each fixture log. Prints a markdown table with the goal per row.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProcessExit } from '../src/model.js';
import { classifyOutcome } from '../src/result/classify.js';
import { parseSummary } from '../src/result/summary.js';
import { builtinProtocol } from '../src/settings/protocol.js';

const root = process.env.BENCH_ROOT ?? process.cwd();
const logs = path.join(root, 'test/fixtures/logs');
const protocol = builtinProtocol();
const TARGET_BYTES = 100 * 1024 * 1024;
const SUMMARY =
  '---\nval_bpb:          1.807902\ntraining_seconds: 302.4\ntotal_seconds:    352.3\npeak_vram_mb:     21196.8\n';

/** A progress line of `\r` segments as train.py prints them, flattened like a log read from disk. */
function hugeProgress(bytes: number): string {
  const segment =
    '\rstep 01319 (100.0%) | loss: 3.107894 | lrm: 1.00 | dt: 230ms | tok/sec: 284,939 | epoch: 1 | remaining: 0s    ';
  const rope = 'Data/tokenizer loaded in 2.4s\n' + segment.repeat(Math.ceil(bytes / segment.length)) + '\n';
  // `repeat` builds a rope; a log read from a file is one flat string, so measure on that.
  return Buffer.from(rope, 'latin1').toString('latin1');
}

/** Median wall time of `fn` in milliseconds over `runs` runs (after one warm-up). */
function median(runs: number, fn: () => unknown): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const exit0: ProcessExit = {
  exitCode: 0,
  signal: null,
  timedOut: false,
  cancelled: false,
  durationMs: 352_000,
};
const exit1: ProcessExit = { ...exit0, exitCode: 1 };

function judge(log: string, exit: ProcessExit): string {
  const summary = parseSummary(log, protocol);
  const outcome = classifyOutcome({ exit, tail: log, summary, protocol, tampered: [] });
  return outcome.status === 'ok' ? 'ok' : outcome.kind;
}

interface Row {
  label: string;
  ms: number;
  goalMs: number;
  correct: boolean;
}
const rows: Row[] = [];
const progress = hugeProgress(TARGET_BYTES);
const mb = (text: string) => `${(text.length / 1024 / 1024).toFixed(0)} MB`;

const withSummary = progress + SUMMARY;
rows.push({
  label: `parse + classify, ${mb(withSummary)} log ending in a summary`,
  ms: median(5, () => judge(withSummary, exit0)),
  goalMs: 1000,
  correct: judge(withSummary, exit0) === 'ok',
});

const noSummary = progress;
rows.push({
  label: `parse + classify, ${mb(noSummary)} progress only, no "---", exit 1`,
  ms: median(5, () => judge(noSummary, exit1)),
  goalMs: 1000,
  correct: judge(noSummary, exit1) === 'exception',
});

const earlyBlock = `${SUMMARY}${progress}`;
rows.push({
  label: `parse only, ${mb(earlyBlock)} log whose last "---" is at the start`,
  ms: median(5, () => parseSummary(earlyBlock, protocol)),
  goalMs: 1000,
  correct: parseSummary(earlyBlock, protocol).primary === 1.807902,
});

for (const name of readdirSync(logs).sort()) {
  const text = readFileSync(path.join(logs, name), 'utf8');
  const kb = (Buffer.byteLength(text) / 1024).toFixed(1);
  rows.push({
    label: `parse only, ${name} (${kb} KB)`,
    ms: median(200, () => parseSummary(text, protocol)),
    goalMs: 5,
    correct: true,
  });
}

console.log('| case | median ms | goal ms | |');
console.log('| --- | ---: | ---: | --- |');
for (const row of rows) {
  const verdict = !row.correct ? 'WRONG RESULT' : row.ms <= row.goalMs ? 'ok' : 'SLOW';
  const digits = row.ms < 1 ? 4 : 1;
  console.log(`| ${row.label} | ${row.ms.toFixed(digits)} | ≤ ${row.goalMs} | ${verdict} |`);
}
