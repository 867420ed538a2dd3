// Regenerates the "Demo output" section of README.md from a real `npm run demo` run, so the README
// shows exactly what the demo prints. test/readme-demo.test.ts checks the two still agree.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const START = '<!-- demo:start -->';
const END = '<!-- demo:end -->';

/** Runs the demo and returns what it printed. */
export function runDemo() {
  return execFileSync(process.execPath, [path.join(root, 'scripts/demo.mjs')], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** The README block for a demo output: a fence longer than any backtick run inside it. */
export function demoBlock(output) {
  const longest = Math.max(2, ...[...output.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${START}\n${fence}text\n${output.trimEnd()}\n${fence}\n${END}`;
}

/** The demo output currently in README.md. */
export function readmeDemo(readme) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end === -1) throw new Error(`README.md lacks the ${START} / ${END} markers`);
  const block = readme.slice(start + START.length, end).trim();
  const lines = block.split('\n');
  return lines.slice(1, -1).join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = path.join(root, 'README.md');
  const readme = readFileSync(file, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END) + END.length;
  writeFileSync(file, readme.slice(0, start) + demoBlock(runDemo()) + readme.slice(end));
  console.log('README.md demo output updated');
}
