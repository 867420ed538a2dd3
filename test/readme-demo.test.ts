import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without type declarations
import { demoBlock, readmeDemo, runDemo } from '../scripts/readme-demo.mjs';

const root = path.resolve(import.meta.dirname, '..');

/**
 * What may differ between two demo runs: measured numbers (noise), commit shas and dates (new
 * commits each time), temp paths and the machine's hardware label.
 */
function shape(text: string): string {
  return (
    text
      .replace(/\/tmp\/\S+/g, '<tmp>')
      .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, '<date>')
      .replace(/\b[0-9a-f]{7,40}\b/g, '<sha>')
      .replace(/(mac-studio-1) · [^·\n]+ · [^·\n]+ ·/g, '$1 · <hardware> ·')
      .replace(/\d+/g, 'N')
      .replace(/N(\.N)+/g, 'N')
      // A probability prints as =0.98 or as >0.999 at the extremes.
      .replace(/(?:=|&gt;|&lt;|>|<)N/g, '≈N')
  );
}

describe('README demo output', () => {
  it('is what `npm run demo` prints now (regenerate with npm run readme-demo)', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const shown: string = readmeDemo(readme);
    const actual: string = runDemo();
    expect(shape(shown)).toBe(shape(actual.trimEnd()));
    expect(actual).toContain('status=keep verdict=improved');
    expect(actual).toContain('status=discard verdict=regressed');
  });

  it('fences the output so the comment inside cannot end the block', () => {
    const block: string = demoBlock('a\n```mermaid\nx\n```\nb');
    expect(block.split('\n')[1]).toBe('````text');
    expect(readmeDemo(`x\n${block}\ny`)).toBe('a\n```mermaid\nx\n```\nb');
  });
});
