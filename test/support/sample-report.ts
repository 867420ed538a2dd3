import type { Report } from '../../src/model.js';

/** A kept, improved experiment on a 64 GiB Mac; other cases override what differs. */
export function sampleReport(overrides: Partial<Report> = {}): Report {
  return {
    mode: 'experiment',
    status: 'keep',
    verdict: 'improved',
    headline: 'val_bpb 1.807902 beats the baseline by 1.4σ.',
    runner: {
      name: 'mac-mini-m4',
      label: 'mac-mini-m4',
      keyHash: 'a1b2c3d4e5f6a7b8c9d0',
      ramBytes: 64 * 1024 ** 3,
    },
    commit: {
      sha: 'c0ffee1234567890abcdef1234567890abcdef12',
      subject: 'Raise depth to 6',
      branch: 'autoresearch/mar5',
      trainBlob: 'deadbeef00112233445566778899aabbccddeeff',
    },
    value: 1.807902,
    samples: [1.8051, 1.8107],
    primary: { name: 'val_bpb', direction: 'minimize' },
    baseline: {
      mean: 1.85,
      sigma: 0.03,
      n: 5,
      commit: 'abcdef0123456789abcdef0123456789abcdef01',
      date: '2026-11-20',
    },
    vsBaseline: { delta: -0.042098, deltaSigma: -1.4033, probabilityBetter: 0.917 },
    vsBest: { value: 1.8101, commit: '1234567abcdef1234567abcdef1234567abcdef1', delta: -0.002198 },
    figures: { peakMemoryGb: 20.7, trainingSeconds: 302.4, steps: 1320, tokensM: 86.5, paramsM: 11.5 },
    warnings: [],
    history: [
      { sha: '1111111aaaaaaaaaaaaa', subject: 'baseline', value: 1.85, status: 'keep' },
      { sha: '2222222bbbbbbbbbbbbb', subject: 'try lr 0.1', value: null, status: 'crash' },
      { sha: '3333333ccccccccccccc', subject: 'wider mlp', value: 1.8101, status: 'keep' },
    ],
    budgetSeconds: 300,
    ...overrides,
  };
}
