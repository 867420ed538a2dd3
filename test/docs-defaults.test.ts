import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { runCli } from '../src/local-cli.js';
import { INPUT_DEFAULTS } from '../src/settings/inputs.js';

/**
 * The README's tables of inputs, outputs and CLI options, and the defaults its prose quotes, are
 * what action.yml, src/settings/inputs.ts and the CLI say: a changed default fails here until the
 * documentation says it too.
 */

const root = path.resolve(import.meta.dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const action = YAML.parse(readFileSync(path.join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { description: string; default: string }>;
  outputs: Record<string, { description: string }>;
};

/** The rows of the markdown table whose header row starts with `| first |`, as cells. */
function tableAfter(markdown: string, first: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  if (start === -1) throw new Error(`no table headed "${first}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** `` `x` `` → x, and `""` (the README's spelling of an empty default) → the empty string. */
function unquote(cell: string): string {
  const code = /^`(.*)`$/.exec(cell)?.[1] ?? cell;
  return code === '""' ? '' : code;
}

/** The option lines of `autoresearch-ci --help`: flag → its text. */
async function helpOptions(): Promise<Map<string, string>> {
  let out = '';
  const code = await runCli(['--help'], {
    out: (text) => {
      out += text;
    },
    err: () => {},
    env: {},
    cwd: root,
  });
  expect(code).toBe(0);
  const options = new Map<string, string>();
  for (const m of out.matchAll(/^\s+(-h, --help|--[a-z-]+)(?: [A-Z]+)?\s{2,}(.*)$/gm)) {
    options.set(m[1]!, m[2]!);
  }
  return options;
}

describe('README inputs and outputs', () => {
  it("list action.yml's inputs in its order, with its defaults and descriptions", () => {
    const rows = tableAfter(readme, 'input');
    expect(rows.map(([name]) => unquote(name!))).toEqual(Object.keys(action.inputs));
    for (const [name, defaultCell, description] of rows) {
      const input = action.inputs[unquote(name!)]!;
      expect(unquote(defaultCell!), `default of ${name}`).toBe(input.default);
      expect(description, `description of ${name}`).toBe(input.description);
    }
  });

  it("list action.yml's outputs in its order, with its descriptions", () => {
    const rows = tableAfter(readme, 'output');
    expect(rows.map(([name]) => unquote(name!))).toEqual(Object.keys(action.outputs));
    for (const [name, description] of rows) {
      expect(description, `description of ${name}`).toBe(action.outputs[unquote(name!)]!.description);
    }
  });

  it('match the defaults the code falls back to (src/settings/inputs.ts)', () => {
    const declared = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default]));
    expect(INPUT_DEFAULTS).toEqual(declared);
  });

  it('quote the baseline repeats default where the prose names it', () => {
    const runs = INPUT_DEFAULTS['baseline-repeats'];
    expect(readme).toContain(`runs the unchanged \`train.py\` ${runs} times (\`baseline-repeats\`)`);
    expect(readme).toContain(`${runs} by default).`);
    const example = readFileSync(path.join(root, 'examples/autoresearch.yml'), 'utf8');
    expect(example).toContain(`empty for the baseline-repeats input, ${runs} by default`);
  });
});

describe('README CLI options', () => {
  const rows = tableAfter(readme, 'option');
  const byFlag = new Map(rows.map(([option, meaning]) => [option!.split(' ')[0]!, meaning!]));

  it('are the options `autoresearch-ci --help` prints', async () => {
    const help = await helpOptions();
    expect(help.size).toBeGreaterThan(5);
    expect([...byFlag.keys()].map((f) => (f === '-h,' ? '-h, --help' : f)).sort()).toEqual(
      [...help.keys()].sort(),
    );
  });

  it('give the defaults the code uses', async () => {
    const flagInput: Record<string, keyof typeof INPUT_DEFAULTS> = {
      '--state-dir': 'state-dir',
      '--cache-dir': 'cache-dir',
      '--confidence': 'confidence',
      '--min-improvement': 'min-improvement',
    };
    const help = await helpOptions();
    for (const [flag, input] of Object.entries(flagInput)) {
      const stated = /default `?([^`)]+)`?\)/.exec(byFlag.get(flag) ?? '')?.[1];
      expect(stated, `README default of ${flag}`).toBe(INPUT_DEFAULTS[input]);
      expect(help.get(flag), `--help of ${flag}`).toContain(`default ${INPUT_DEFAULTS[input]}`);
    }
    const run = INPUT_DEFAULTS.repeats;
    const baseline = INPUT_DEFAULTS['baseline-repeats'];
    expect(byFlag.get('--repeats')).toBe(
      `runs: \`run\` ${run} by default, \`baseline\` ${baseline} by default`,
    );
    expect(help.get('--repeats')).toMatch(
      new RegExp(`run: default ${run}\\b.*baseline: default ${baseline}\\b`),
    );
    expect(readme).toMatch(
      new RegExp(`autoresearch-ci baseline .*# ${baseline} runs of the current train.py`),
    );
  });
});

describe('the table reader', () => {
  it('reads the rows under a header and stops at the first line that is not a row', () => {
    const md = 'x\n| input | default |\n| --- | --- |\n| `a` | `""` |\n| `b` | `1` |\n\n| c | d |';
    expect(tableAfter(md, 'input').map((r) => r.map(unquote))).toEqual([
      ['a', ''],
      ['b', '1'],
    ]);
    expect(() => tableAfter(md, 'output')).toThrow('no table headed "output"');
  });
});
