import type { JobContext } from '../event/context.js';
import { INPUT_DEFAULTS, type Settings } from '../settings/inputs.js';
import type { Protocol } from '../settings/protocol.js';
import type { ResultsTarget } from './publish-report.js';

/** Where results.tsv lives: `results-path` with `{branch}` and `{runner}` filled in. */
export function resultsFilePath(
  settings: Pick<Settings, 'resultsBranch' | 'resultsPath'>,
  protocol: Pick<Protocol, 'results'>,
  runnerName: string,
  branch: string,
): string {
  // Next to train.py the protocol's own results file is the natural place.
  if (settings.resultsBranch === '' && settings.resultsPath === INPUT_DEFAULTS['results-path']) {
    return protocol.results.path;
  }
  const runner = runnerName.replace(/[^A-Za-z0-9._-]/g, '_');
  // One pass: a branch named `x/{runner}` must not have its text substituted again.
  const values: Record<string, string> = { branch, runner };
  return settings.resultsPath
    .replace(/\{(branch|runner)\}/g, (_, name: string) => values[name]!)
    .replace(/^\/+/, '');
}

/** The results.tsv push for this job, or undefined without a token (nothing can be pushed). */
export function resultsTarget(
  settings: Pick<Settings, 'githubToken' | 'resultsBranch' | 'resultsPath'>,
  protocol: Pick<Protocol, 'results'>,
  ctx: Pick<JobContext, 'serverUrl' | 'owner' | 'repo' | 'runnerName' | 'eventName'>,
  branch: string,
): ResultsTarget | undefined {
  if (!settings.githubToken || ctx.eventName === 'local') return undefined;
  return {
    remoteUrl: `${ctx.serverUrl.replace(/\/+$/, '')}/${ctx.owner}/${ctx.repo}.git`,
    token: settings.githubToken,
    branch: settings.resultsBranch || branch,
    filePath: resultsFilePath(settings, protocol, ctx.runnerName, branch),
    orphan: settings.resultsBranch !== '',
    runnerName: ctx.runnerName,
  };
}
