import path from 'node:path';
import * as core from '@actions/core';
import { runAction, shouldFail } from './action-flow.js';
import { readJobContext } from './event/context.js';
import { createGitHubClient } from './github/octokit.js';
import { repositoryApi } from './github/repository-api.js';
import { execaRunner } from './identity/command-runner.js';
import { codeBlock } from './publish/untrusted-text.js';
import { StepFileCommands } from './run/file-commands.js';
import { neutralizeWorkflowCommands } from './run/neutralize.js';
import { readSettings } from './settings/inputs.js';
import { resolveProtocol } from './settings/resolve-protocol.js';

/** The action's whole flow; the only place errors are caught. */
export async function run(): Promise<void> {
  const controller = new AbortController();
  // Job cancellation arrives as SIGINT then SIGTERM: stop the training, then publish "cancelled".
  const cancel = (signal: string) => {
    core.warning(`Received ${signal}: cancelling the training.`);
    controller.abort(new Error(`job cancelled (${signal})`));
  };
  process.once('SIGINT', () => cancel('SIGINT'));
  process.once('SIGTERM', () => cancel('SIGTERM'));
  // Read before anything writes them: at the very end they may hold only what the action wrote.
  const fileCommands = await StepFileCommands.open(process.env);
  const writeSummary = async (markdown: string) => {
    fileCommands.recordSummary(markdown);
    await core.summary.addRaw(markdown).write();
  };
  try {
    const ctx = readJobContext(process.env, process.cwd());
    const settings = readSettings((name) => core.getInput(name), ctx.workspace);
    if (settings.githubToken) core.setSecret(settings.githubToken);
    const protocol = resolveProtocol(settings);
    core.info(`Protocol: ${protocol.source}`);
    const client = settings.githubToken
      ? createGitHubClient({
          token: settings.githubToken,
          ...(ctx.apiUrl ? { baseUrl: ctx.apiUrl } : {}),
          ...(process.env.AUTORESEARCH_CI_RETRY_BASE_MS
            ? { retryBaseMs: Number(process.env.AUTORESEARCH_CI_RETRY_BASE_MS) }
            : {}),
          ...(process.env.AUTORESEARCH_CI_REQUEST_TIMEOUT_MS
            ? { requestTimeoutMs: Number(process.env.AUTORESEARCH_CI_REQUEST_TIMEOUT_MS) }
            : {}),
          log: (line) => core.info(line),
        })
      : undefined;
    const workDir = path.join(
      ctx.runnerTemp || settings.stateDir,
      'autoresearch-ci',
      `${ctx.runId}-${ctx.runAttempt}`,
    );
    const { report, published } = await runAction({
      settings,
      protocol,
      ctx,
      ...(client ? { api: repositoryApi(client, ctx.owner, ctx.repo) } : {}),
      commands: execaRunner(),
      sinks: {
        setOutput: (name, value) => {
          fileCommands.recordOutput(name, value);
          core.setOutput(name, value);
        },
        writeSummary: async (markdown) => {
          await writeSummary(markdown);
        },
        log: (line) => core.info(neutralizeWorkflowCommands(line)),
      },
      notice: (line) => core.notice(neutralizeWorkflowCommands(line)),
      warning: (line) => core.warning(neutralizeWorkflowCommands(line)),
      parentEnv: process.env,
      signal: controller.signal,
      workDir,
    });
    core.info(neutralizeWorkflowCommands(`${report.status}: ${report.headline}`));
    if (shouldFail(report, settings.failOn)) {
      core.setFailed(
        `autoresearch-ci: ${report.status}${report.verdict ? ` (${report.verdict})` : ''}: ${report.headline}`,
      );
    } else if (published.errors.length > 0 && settings.failOn !== 'never') {
      core.setFailed(
        `autoresearch-ci: the result was recorded but not fully published: ${published.errors.join('; ')}`,
      );
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    core.setFailed(message);
    // The job summary is where people look first; an error that stopped the job belongs there too.
    try {
      await writeSummary(`## autoresearch-ci failed\n\n${codeBlock(message)}\n`);
    } catch {
      // No summary file (a local run): setFailed above already reported it.
    }
  } finally {
    // A process the training left behind may have written here after the training's own check.
    const restored = await fileCommands.verifyAndRestore().catch((error: Error) => [error.message]);
    if (restored.length > 0) {
      core.setFailed(
        `the runner's file-command files (${restored.join(', ')}) were changed after the training's checks by something it left running; they were restored. Run the training as its own user (the run-as input) to rule this out.`,
      );
    }
  }
}
