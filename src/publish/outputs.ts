import type { Report } from '../model.js';
import { figureWithRole } from './format.js';

/** Every output action.yml declares, in its order. */
export const OUTPUT_NAMES = [
  'status',
  'verdict',
  'val-bpb',
  'baseline-val-bpb',
  'delta',
  'sigma',
  'peak-memory-gb',
  'training-seconds',
  'runner',
  'comment-url',
  'results-commit',
  'result-json',
] as const;

/** Name of an action output. */
export type OutputName = (typeof OUTPUT_NAMES)[number];

/** What publishing produced beyond the report itself. */
export interface PublishedRefs {
  commentUrl?: string;
  resultsCommit?: string;
  resultJson?: string;
}

/**
 * The step outputs for a report: every output is always set (empty when not applicable) so a
 * workflow can read them without checking for existence.
 */
export function reportOutputs(report: Report, refs: PublishedRefs): Record<OutputName, string> {
  const num = (v: number | null | undefined, digits: number): string =>
    v === undefined || v === null || !Number.isFinite(v) ? '' : v.toFixed(digits);
  return {
    status: report.status,
    verdict: report.verdict ?? '',
    'val-bpb': num(report.value, 6),
    'baseline-val-bpb': num(report.baseline?.mean, 6),
    delta: num(report.vsBaseline?.delta, 6),
    sigma: num(report.vsBaseline?.sigma ?? report.baseline?.sigma, 6),
    'peak-memory-gb': num(figureWithRole(report.figures, 'memory')?.value, 1),
    'training-seconds': num(figureWithRole(report.figures, 'training-time')?.value, 1),
    runner: report.runner.label,
    'comment-url': refs.commentUrl ?? '',
    'results-commit': refs.resultsCommit ?? '',
    'result-json': refs.resultJson ?? '',
  };
}
