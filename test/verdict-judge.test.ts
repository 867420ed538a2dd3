import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execaRunner } from '../src/identity/command-runner.js';
import { loadProtocolFile } from '../src/settings/protocol.js';
import { currentBaseline } from '../src/state/baselines.js';
import { readLedger } from '../src/state/ledger.js';
import { establishBaseline } from '../src/verdict/establish-baseline.js';
import type { JobRequest } from '../src/verdict/job.js';
import { judgeExperiment } from '../src/verdict/judge-experiment.js';
import { PREPARE_PY, protocolJson, trainPy } from './e2e/project.js';

const shared = JSON.parse(
  await readFile(path.resolve(import.meta.dirname, '../src/settings/autoresearch-mlx.protocol.json'), 'utf8'),
);

let home: string;
let project: string;
const logs: string[] = [];

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'arci-judge-home-'));
  project = await mkdtemp(path.join(tmpdir(), 'arci-judge-proj-'));
  await writeFile(path.join(project, 'prepare.py'), PREPARE_PY);
  await writeFile(path.join(project, 'protocol.json'), protocolJson(shared));
  await writeTrain({ value: 1.8 });
  await execa('python3', ['prepare.py'], { cwd: project, env: { ...process.env, HOME: home } });
  logs.length = 0;
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(project, { recursive: true, force: true });
});

async function writeTrain(opts: Parameters<typeof trainPy>[0]): Promise<void> {
  await writeFile(path.join(project, 'train.py'), trainPy(opts));
}

function request(
  overrides: Partial<JobRequest['settings']> = {},
  extra: Partial<JobRequest> = {},
): JobRequest {
  const protocol = loadProtocolFile(
    path.join(project, 'protocol.json'),
    path.join(home, '.cache/autoresearch'),
  );
  return {
    settings: {
      stateDir: path.join(home, '.autoresearch-ci'),
      offline: true,
      repeats: 1,
      baselineRepeats: 3,
      confidence: 0.95,
      minImprovement: 0,
      decision: 'loop',
      force: false,
      ...overrides,
    },
    protocol,
    command: protocol.command,
    workdir: project,
    runsDir: path.join(home, 'runs', String(Math.random())),
    runnerName: 'test-runner',
    commit: {
      sha: 'a'.repeat(40),
      subject: 'experiment: x',
      branch: 'autoresearch/t',
      ref: 'refs/heads/autoresearch/t',
    },
    triggeredBy: 'tester',
    holder: { repo: 'lab/mini', runId: '1', pid: process.pid, runner: 'test-runner' },
    parentEnv: { ...process.env, HOME: home },
    commands: execaRunner(),
    log: (line) => logs.push(line),
    ...extra,
  };
}

describe('judging against the runner baseline', () => {
  it('counts the baseline itself as already scored: an unchanged train.py is not run again', async () => {
    await establishBaseline(request());
    const same = await judgeExperiment(request());
    expect(same.runs).toHaveLength(0);
    expect(same.report).toMatchObject({ status: 'discard', verdict: 'within-noise' });
    expect(same.report.headline).toContain("this runner's baseline was measured with");
  });

  it('reports no-baseline, then judges the same train.py against the baseline once one exists', async () => {
    await writeTrain({ value: 1.7 });
    const first = await judgeExperiment(request());
    expect(first.report).toMatchObject({ status: 'discard', verdict: 'no-baseline' });
    expect(first.report.value).toBeCloseTo(1.7, 1);
    expect(first.report.headline).toContain('no baseline yet');

    await writeTrain({ value: 1.8 });
    const base = await establishBaseline(request());
    expect(base.report.status).toBe('keep');
    expect(base.runs).toHaveLength(3);
    const stored = await currentBaseline(path.join(home, '.autoresearch-ci'), base.report.runner.keyHash!);
    expect(stored).toMatchObject({ n: 3, triggeredBy: 'tester' });
    expect(stored!.sigma).toBeGreaterThan(0);

    await writeTrain({ value: 1.7 });
    const better = await judgeExperiment(request());
    // Measured before without a baseline, so not "already scored": judged now.
    expect(better.runs).toHaveLength(1);
    expect(better.report).toMatchObject({ status: 'keep', verdict: 'improved' });
    expect(better.report.vsBaseline!.delta).toBeLessThan(-0.08);
    expect(better.report.vsBaseline!.deltaSigma).toBeLessThan(-5);
    // Secondary figures are compared with the baseline's.
    const baselineOf = (metric: string) => better.report.figures.find((f) => f.metric === metric)?.baseline;
    expect(baselineOf('peak_vram_mb')).toBe(2);
    expect(baselineOf('total_tokens_M')).toBe(1.5);
    expect(baselineOf('num_params_M')).toBe(11.5);
    expect(baselineOf('num_steps')).toBeGreaterThan(0);
  });

  it('never promotes a baseline with a crashed run, and keeps the previous one', async () => {
    const stateDir = path.join(home, '.autoresearch-ci');
    const good = await establishBaseline(request());
    await writeTrain({ crash: true });
    const bad = await establishBaseline(
      request({}, { commit: { sha: 'b'.repeat(40), subject: 's', branch: 'main', ref: 'refs/heads/main' } }),
    );
    expect(bad.report).toMatchObject({ status: 'crash', verdict: 'crashed' });
    expect(bad.runs).toHaveLength(1);
    expect(bad.report.headline).toContain('previous baseline stays in force');
    expect((await currentBaseline(stateDir, good.report.runner.keyHash!))?.commit).toBe('a'.repeat(40));
  });

  it('re-measures a champion carried over a re-baseline before judging against it, and says why', async () => {
    await execa('git', ['init', '-q'], { cwd: project });
    await establishBaseline(request());
    await writeTrain({ value: 1.7 });
    // The kept train.py is in the checkout's history, so a control run can put it back.
    await execa('git', ['hash-object', '-w', 'train.py'], { cwd: project });
    expect((await judgeExperiment(request())).report.status).toBe('keep');
    await writeTrain({ value: 1.8 });
    await establishBaseline(request());

    await writeTrain({ value: 1.69 });
    const next = await judgeExperiment(request());
    expect(logs.some((l) => l.startsWith("Control run: the champion's level is known only to"))).toBe(true);
    expect(next.runs.length).toBeGreaterThan(1);
    expect(next.report.decision?.champion.controlRuns).toBeGreaterThan(0);
    expect(next.report.decision?.explanation[0]).toMatch(
      /re-measured by \d control runs? in this job, carried over .*\. The control run was made because the champion's level is known only to ±[\d.]+σ/,
    );
    // The candidate's own file is back in place after the control run.
    expect(await readFile(path.join(project, 'train.py'), 'utf8')).toContain('VALUE = 1.69');
  });

  it('does not run a train.py already scored under the same key unless forced', async () => {
    await establishBaseline(request());
    await writeTrain({ value: 1.7 });
    const first = await judgeExperiment(request());
    expect(first.runs).toHaveLength(1);
    const again = await judgeExperiment(
      request(
        {},
        { commit: { sha: 'c'.repeat(40), subject: 'amended', branch: 'autoresearch/t', ref: 'x' } },
      ),
    );
    expect(again.runs).toHaveLength(0);
    expect(again.report.headline).toContain('already scored');
    expect(again.report.status).toBe(first.report.status);
    // Forced, it trains again. Judged against itself (the champion it became), the decision can be
    // close enough for the loop policy to add a run, so only "at least one" is certain.
    const forced = await judgeExperiment(request({ force: true }));
    expect(forced.runs.length).toBeGreaterThanOrEqual(1);
    expect(forced.report.headline).not.toContain('already scored');
  });

  it('stops repeats early once the candidate is clearly worse (fail-fast)', async () => {
    await establishBaseline(request());
    await writeTrain({ value: 2.3 });
    const worse = await judgeExperiment(request({ repeats: 3 }));
    expect(worse.runs).toHaveLength(1);
    expect(worse.report.verdict).toBe('regressed');
    expect(logs.some((l) => l.includes('clearly worse'))).toBe(true);
  });

  it('uses every repeat when the candidate is not clearly worse', async () => {
    await establishBaseline(request());
    // Slightly better than the baseline (never "clearly worse", so fail-fast cannot stop it).
    await writeTrain({ value: 1.79 });
    const close = await judgeExperiment(request({ repeats: 2 }));
    expect(close.runs).toHaveLength(2);
    expect(close.report.samples).toHaveLength(2);
    expect(close.report.value).toBeCloseTo(1.79, 1);
  });

  it('calls a run not comparable when the data snapshot changed since the baseline', async () => {
    await establishBaseline(request());
    await writeFile(path.join(home, '.cache/autoresearch/tokenizer/tokenizer.pkl'), 'a new tokenizer');
    await writeTrain({ value: 2.5 });
    const judged = await judgeExperiment(request());
    expect(judged.report.verdict).toBe('not-comparable');
    expect(judged.report.status).toBe('discard');
    expect(judged.report.notComparable!.drift.join(' ')).toMatch(/data snapshot/);
    expect(judged.report.headline).toMatch(/Re-baseline/);
  });

  it('rejects an experiment whose immutable harness differs from the baseline', async () => {
    await establishBaseline(request());
    await writeFile(path.join(project, 'prepare.py'), `${PREPARE_PY}\n# changed\n`);
    const judged = await judgeExperiment(request());
    expect(judged.report.status).toBe('rejected');
    expect(judged.report.rejected!.paths).toEqual(['prepare.py']);
    expect(judged.runs).toHaveLength(0);
  });

  it('flags a run whose throughput fell far below the baseline as environment suspect', async () => {
    await establishBaseline(request());
    const slow = trainPy({ value: 1.8 }).replace('time.sleep(0.02)', 'time.sleep(0.1)');
    await writeFile(path.join(project, 'train.py'), slow);
    const judged = await judgeExperiment(request());
    expect(judged.report.warnings.join('\n')).toMatch(/environment suspect: num_steps/);
  });

  it("pools σ over the runner's earlier baselines and repeated experiments", async () => {
    await establishBaseline(request());
    await writeTrain({ value: 1.79 });
    // The strict test records the σ it pooled.
    const first = await judgeExperiment(request({ repeats: 2, decision: 'strict' }));
    // The baseline's 3 runs (2 df) and the candidate's own 2 runs (1 df).
    expect(first.record['sigmaDf']).toBe(3);
    await writeTrain({ value: 1.8 });
    await establishBaseline(
      request({}, { commit: { sha: 'd'.repeat(40), subject: 'again', branch: 'main', ref: 'x' } }),
    );
    await writeTrain({ value: 1.78 });
    const second = await judgeExperiment(request({ decision: 'strict' }));
    // New baseline (2) + the earlier baseline (2) + the earlier repeated experiment (1), which is
    // also the branch's best kept result: counted once.
    expect(second.record['sigmaDf']).toBe(5);
  });

  it('warns when the operating system changed since the baseline', async () => {
    await establishBaseline(request());
    const file = path.join(home, '.autoresearch-ci', 'baselines.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    const record = Object.values(doc.keys)[0] as {
      current: { os: { name: string; version?: string; major?: string } };
    };
    expect(record.current.os.name).toBeTruthy();
    const now = record.current.os;
    record.current.os = { ...now, version: 'old', major: 'old' };
    await writeFile(file, JSON.stringify(doc));
    await writeTrain({ value: 1.77 });
    const judged = await judgeExperiment(request());
    expect(judged.report.warnings.join('\n')).toContain(
      `${now.name} changed from old to ${now.version ?? now.major} since the baseline`,
    );
  });

  it('writes one ledger line per judged job with the key, blob, metrics and outcome', async () => {
    await establishBaseline(request());
    await writeTrain({ value: 1.75 });
    await judgeExperiment(request());
    const { records } = await readLedger(path.join(home, '.autoresearch-ci'));
    expect(records.map((r) => r.mode)).toEqual(['baseline', 'experiment']);
    const last = records[1]!;
    expect(last.trainBlob).toMatch(/^[0-9a-f]{40}$/);
    expect(last.metrics).toHaveProperty('val_bpb');
    expect(last.components).toHaveProperty('hardware');
    expect(last.outcome).toEqual([{ status: 'ok' }]);
  });
});
