import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without type declarations
import { demoBlock, readmeDemo, runDemo } from '../scripts/readme-demo.mjs';

const root = path.resolve(import.meta.dirname, '..');

/** Warnings about the machine's load during a run: they come and go with it, not with the code. */
const MACHINE_WARNING = /^- (?:environment suspect:|training_seconds is )/;

/** The warnings block without the machine's warnings; gone when nothing else is left. */
function dropMachineWarnings(text: string): string {
  return text.replace(/^\*\*Warnings\*\*\n\n((?:- .*(?:\n|$))+)\n?/gm, (_block, items: string) => {
    const kept = items.split('\n').filter((line) => line !== '' && !MACHINE_WARNING.test(line));
    return kept.length > 0 ? `**Warnings**\n\n${kept.join('\n')}\n\n` : '';
  });
}

/**
 * The decision's explanation with each line cut to its lead: whether the champion needed a control
 * run, and how drift and the prior read, follow the measured noise, so only the explanation's
 * structure is the code's.
 */
function whyLeads(text: string): string {
  return text.replace(/^\*\*Why\*\*\n\n((?:- .*(?:\n|$))+)/gm, (_block, items: string) => {
    const leads = items
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split(' ').slice(0, 3).join(' '));
    return `**Why**\n\n${leads.join('\n')}\n`;
  });
}

/**
 * The demo output with what differs between two runs of the same code made uniform: measured
 * numbers (the example trains for a wall-clock budget, so its val_bpb, steps and σ follow the
 * machine's speed), commit shas and dates (new commits each time), temp paths, the machine's
 * hardware label and the warnings about its load. Every line, word, verdict and status stays.
 */
function shape(text: string): string {
  return (
    whyLeads(dropMachineWarnings(text))
      .replace(/\/tmp\/\S+/g, '<tmp>')
      .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, '<date>')
      .replace(/\b[0-9a-f]{7,40}\b/g, '<sha>')
      .replace(/(mac-studio-1) · [^·\n]+ · [^·\n]+ ·/g, '$1 · <hardware> ·')
      .replace(/\d+/g, 'N')
      .replace(/N([.,]N)+/g, 'N')
      // A probability prints as =0.98 or as >0.999 at the extremes.
      .replace(/(?:=|&gt;|&lt;|>|<)N/g, '≈N')
  );
}

describe('README demo output', () => {
  // Ten real trainings of the example (3 s budget each) plus the jobs around them.
  it('is what `npm run demo` prints now (regenerate with npm run readme-demo)', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const shown: string = readmeDemo(readme);
    const actual: string = runDemo();
    expect(shape(shown)).toBe(shape(actual.trimEnd()));
    expect(actual).toContain('status=keep verdict=improved');
    expect(actual).toContain('status=discard verdict=regressed');
  }, 300_000);

  it('fences the output so the comment inside cannot end the block', () => {
    const block: string = demoBlock('a\n```mermaid\nx\n```\nb');
    expect(block.split('\n')[1]).toBe('````text');
    expect(readmeDemo(`x\n${block}\ny`)).toBe('a\n```mermaid\nx\n```\nb');
  });
});

describe('the comparison of demo outputs', () => {
  const run = (val: string, steps: string, warnings: string[]): string =>
    [
      `status=keep verdict=improved val-bpb=${val} delta=-0.94`,
      '',
      `| Steps | ${steps} · baseline 24,448 |`,
      '',
      ...(warnings.length > 0 ? ['**Warnings**', '', ...warnings.map((w) => `- ${w}`), ''] : []),
      '<sub>Baseline `d37b999` of 2026-11-29T06:54:25.861Z · n=8 · σ=0.1113 · runner mac-studio-1 · AMD EPYC · 24 GB · key</sub>',
    ].join('\n');
  const suspect = "environment suspect: num_steps 900 is 63 % below the baseline's 24448 at the same budget";
  const floor = 'σ floor used';

  it('ignores measured numbers, shas, dates, the hardware and warnings about the load', () => {
    const a = run('2.854257', '28,160', []);
    const b = run('3.1', '900', [suspect]);
    expect(shape(b)).toBe(shape(a));
    expect(shape(run('3.1', '900', [suspect, floor]))).toBe(shape(run('2.85', '28,160', [floor])));
    expect(shape(a.replace('AMD EPYC · 24 GB', 'Apple M2 Max · 64 GB'))).toBe(shape(a));
  });

  it('sees a changed verdict, a missing line and any other warning', () => {
    const a = run('2.854257', '28,160', []);
    expect(shape(a.replace('verdict=improved', 'verdict=within-noise'))).not.toBe(shape(a));
    expect(shape(a.replace(/^\| Steps .*\n/m, ''))).not.toBe(shape(a));
    expect(shape(run('2.85', '28,160', [floor]))).not.toBe(shape(a));
    expect(shape(run('2.85', '28,160', [suspect, floor]))).not.toBe(shape(a));
  });
});
