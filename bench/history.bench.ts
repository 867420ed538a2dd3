/**
 * A year of history: a runner's state dir holding 100,000 ledger lines and results files of
 * 10,000 rows. Measures what the history costs a job beyond its training (an experiment judged
 * end to end with a training that ends at once, minus the training's own time), reading the
 * ledger, the comment of a branch with 10,000 experiments, and the progress page's size and the
 * time to build it. Prints a markdown table with the goal per row.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execaRunner } from '../src/identity/command-runner.js';
import type { Report } from '../src/model.js';
import { seriesFromLedger, seriesFromResultsFiles } from '../src/publish/progress-data.js';
import { renderProgressPage } from '../src/publish/progress-page.js';
import { writeProgressReport } from '../src/publish/progress-report.js';
import { renderComment } from '../src/publish/render-comment.js';
import { formatRow } from '../src/publish/results-row.js';
import { parseProtocol } from '../src/settings/protocol.js';
import { readLedger } from '../src/state/ledger.js';
import { establishBaseline } from '../src/verdict/establish-baseline.js';
import type { JobRequest } from '../src/verdict/job.js';
import { judgeExperiment } from '../src/verdict/judge-experiment.js';
import { replayBranch } from '../src/verdict/policy/ledger-replay.js';
import { defaultLoopSettings } from '../src/verdict/policy/loop-policy.js';

const LEDGER_LINES = 100_000;
const RESULT_ROWS = 10_000;
const RESULT_FILES = 10;
const root = process.env['BENCH_ROOT'] ?? process.cwd();
const MB = 1024 * 1024;

function time<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

const work = mkdtempSync(path.join(tmpdir(), 'arci-bench-history-'));
try {
  // A checkout whose training prints its summary and ends at once, under a protocol without a data
  // snapshot, so what is measured is the job's own work around the training.
  const project = path.join(work, 'project');
  mkdirSync(project);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: project, stdio: 'ignore' });
  const doc = JSON.parse(
    readFileSync(path.join(root, 'test/fixtures/protocol/autoresearch-mlx.protocol.json'), 'utf8'),
  );
  delete doc.archetypeExtensions;
  doc.execution.command = 'python3 -B train.py';
  const protocol = parseProtocol(doc, 'bench');
  writeFileSync(path.join(project, 'prepare.py'), 'x = 1\n');
  const train = (value: number) =>
    writeFileSync(
      path.join(project, 'train.py'),
      `print("---")\nprint("val_bpb: ${value.toFixed(6)}")\nprint("training_seconds: 0.1")\nprint("peak_vram_mb: 2048.0")\nprint("num_steps: 10")\n`,
    );
  train(1.8);
  git('init', '-q');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'add', '.');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'seed');
  const stateDir = path.join(work, 'state');
  const request = (sha: string): JobRequest => ({
    settings: {
      stateDir,
      offline: false,
      repeats: 1,
      baselineRepeats: 3,
      confidence: 0.95,
      minImprovement: 0,
      decision: 'loop',
      force: false,
    },
    protocol,
    command: protocol.command,
    workdir: project,
    runsDir: path.join(work, 'runs', sha),
    runnerName: 'bench-runner',
    commit: {
      sha,
      subject: 'experiment: bench',
      branch: 'autoresearch/bench',
      ref: 'refs/heads/autoresearch/bench',
    },
    triggeredBy: 'bench',
    holder: { repo: 'bench/bench', runId: sha, pid: process.pid, runner: 'bench-runner' },
    parentEnv: process.env,
    commands: execaRunner(),
    log: () => {},
  });
  const baseline = await establishBaseline(request('b'.repeat(40)));
  const keyHash = baseline.record.keyHash;
  // The same job on a ledger of two lines: what the job costs without history.
  train(1.77);
  const fresh = await timeAsync(() => judgeExperiment(request('d'.repeat(40))));
  const freshOverheadMs = fresh.ms - fresh.value.runs.reduce((sum, r) => sum + r.exit.durationMs, 0);
  const template = baseline.record;

  // A year of a busy runner: 100,000 judged experiments under this key, over 51 branches.
  const ledgerFile = path.join(stateDir, 'ledger.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < LEDGER_LINES; i++) {
    const value = 1.8 + Math.sin(i) * 0.02;
    lines.push(
      JSON.stringify({
        ...template,
        at: new Date(Date.UTC(2026, 0, 1) + i * 300_000).toISOString(),
        keyHash,
        trainBlob: `blob-${i}`,
        status: i % 17 === 0 ? 'keep' : 'discard',
        commit: i.toString(16).padStart(40, '0'),
        subject: `experiment ${i}`,
        // One line in a thousand is the judged branch's own: the job replays those in full.
        branch: i % 1000 === 0 ? 'autoresearch/bench' : `autoresearch/b${i % 50}`,
        mode: 'experiment',
        value,
        samples: [value],
        verdict: 'within-noise',
        // What decision: loop writes: the job's runs and its evidence, which teaches the prior.
        loop: { runs: [{ kind: 'candidate', value }], evidence: { z: Math.sin(i * 0.7), se: 1.1 } },
      }),
    );
    if (lines.length === 10_000) {
      appendFileSync(ledgerFile, `${lines.join('\n')}\n`);
      lines.length = 0;
    }
  }
  const ledgerMb = readFileSync(ledgerFile).length / MB;

  // The job first, in a process that has not read the ledger yet.
  train(1.75);
  const job = await timeAsync(() => judgeExperiment(request('c'.repeat(40))));
  const read = await timeAsync(() => readLedger(stateDir));
  const trainingMs = job.value.runs.reduce((sum, r) => sum + r.exit.durationMs, 0);

  // A runner re-baselined weekly through the year: the replay finds each baseline's lines.
  const first = Date.parse(read.value.records[1]!.at);
  const last = Date.parse(read.value.records.at(-1)!.at);
  const weekly = Array.from({ length: 50 }, (_, k) => ({
    samples: [1.8, 1.81, 1.79],
    date: new Date(first - 1 + (k * (last - first)) / 50).toISOString(),
    commit: `base-${k}`,
  }));
  const replay = time(() =>
    replayBranch({
      baselines: weekly,
      records: read.value.records,
      branch: 'autoresearch/bench',
      direction: 'minimize',
      settings: defaultLoopSettings(0.015),
    }),
  );
  const overheadMs = job.ms - trainingMs;

  // The comment of a branch with 10,000 experiments: the history is cut to fit.
  const history: Report['history'] = Array.from({ length: RESULT_ROWS }, (_, i) => ({
    sha: i.toString(16).padStart(40, '0'),
    subject: `experiment ${i}`,
    value: 1.8 - i * 1e-5,
    status: i % 17 === 0 ? 'keep' : 'discard',
  }));
  const comment = time(() => renderComment({ ...job.value.report, history }, { marker: '<!-- bench -->' }));

  // The results branch: 10 branch/runner files of 10,000 rows, and the page from them.
  const columns = [...protocol.results.columns, 'runner'];
  const files = Array.from({ length: RESULT_FILES }, (_, f) => {
    const rows = Array.from({ length: RESULT_ROWS }, (_, i) =>
      formatRow(columns, {
        commit: (f * RESULT_ROWS + i).toString(16).padStart(7, 'a'),
        value: 1.8 - i * 1e-5 + Math.sin(i) * 0.01,
        memoryGb: 12.3,
        status: i % 17 === 0 ? 'keep' : i % 31 === 0 ? 'crash' : 'discard',
        description: `experiment ${i}: a change of the kind an agent writes`,
        metricColumn: 'val_bpb',
        extra: { runner: `mac-${f % 3}` },
      }),
    );
    return {
      path: `autoresearch/b${f}/mac-${f % 3}/results.tsv`,
      text: `${columns.join('\t')}\n${rows.join('\n')}\n`,
    };
  });
  const resultsMb = files.reduce((sum, f) => sum + f.text.length, 0) / MB;
  const page = time(() =>
    renderProgressPage(seriesFromResultsFiles(files, 'val_bpb', 'minimize'), {
      title: 'bench',
      generatedAt: new Date(),
    }),
  );
  const onePage = time(() =>
    renderProgressPage(seriesFromResultsFiles(files.slice(0, 1), 'val_bpb', 'minimize'), {
      title: 'bench',
      generatedAt: new Date(),
    }),
  );
  const local = await timeAsync(() => writeProgressReport(stateDir, path.join(work, 'report'), protocol));
  const localMb = readFileSync(local.value).length / MB;
  const series = seriesFromLedger(read.value.records, 'val_bpb', 'minimize').length;

  const rows: Array<[string, string, string]> = [
    [`ledger: ${LEDGER_LINES.toLocaleString('en')} lines, size`, `${ledgerMb.toFixed(1)} MB`, '—'],
    ['readLedger of the whole ledger, every line parsed and checked', `${read.ms.toFixed(0)} ms`, '—'],
    ['job overhead beyond training, ledger of 2 lines', `${freshOverheadMs.toFixed(0)} ms`, '—'],
    [
      `job overhead beyond training, ledger of ${LEDGER_LINES.toLocaleString('en')} lines`,
      `${overheadMs.toFixed(0)} ms (job ${job.ms.toFixed(0)} ms, training ${trainingMs.toFixed(0)} ms)`,
      '≤ 2000 ms',
    ],
    [
      `loop policy's replay of the ${LEDGER_LINES.toLocaleString('en')} lines under 50 baselines (weekly for a year)`,
      `${replay.ms.toFixed(0)} ms (${replay.value.judged} of the branch's experiments since the last baseline)`,
      '—',
    ],
    [
      `comment of a branch with ${RESULT_ROWS.toLocaleString('en')} experiments`,
      `${(comment.value.length / 1024).toFixed(1)} KB in ${comment.ms.toFixed(0)} ms`,
      '≤ 60,000 characters',
    ],
    [
      `progress page: ${RESULT_FILES} files × ${RESULT_ROWS.toLocaleString('en')} rows (${resultsMb.toFixed(1)} MB of results.tsv)`,
      `${(page.value.length / MB).toFixed(2)} MB built in ${page.ms.toFixed(0)} ms`,
      '≤ 2 MB',
    ],
    [
      `progress page: 1 file × ${RESULT_ROWS.toLocaleString('en')} rows`,
      `${(onePage.value.length / MB).toFixed(2)} MB built in ${onePage.ms.toFixed(0)} ms`,
      '—',
    ],
    [
      `autoresearch-ci report from the ${LEDGER_LINES.toLocaleString('en')}-line ledger (${series} charts)`,
      `${localMb.toFixed(2)} MB in ${local.ms.toFixed(0)} ms`,
      '≤ 2 MB',
    ],
  ];
  console.log('| measure | measured | goal |\n|---|---:|---:|');
  for (const [what, measured, goal] of rows) console.log(`| ${what} | ${measured} | ${goal} |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
