import { describe, expect, it } from 'vitest';
import {
  deltaWord,
  directionNote,
  formatCount,
  formatDelta,
  formatFigure,
  formatGb,
  formatMillions,
  formatNoise,
  formatPercent,
  formatSeconds,
  formatSigma,
  formatValue,
  shortHash,
  shortSha,
} from '../src/publish/format.js';

describe('number formatting', () => {
  it('shows the primary value with 6 decimals, a dash when absent and n/a when not finite', () => {
    expect(formatValue(1.8079024)).toBe('1.807902');
    expect(formatValue(2)).toBe('2.000000');
    expect(formatValue(null)).toBe('—');
    expect(formatValue(undefined)).toBe('—');
    expect(formatValue(Number.NaN)).toBe('n/a');
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('n/a');
  });

  it('signs deltas with 4 decimals and a typographic minus, and never signs a rounded zero', () => {
    expect(formatDelta(-0.042098)).toBe('\u22120.0421');
    expect(formatDelta(0.5)).toBe('+0.5000');
    expect(formatDelta(0.00002)).toBe('±0.0000');
    expect(formatDelta(-0.00002)).toBe('±0.0000');
  });

  it('writes σ multiples with 1 decimal', () => {
    expect(formatSigma(-1.4033)).toBe('\u22121.4σ');
    expect(formatSigma(2.06)).toBe('+2.1σ');
    expect(formatSigma(0.01)).toBe('±0.0σ');
  });

  it('writes memory, percentages, seconds, counts and millions at their precision', () => {
    expect(formatGb(20.66)).toBe('20.7 GB');
    expect(formatPercent(0.917)).toBe('92%');
    expect(formatPercent(0.004)).toBe('0%');
    expect(formatSeconds(302.44)).toBe('302.4 s');
    expect(formatSeconds(300)).toBe('300 s');
    expect(formatCount(1320)).toBe('1,320');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatMillions(86.5)).toBe('86.5M');
    expect(formatMillions(1234.56)).toBe('1,234.6M');
    expect(formatNoise(0.03)).toBe('0.0300');
  });

  it('gives a small figure that its decimals would round to zero two significant digits', () => {
    const gb = { unit: 'GB', decimals: 1 };
    expect(formatFigure(20.66, gb)).toBe('20.7 GB');
    expect(formatFigure(0.0213, gb)).toBe('0.021 GB');
    expect(formatFigure(0.06, gb)).toBe('0.1 GB');
    expect(formatFigure(0.04, gb)).toBe('0.040 GB');
    expect(formatFigure(0.05, gb)).toBe('0.1 GB');
    expect(formatFigure(0, gb)).toBe('0.0 GB');
    expect(formatFigure(-0.0042, { unit: 'M', decimals: 1 })).toBe('\u22120.0042M');
    expect(formatFigure(3e-9, { unit: '', decimals: 0 })).toBe('0.000000');
    expect(formatFigure(1320.4, { unit: '', decimals: 0 })).toBe('1,320');
  });

  it('words a difference by the metric direction', () => {
    expect(directionNote('minimize')).toBe('lower is better');
    expect(directionNote('maximize')).toBe('higher is better');
    expect(deltaWord(-0.01, 'minimize')).toBe('better');
    expect(deltaWord(0.01, 'minimize')).toBe('worse');
    expect(deltaWord(0.01, 'maximize')).toBe('better');
    expect(deltaWord(-0.01, 'maximize')).toBe('worse');
    expect(deltaWord(0.00001, 'minimize')).toBe('equal');
  });

  it('reduces commit ids and hashes to safe short forms', () => {
    expect(shortSha('C0FFEE1234567890abcdef1234567890abcdef12')).toBe('c0ffee1');
    expect(shortSha('"]; click x call alert()')).toBe('clickxcallal');
    expect(shortSha('')).toBe('unknown');
    expect(shortSha(undefined)).toBe('unknown');
    expect(shortHash('sha256:a1b2c3d4e5f6a7b8c9')).toBe('sha256a1b2c3');
  });
});
