import type { Figure, Report } from '../../src/model.js';

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
    figures: [
      figure('peak_vram_mb', 'Peak memory', 20.7, 'GB', 1, 'memory', { shareOfRam: 20.7 / 64 }),
      figure('training_seconds', 'Training time', 302.4, 's', 1, 'training-time'),
      figure('num_steps', 'Steps', 1320, '', 0),
      figure('total_tokens_M', 'Tokens', 86.5, 'M', 1),
      figure('num_params_M', 'Parameters', 11.5, 'M', 1),
    ],
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

/** One secondary figure as the verdict stage builds it (raw = value: the scale is not under test here). */
export function figure(
  metric: string,
  label: string,
  value: number,
  unit: string,
  decimals: number,
  role?: Figure['role'],
  more: Partial<Figure> = {},
): Figure {
  return { metric, label, value, raw: value, unit, decimals, role, ...more };
}
