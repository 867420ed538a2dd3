import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RepositoryApi } from '../github/repository-api.js';
import type { Report } from '../model.js';
import type { Protocol } from '../settings/protocol.js';
import { type OutputName, type PublishedRefs, reportOutputs } from './outputs.js';
import { type ResultsFile, seriesFromResultsFiles } from './progress-data.js';
import { renderProgressPage } from './progress-page.js';
import { renderCancelledComment, renderComment } from './render-comment.js';
import { renderJobSummary } from './render-summary.js';
import { commitResultRow } from './results-commit.js';
import { reportRow } from './results-row.js';
import { upsertStickyComment } from './sticky-comment.js';

/** Where the sticky comment of a job goes. */
export interface CommentTarget {
  api: RepositoryApi;
  issueNumber: number;
  marker: string;
  /** Who our comments are written by, so another author's comment with the marker is left alone. */
  botLogin: string;
}

/** Where the results.tsv row goes. */
export interface ResultsTarget {
  remoteUrl: string;
  token: string;
  branch: string;
  /** Path of results.tsv on that branch, placeholders already filled. */
  filePath: string;
  /** Create the branch as an orphan when missing (a dedicated results branch). */
  orphan: boolean;
  runnerName: string;
}

/** What the publisher writes to; the action passes @actions/core, tests their own. */
export interface PublishSinks {
  setOutput: (name: OutputName, value: string) => void;
  writeSummary: (markdown: string) => Promise<void>;
  log: (line: string) => void;
}

/** Everything {@link publishReport} may do; absent parts are skipped. */
export interface PublishRequest {
  report: Report;
  protocol: Protocol;
  /** Directory for result.json. */
  outDir: string;
  sinks: PublishSinks;
  /** Sticky comment target. */
  comment?: CommentTarget;
  results?: ResultsTarget;
  /** Failures before publishing (e.g. a pull request lookup), shown with the publishing ones. */
  earlierErrors?: string[];
}

/** What was published, and what failed to be. */
export interface PublishOutcome extends PublishedRefs {
  errors: string[];
}

/**
 * Publishes a report everywhere it belongs. Each destination fails alone: a failed comment or
 * push never stops the others, and every failure is listed in the job summary and returned, so the
 * result is never lost (it is already in the runner's ledger; result.json, outputs and summary
 * carry it too).
 */
export async function publishReport(req: PublishRequest): Promise<PublishOutcome> {
  const { report, sinks } = req;
  const errors = [...(req.earlierErrors ?? [])];
  const refs: PublishedRefs = {};

  const resultJson = path.join(req.outDir, 'result.json');
  try {
    await mkdir(req.outDir, { recursive: true });
    await writeFile(resultJson, `${JSON.stringify(report, null, 2)}\n`);
    refs.resultJson = resultJson;
  } catch (error) {
    errors.push(`result.json could not be written to ${resultJson}: ${message(error)}`);
  }

  if (req.comment) {
    const { api, issueNumber, marker, botLogin } = req.comment;
    try {
      const body =
        report.crash?.kind === 'cancelled'
          ? renderCancelledComment({
              marker,
              runnerLabel: report.runner.label,
              commit: { sha: report.commit?.sha ?? '', subject: report.commit?.subject ?? '' },
              cancelledAt: new Date(),
            })
          : renderComment(report, { marker });
      const comment = await upsertStickyComment(api, issueNumber, marker, body, botLogin);
      refs.commentUrl = comment.url;
      sinks.log(`Comment updated: ${comment.url}`);
    } catch (error) {
      errors.push(`the pull request comment on #${issueNumber} could not be written: ${message(error)}`);
    }
  }

  if (
    req.results &&
    report.commit &&
    (report.status === 'keep' || report.status === 'discard' || report.status === 'crash')
  ) {
    const target = req.results;
    try {
      const { commitSha, changed } = await commitResultRow({
        remoteUrl: target.remoteUrl,
        token: target.token,
        branch: target.branch,
        filePath: target.filePath,
        columns: req.protocol.results.columns,
        row: reportRow(report, req.protocol, target.runnerName),
        identity: { commit: report.commit.sha, runnerOrKey: target.runnerName },
        message: `results: ${report.status} ${report.commit.sha.slice(0, 7)} on ${target.runnerName} [skip ci]`,
        orphan: target.orphan,
        // A dedicated results branch gets the progress page; an experiment branch only its row.
        page: target.orphan ? (files) => progressPage(files, req.protocol, target.remoteUrl) : undefined,
        log: sinks.log,
      });
      refs.resultsCommit = commitSha;
      sinks.log(
        `${changed ? 'Recorded' : 'Already recorded'} in ${target.filePath} on ${target.branch} (${commitSha.slice(0, 7)})`,
      );
    } catch (error) {
      errors.push(`the results.tsv row could not be pushed to ${target.branch}: ${message(error)}`);
    }
  }

  const outputs = reportOutputs(report, refs);
  for (const [name, value] of Object.entries(outputs)) sinks.setOutput(name as OutputName, value);
  try {
    await sinks.writeSummary(renderJobSummary(report, { publishErrors: errors }));
  } catch (error) {
    errors.push(`the job summary could not be written: ${message(error)}`);
  }
  return { ...refs, errors };
}

function progressPage(files: ResultsFile[], protocol: Protocol, remoteUrl: string): string {
  const title = remoteUrl
    .replace(/\.git$/, '')
    .split('/')
    .slice(-2)
    .join('/');
  return renderProgressPage(
    seriesFromResultsFiles(files, protocol.primary.name, protocol.primary.direction),
    {
      title,
      generatedAt: new Date(),
    },
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
