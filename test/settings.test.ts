import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  INPUT_DEFAULTS,
  InputError,
  readDispatchRepeats,
  readSettings,
  withDefaults,
} from '../src/settings/inputs.js';

const root = path.resolve(import.meta.dirname, '..');
const action = YAML.parse(readFileSync(path.join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
};
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** An input reader over a plain object, defaulting like the runner does (action.yml defaults). */
function runnerInputs(overrides: Record<string, string> = {}) {
  return (name: string) => overrides[name] ?? String(action.inputs[name]?.default ?? '');
}

describe('action.yml, settings and README agree', () => {
  it('declares exactly the inputs the settings parser reads, with the same defaults', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(INPUT_DEFAULTS).sort());
    for (const [name, spec] of Object.entries(action.inputs)) {
      expect(String(spec.default ?? ''), `default of ${name}`).toBe(
        INPUT_DEFAULTS[name as keyof typeof INPUT_DEFAULTS],
      );
      expect(spec.description.length, `description of ${name}`).toBeGreaterThan(20);
    }
    const read = new Set<string>();
    readSettings((name) => {
      read.add(name);
      return runnerInputs()(name);
    });
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it('runs on node24 from the committed bundle', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  });

  it('documents every input and output in the README tables', () => {
    const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
    const documented = rows.map((l) => /^\| `([^`]+)`/.exec(l)![1]);
    expect(documented.sort()).toEqual([...Object.keys(action.inputs), ...Object.keys(action.outputs)].sort());
    for (const [name, spec] of Object.entries(action.inputs)) {
      const row = rows.find((l) => l.startsWith(`| \`${name}\` |`))!;
      expect(row, name).toContain(spec.description.replace(/\|/g, '\\|'));
    }
  });
});

describe('readSettings', () => {
  it('turns the runner defaults into typed settings', () => {
    const s = readSettings(runnerInputs({ 'github-token': 'ghs_abc' }), '/work/repo');
    expect(s).toEqual({
      mode: 'auto',
      workingDirectory: '/work/repo',
      cacheDir: path.join(homedir(), '.cache/autoresearch'),
      stateDir: path.join(homedir(), '.autoresearch-ci'),
      offline: true,
      repeats: 1,
      baselineRepeats: 8,
      minImprovement: 0,
      confidence: 0.95,
      decision: 'loop',
      force: false,
      resultsBranch: 'autoresearch-results',
      resultsPath: '{branch}/{runner}/results.tsv',
      comment: true,
      allowForks: false,
      branchPattern: 'autoresearch/*',
      baselineBranches: [],
      failOn: 'crash',
      githubToken: 'ghs_abc',
    });
  });

  it('resolves paths against the working directory and reads overrides', () => {
    const s = readSettings(
      runnerInputs({
        'working-directory': 'exp',
        protocol: 'p/protocol.json',
        command: 'python train.py',
        'timeout-seconds': '60',
        offline: 'FALSE',
        'results-branch': '',
      }),
      '/w',
    );
    expect(s.workingDirectory).toBe('/w/exp');
    expect(s.protocolPath).toBe('/w/exp/p/protocol.json');
    expect(s.command).toBe('python train.py');
    expect(s.timeoutSeconds).toBe(60);
    expect(s.offline).toBe(false);
    expect(s.resultsBranch).toBe('');
  });

  it('fills unset inputs with the defaults for local runs, where no runner does', () => {
    expect(() => readSettings(() => '', '/w')).toThrow(/input 'mode' has value ''/);
    const s = readSettings(
      withDefaults(() => ''),
      '/w',
    );
    expect(s.repeats).toBe(1);
    expect(s.githubToken).toBe('');
    expect(s.resultsBranch).toBe('autoresearch-results');
  });

  it.each([
    ['mode', 'fast', /input 'mode' has value 'fast': expected auto, experiment or baseline/],
    ['repeats', '0', /input 'repeats' has value '0': expected a whole number from 1 to 20/],
    ['repeats', 'two', /input 'repeats' has value 'two'/],
    ['baseline-repeats', '1', /input 'baseline-repeats' has value '1': expected a whole number from 2 to 50/],
    [
      'confidence',
      '1.5',
      /input 'confidence' has value '1.5': expected a probability between 0.5 and 0.9999/,
    ],
    ['offline', 'yes', /input 'offline' has value 'yes': expected true or false/],
    [
      'timeout-seconds',
      '-3',
      /input 'timeout-seconds' has value '-3': expected a positive number of seconds/,
    ],
    ['decision', 'greedy', /input 'decision' has value 'greedy': expected loop or strict/],
    ['fail-on', 'always', /input 'fail-on' has value 'always': expected crash, regression or never/],
    ['min-improvement', 'abc', /input 'min-improvement' has value 'abc'/],
  ])('rejects %s=%s naming the input, value and what is accepted', (name, value, message) => {
    expect(() => readSettings(runnerInputs({ [name]: value }))).toThrow(InputError);
    expect(() => readSettings(runnerInputs({ [name]: value }))).toThrow(message);
  });
});

describe('readDispatchRepeats', () => {
  it('holds the workflow_dispatch repeats input to the bounds of baseline-repeats', () => {
    expect(readDispatchRepeats(undefined)).toBeUndefined();
    expect(readDispatchRepeats('')).toBeUndefined();
    expect(readDispatchRepeats(' 5 ')).toBe(5);
    expect(readDispatchRepeats('50')).toBe(50);
    expect(() => readDispatchRepeats('1')).toThrow(
      new InputError(
        "workflow_dispatch input 'repeats' has value '1': expected a whole number from 2 to 50.",
      ),
    );
    expect(() => readDispatchRepeats('51')).toThrow(
      "workflow_dispatch input 'repeats' has value '51': expected at most 50.",
    );
    expect(() => readDispatchRepeats('lots')).toThrow(InputError);
    expect(() => readDispatchRepeats('2.5')).toThrow(/has value '2\.5'/);
  });
});

describe('outputs', () => {
  it('action.yml declares exactly the outputs the action sets', async () => {
    const { OUTPUT_NAMES } = await import('../src/publish/outputs.js');
    expect(Object.keys(action.outputs)).toEqual([...OUTPUT_NAMES]);
  });
});
