/**
 * Reads train.py's progress segments, e.g.
 * `step 00012 (0.9%) | loss: 8.627797 | lrm: 1.00 | dt: 230ms | tok/sec: 284,939 | epoch: 1 | remaining: 298s`.
 */
import type { Progress } from '../model.js';

const HEAD = /^\s*step\s+(\d+)\s*\(\s*(\d+(?:\.\d+)?)\s*%\s*\)/;

/** Cheap check that a segment starts like a progress segment (`step N (P%)`). */
export function isProgressSegment(segment: string): boolean {
  return HEAD.test(segment);
}

/** Parses one progress segment; `undefined` when the text is not one. */
export function parseProgress(segment: string): Progress | undefined {
  const head = HEAD.exec(segment);
  if (!head) return undefined;
  const progress: Progress = { step: Number(head[1]), percent: Number(head[2]) };
  for (const field of segment.slice(head[0].length).split('|')) {
    const colon = field.indexOf(':');
    if (colon < 0) continue;
    const key = field.slice(0, colon).trim();
    const value = field.slice(colon + 1).trim();
    if (key === 'loss') {
      const loss = Number.parseFloat(value);
      // `nan`/`inf` losses are real (a diverging run) and worth reporting as such.
      if (!Number.isNaN(loss) || /^nan$/i.test(value)) progress.loss = loss;
    } else if (key === 'remaining') {
      const seconds = /^(\d+(?:\.\d+)?)\s*s?$/.exec(value);
      if (seconds) progress.remainingSeconds = Number(seconds[1]);
    }
  }
  return progress;
}

/** One short human line for a heartbeat, e.g. `step 12 (0.9%), 298 s remaining`. */
export function describeProgress(p: Progress): string {
  const parts = [`step ${p.step} (${p.percent}%)`];
  if (p.loss !== undefined) parts.push(`loss ${p.loss}`);
  if (p.remainingSeconds !== undefined) parts.push(`${p.remainingSeconds} s remaining`);
  return parts.join(', ');
}
