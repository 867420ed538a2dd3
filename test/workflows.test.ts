// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow expressions are data here
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML, { isMap, isScalar, Scalar } from 'yaml';
import type { JobContext } from '../src/event/context.js';
import { planJob } from '../src/event/plan.js';

/**
 * Static checks of the workflows of this repository (.github/workflows), the example workflows for
 * users (examples/) and action.yml. Each check is a function returning a list of problems, so the
 * negative cases below can show that it finds them.
 */

const root = path.resolve(import.meta.dirname, '..');

type Json = Record<string, any>;

interface WorkflowFile {
  /** Repository-relative path. */
  file: string;
  text: string;
  doc: Json;
}

function yamlFiles(dir: string): string[] {
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.posix.join(dir, f));
}

function parseStrict(file: string): { text: string; doc: Json } {
  const text = readFileSync(path.join(root, file), 'utf8');
  const document = YAML.parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
  }
  return { text, doc: document.toJS() as Json };
}

const ownWorkflowFiles = yamlFiles('.github/workflows');
const exampleFiles = yamlFiles('examples');
const workflows: WorkflowFile[] = [...ownWorkflowFiles, ...exampleFiles].map((file) => ({
  file,
  ...parseStrict(file),
}));
const byFile = (file: string): Json => {
  const found = workflows.find((w) => w.file === file);
  if (!found) throw new Error(`${file} is missing`);
  return found.doc;
};

const actionText = readFileSync(path.join(root, 'action.yml'), 'utf8');
const actionDocument = YAML.parseDocument(actionText, { uniqueKeys: true });
const action = actionDocument.toJS() as Json;

interface ActionSpec {
  inputs: string[];
  outputs: string[];
}
const actionSpec: ActionSpec = {
  inputs: Object.keys(action.inputs ?? {}),
  outputs: Object.keys(action.outputs ?? {}),
};

// ---------------------------------------------------------------------------------------------
// Checkers

/** A step that runs this action: the local checkout (`./`) or a published `<owner>/autoresearch-ci@<ref>`. */
function isThisAction(uses: unknown): boolean {
  return typeof uses === 'string' && (uses === './' || /^[^/\s]+\/autoresearch-ci@\S+$/.test(uses));
}

function jobsOf(workflow: Json): Array<[string, Json]> {
  const jobs = workflow?.jobs;
  return jobs && typeof jobs === 'object' ? (Object.entries(jobs) as Array<[string, Json]>) : [];
}

function stepsOf(job: Json): Json[] {
  return Array.isArray(job?.steps) ? job.steps : [];
}

/** Top-level `on` and `jobs`; every job has `runs-on` and a non-empty `steps` list. */
function checkShape(workflow: Json): string[] {
  const problems: string[] = [];
  if (!workflow || typeof workflow !== 'object') return ['the workflow is not a mapping'];
  if (!('on' in workflow)) problems.push('no top-level `on`');
  if (!workflow.jobs || typeof workflow.jobs !== 'object') problems.push('no top-level `jobs`');
  for (const [id, job] of jobsOf(workflow)) {
    if (!job?.['runs-on']) problems.push(`job ${id} has no runs-on`);
    if (stepsOf(job).length === 0) problems.push(`job ${id} has no steps`);
  }
  return problems;
}

/** Every `with:` key of a step of this action is an input action.yml declares. */
function checkActionInputs(workflow: Json, spec: ActionSpec): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(workflow)) {
    for (const step of stepsOf(job)) {
      if (!isThisAction(step?.uses)) continue;
      for (const name of Object.keys(step.with ?? {})) {
        if (!spec.inputs.includes(name)) {
          problems.push(
            `job ${id}, step ${step.id ?? step.uses}: input '${name}' is not declared in action.yml`,
          );
        }
      }
    }
  }
  return problems;
}

/** Every string anywhere below `value`. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

const OUTPUT_REFERENCE = /steps\.([A-Za-z_][\w-]*)\.outputs(?:\.([A-Za-z_][\w-]*)|\[\s*'([^']+)'\s*\])/g;

/**
 * Every `steps.<id>.outputs.<name>` (in `${{ }}` or an `if:`) whose step runs this action names an
 * output action.yml declares, and every step id referenced exists in the job.
 */
function checkOutputReferences(workflow: Json, spec: ActionSpec): string[] {
  const problems: string[] = [];
  for (const [jobId, job] of jobsOf(workflow)) {
    const steps = stepsOf(job);
    const ids = new Set(steps.map((s) => s?.id).filter(Boolean));
    const ours = new Set(steps.filter((s) => isThisAction(s?.uses)).map((s) => s.id));
    for (const text of stringsIn(job)) {
      for (const m of text.matchAll(OUTPUT_REFERENCE)) {
        const [, stepId, dotted, bracketed] = m;
        const name = dotted ?? bracketed!;
        if (!ids.has(stepId)) problems.push(`job ${jobId}: steps.${stepId} does not exist`);
        else if (ours.has(stepId) && !spec.outputs.includes(name)) {
          problems.push(`job ${jobId}: steps.${stepId}.outputs.${name} is not an output action.yml declares`);
        }
      }
    }
  }
  return problems;
}

/** A `uses: ./` step comes after an actions/checkout step of the same job (the action is in the checkout). */
function checkLocalActionAfterCheckout(workflow: Json): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(workflow)) {
    const steps = stepsOf(job);
    const checkout = steps.findIndex(
      (s) => typeof s?.uses === 'string' && s.uses.startsWith('actions/checkout@'),
    );
    steps.forEach((step, index) => {
      if (
        typeof step?.uses === 'string' &&
        step.uses.startsWith('./') &&
        (checkout < 0 || checkout > index)
      ) {
        problems.push(`job ${id}: step ${index + 1} uses ${step.uses} before any actions/checkout step`);
      }
    });
  }
  return problems;
}

const ALLOWED_PERMISSIONS = new Set(['contents', 'pull-requests']);
const PERMISSION_LEVELS = new Set(['read', 'write', 'none']);

function permissionProblems(where: string, permissions: unknown): string[] {
  if (typeof permissions === 'string')
    return [`${where}: permissions '${permissions}' is not least privilege`];
  if (!permissions || typeof permissions !== 'object') return [`${where}: permissions is not a mapping`];
  const problems: string[] = [];
  for (const [scope, level] of Object.entries(permissions)) {
    if (!ALLOWED_PERMISSIONS.has(scope)) problems.push(`${where}: permission '${scope}' is more than needed`);
    if (!PERMISSION_LEVELS.has(String(level))) problems.push(`${where}: ${scope}: '${level}' is not a level`);
  }
  return problems;
}

/**
 * Permissions are declared (top level, or in every job), never `write-all`/`read-all`, and name only
 * `contents` and `pull-requests`: the token the runner hands out then carries nothing else.
 */
function checkPermissions(workflow: Json): string[] {
  const problems: string[] = [];
  const jobs = jobsOf(workflow);
  if ('permissions' in workflow) problems.push(...permissionProblems('workflow', workflow.permissions));
  else {
    for (const [id, job] of jobs) {
      if (!('permissions' in job)) problems.push(`job ${id}: no permissions at job or workflow level`);
    }
  }
  for (const [id, job] of jobs) {
    if ('permissions' in job) problems.push(...permissionProblems(`job ${id}`, job.permissions));
  }
  return problems;
}

/**
 * A job that runs this action trains: its concurrency (job or workflow level) states
 * `cancel-in-progress: false`, so a newer push never kills a running training and loses its result.
 */
function checkTrainingConcurrency(workflow: Json): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(workflow)) {
    if (!stepsOf(job).some((s) => isThisAction(s?.uses))) continue;
    const concurrency = job.concurrency ?? workflow.concurrency;
    if (!concurrency || typeof concurrency !== 'object') {
      problems.push(`job ${id}: trains without a concurrency group with cancel-in-progress: false`);
    } else if (concurrency['cancel-in-progress'] !== false) {
      problems.push(`job ${id}: concurrency must set cancel-in-progress: false`);
    } else if (typeof concurrency.group !== 'string' || concurrency.group.trim() === '') {
      problems.push(`job ${id}: concurrency has no group`);
    }
  }
  return problems;
}

/** Every check of a workflow file. */
function checkWorkflow(workflow: Json, spec: ActionSpec): string[] {
  return [
    ...checkShape(workflow),
    ...checkActionInputs(workflow, spec),
    ...checkOutputReferences(workflow, spec),
    ...checkLocalActionAfterCheckout(workflow),
    ...checkPermissions(workflow),
    ...checkTrainingConcurrency(workflow),
  ];
}

/**
 * action.yml: node24 from a bundle that exists, branding, and every input with a description and a
 * quoted string default. Quoting matters: unquoted `true`, `3` or `0.95` are YAML booleans and
 * numbers. The one unquoted form accepted is a whole `${{ … }}` expression, which YAML always
 * reads as a string.
 */
function checkActionManifest(text: string, repoRoot: string): string[] {
  const document = YAML.parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) return document.errors.map((e) => e.message);
  const manifest = document.toJS() as Json;
  const problems: string[] = [];
  if (manifest?.runs?.using !== 'node24')
    problems.push(`runs.using is '${manifest?.runs?.using}', not node24`);
  const main = manifest?.runs?.main;
  if (typeof main !== 'string' || !existsSync(path.join(repoRoot, main))) {
    problems.push(`runs.main '${main}' does not exist in the repository`);
  }
  if (!manifest?.branding?.icon || !manifest?.branding?.color) problems.push('branding needs icon and color');
  if (typeof manifest?.name !== 'string' || typeof manifest?.description !== 'string') {
    problems.push('name and description must be strings');
  }
  const inputs = document.get('inputs');
  if (!isMap(inputs)) return [...problems, 'inputs is not a mapping'];
  for (const pair of inputs.items) {
    const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const spec = pair.value;
    if (!isMap(spec)) {
      problems.push(`input ${name} is not a mapping`);
      continue;
    }
    const description = spec.get('description');
    if (typeof description !== 'string' || description.trim() === '') {
      problems.push(`input ${name} has no description`);
    }
    const node = spec.get('default', true);
    if (!isScalar(node)) {
      problems.push(`input ${name} has no default`);
      continue;
    }
    const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
    const expression = typeof node.value === 'string' && /^\$\{\{[^}]*\}\}$/.test(node.value);
    if (typeof node.value !== 'string' || !(quoted || expression)) {
      problems.push(`input ${name}: default ${JSON.stringify(node.value)} is not a quoted string`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The repository's files

describe('workflow files', () => {
  it('exist where expected', () => {
    expect(ownWorkflowFiles).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/release.yml',
        '.github/workflows/self-test.yml',
        '.github/workflows/try-it.yml',
      ]),
    );
    expect(exampleFiles).toEqual(expect.arrayContaining(['examples/autoresearch.yml', 'examples/fleet.yml']));
  });

  it.each(workflows.map((w) => [w.file, w] as const))('%s passes every check', (_file, w) => {
    expect(checkWorkflow(w.doc, actionSpec)).toEqual([]);
  });

  it('examples use the published action by its moving major tag, never `uses: ./`', () => {
    for (const file of exampleFiles) {
      const uses = jobsOf(byFile(file))
        .flatMap(([, job]) => stepsOf(job).map((s) => s.uses))
        .filter(isThisAction);
      expect(uses, file).not.toHaveLength(0);
      for (const u of uses) expect(u, file).toMatch(/^[^/]+\/autoresearch-ci@v1$/);
    }
  });

  it('the self-test runs this checkout (`uses: ./`) on workflow_dispatch only, on a self-hosted runner', () => {
    const wf = byFile('.github/workflows/self-test.yml');
    expect(Object.keys(wf.on)).toEqual(['workflow_dispatch']);
    const [[, job]] = jobsOf(wf) as [[string, Json]];
    expect([job['runs-on']].flat()).toContain('self-hosted');
    const local = stepsOf(job).filter((s) => s.uses === './');
    expect(local.length).toBeGreaterThan(0);
    for (const step of local) expect(step.with['working-directory']).toBe('example');
    // The example project it points at is there, with its protocol.
    expect(existsSync(path.join(root, 'example', 'train.py'))).toBe(true);
    expect(existsSync(path.join(root, 'example', 'protocol.json'))).toBe(true);
  });
});

describe('ci.yml', () => {
  const wf = byFile('.github/workflows/ci.yml');
  const [[, job]] = jobsOf(wf) as [[string, Json]];
  const steps = stepsOf(job);

  it('runs on push and pull_request, on ubuntu-latest, with read-only contents', () => {
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push']);
    expect(job['runs-on']).toBe('ubuntu-latest');
    expect(wf.permissions).toEqual({ contents: 'read' });
  });

  it('sets up Node from .node-version and runs the checks in order, each an existing npm script', () => {
    expect(steps[0]?.uses).toBe('actions/checkout@v4');
    const setup = steps.find((s) => s.uses === 'actions/setup-node@v4');
    expect(setup?.with?.['node-version-file']).toBe('.node-version');
    expect(existsSync(path.join(root, '.node-version'))).toBe(true);
    const commands = steps.map((s) => s.run).filter(Boolean);
    expect(commands).toEqual([
      'npm ci',
      'npm run typecheck',
      'npm run lint',
      'npm test',
      'npm run check-dist',
    ]);
    const scripts = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
    for (const c of commands) {
      const script = /^npm run (\S+)$/.exec(c)?.[1];
      if (script) expect(scripts, c).toHaveProperty(script);
    }
    expect(scripts).toHaveProperty('test');
  });

  it('relies on the browser npm ci installs, not on one the runner image happens to have', () => {
    const testStep = steps.find((s) => s.run === 'npm test')!;
    expect(testStep.env?.CHROMIUM_PATH).toBeUndefined();
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.devDependencies).toHaveProperty('@sparticuz/chromium');
  });
});

describe('ci.yml on a Mac', () => {
  const wf = byFile('.github/workflows/ci.yml');
  const mac = wf.jobs.macos as Json;
  const steps = stepsOf(mac);
  const ours = steps.filter((s) => s.uses === './');

  it('runs next to Linux on macos-latest (Apple silicon), with the whole test suite', () => {
    expect(Object.keys(wf.jobs)).toEqual(['check', 'macos']);
    expect(mac['runs-on']).toBe('macos-latest');
    const commands = steps.map((s) => s.run).filter(Boolean);
    expect(commands.slice(0, 2)).toEqual(['npm ci', 'npm test']);
    expect(steps.find((s) => s.uses === 'actions/setup-node@v4')?.with?.['node-version-file']).toBe(
      '.node-version',
    );
  });

  it('runs the example through action.yml as committed, publishing nothing, and checks the Mac and its sandbox', () => {
    expect(ours.map((s) => s.with.mode)).toEqual(['baseline', 'experiment']);
    for (const step of ours) {
      expect(step.with['working-directory']).toBe('example');
      expect(step.with['github-token']).toBe('');
      expect(step.with['state-dir']).toContain('${{ runner.temp }}');
      expect(step.env.HOME).toContain('${{ runner.temp }}');
    }
    const check = steps.find((s) => s.name === 'Check the runs used this Mac, inside sandbox-exec')!;
    expect(check.run).toContain('*Apple*');
    expect(check.run).toContain('/network isolation/');
    expect(check.env.RESULT_JSON).toBe('${{ steps.baseline.outputs.result-json }}');
    // The README's screenshot, rendered on the Mac, kept as an artifact.
    const shot = steps.find((s) => String(s.run).startsWith('node scripts/screenshot-comment.mjs'))!;
    expect(shot.run).toContain('--out "$RUNNER_TEMP/comment-screenshot.png"');
    expect(steps.at(-1)!.with).toEqual({
      name: 'comment-screenshot',
      path: '${{ runner.temp }}/comment-screenshot.png',
    });
  });
});

describe('release.yml', () => {
  const wf = byFile('.github/workflows/release.yml');
  const [[, job]] = jobsOf(wf) as [[string, Json]];
  const steps = stepsOf(job);
  const index = (test: (s: Json) => boolean): number => steps.findIndex(test);

  it('runs only for a pushed version tag, with contents: write and nothing else', () => {
    expect(wf.on).toEqual({ push: { tags: ['v[0-9]+.[0-9]+.[0-9]+'] } });
    expect(wf.permissions).toEqual({ contents: 'write' });
    expect(wf.concurrency['cancel-in-progress']).toBe(false);
  });

  it('checks the tag, dist and the tests before it creates the release, then moves the major tag', () => {
    const checkout = steps.find((s) => String(s.uses).startsWith('actions/checkout@'))!;
    expect(checkout.with).toEqual({ 'fetch-depth': 0, 'persist-credentials': false });
    const plan = index((s) => s.id === 'plan');
    expect(steps[plan]!.run).toBe(
      'node scripts/release.mjs plan "$GITHUB_REF_NAME" "$RUNNER_TEMP/release-notes.md"',
    );
    const run = (command: string) => index((s) => s.run === command);
    const order = [
      plan,
      run('npm ci'),
      run('npm run check-dist'),
      run('npm run typecheck'),
      run('npm run lint'),
      run('npm test'),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const release = index((s) => /gh release create "\$GITHUB_REF_NAME" --verify-tag/.test(s.run ?? ''));
    expect(release).toBeGreaterThan(Math.max(...order));
    expect(steps[release]!.run).toContain('--notes-file "$RUNNER_TEMP/release-notes.md"');
    const move = steps.at(-1)!;
    expect(move.if).toBe("steps.plan.outputs.major != ''");
    expect(move.env.MAJOR).toBe('${{ steps.plan.outputs.major }}');
    expect(move.run).toContain('git/refs/tags/$MAJOR');
    expect(existsSync(path.join(root, 'scripts/release.mjs'))).toBe(true);
  });
});

describe('try-it.yml', () => {
  const wf = byFile('.github/workflows/try-it.yml');
  const [[, job]] = jobsOf(wf) as [[string, Json]];
  const ours = stepsOf(job).filter((s) => s.uses === './');
  const text = workflows.find((w) => w.file === '.github/workflows/try-it.yml')!.text;

  it('is a labelled demonstration on a GitHub-hosted Linux runner, for same-repository pull requests', () => {
    expect(wf.name).toMatch(/demonstration/);
    expect(text).toMatch(/^# DEMONSTRATION ONLY/);
    expect(text).toContain('Hosted runners are not comparable machines');
    expect(job['runs-on']).toBe('ubuntu-latest');
    expect(wf.on).toEqual({ pull_request: { paths: ['example/train.py'] } });
    expect(job.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
  });

  it('measures the base branch and the change in the same job, on the bundled example', () => {
    expect(ours.map((s) => s.with.mode)).toEqual(['baseline', 'experiment']);
    expect(ours[0]!.with['working-directory']).toBe('${{ runner.temp }}/base/example');
    expect(ours[1]!.with['working-directory']).toBe('example');
    // A hosted runner gets a new name each job: the results path leaves it out.
    for (const s of ours) expect(s.with['results-path']).not.toContain('{runner}');
    expect(ours[1]!.with['fail-on']).toBe('never');
  });
});

describe('examples/autoresearch.yml', () => {
  const wf = byFile('examples/autoresearch.yml');
  const [[, job]] = jobsOf(wf) as [[string, Json]];

  it('triggers on experiment branches, same-repo pull requests touching train.py, and by hand', () => {
    expect(wf.on.push.branches).toEqual(['autoresearch/**']);
    expect(wf.on.pull_request.paths).toEqual(['train.py']);
    expect(Object.keys(wf.on.workflow_dispatch.inputs).sort()).toEqual(['reason', 'ref', 'repeats']);
    expect(job.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
  });

  it('grants only contents and pull-requests write', () => {
    expect(wf.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
  });

  it('checks out the event commit with full history and no persisted token', () => {
    const checkout = stepsOf(job).find((s) => String(s.uses).startsWith('actions/checkout@'))!;
    expect(checkout.with).toEqual({
      ref: '${{ github.event.pull_request.head.sha || inputs.ref || github.sha }}',
      'fetch-depth': 0,
      'persist-credentials': false,
    });
  });

  it('serialises per runner label and branch without cancelling a training', () => {
    expect(job.concurrency['cancel-in-progress']).toBe(false);
    expect(job.concurrency.group).toContain('${{ github.head_ref || github.ref_name }}');
  });

  it('its dispatch inputs are the ones the action reads for a baseline (repeats, reason)', () => {
    const declared = wf.on.workflow_dispatch.inputs as Record<string, unknown>;
    const given: Record<string, string> = {};
    for (const name of Object.keys(declared))
      given[name] = { repeats: '5', reason: 'new data snapshot' }[name] ?? '';
    const ctx: JobContext = {
      eventName: 'workflow_dispatch',
      payload: { inputs: given, repository: { default_branch: 'main' } },
      owner: 'lab',
      repo: 'mini',
      sha: 'a'.repeat(40),
      ref: 'refs/heads/main',
      actor: 'alice',
      runId: '1',
      runAttempt: '1',
      serverUrl: 'https://github.com',
      workspace: root,
      runnerName: 'mac-mini-1',
      runnerTemp: '',
    };
    expect(planJob(ctx, { mode: 'auto', branchPattern: 'autoresearch/*' })).toEqual({
      kind: 'baseline',
      sha: 'a'.repeat(40),
      branch: 'main',
      defaultBranch: 'main',
      repeats: 5,
      reason: 'new data snapshot',
      triggeredBy: 'alice',
    });
    // Left empty, as the form defaults them: the baseline-repeats input and a generated reason.
    const empty = planJob(
      { ...ctx, payload: { inputs: { ref: '', repeats: '', reason: '' } } },
      {
        mode: 'auto',
        branchPattern: 'autoresearch/*',
      },
    );
    expect(empty).toMatchObject({ kind: 'baseline', reason: 'workflow_dispatch by alice' });
    expect(empty.kind === 'baseline' && empty.repeats).toBeUndefined();
  });

  it('pushes to the branches the action treats as experiments by default', () => {
    const planFor = (branch: string) =>
      planJob(
        {
          eventName: 'push',
          payload: { after: 'b'.repeat(40), before: 'c'.repeat(40), repository: { default_branch: 'main' } },
          owner: 'lab',
          repo: 'mini',
          sha: 'b'.repeat(40),
          ref: `refs/heads/${branch}`,
          actor: 'alice',
          runId: '1',
          runAttempt: '1',
          serverUrl: 'https://github.com',
          workspace: root,
          runnerName: 'mac-mini-1',
          runnerTemp: '',
        },
        { mode: 'auto', branchPattern: String(action.inputs['branch-pattern'].default) },
      ).kind;
    expect(planFor('autoresearch/may9')).toBe('experiment');
    expect(path.posix.matchesGlob('autoresearch/may9', wf.on.push.branches[0])).toBe(true);
  });
});

describe('examples/fleet.yml', () => {
  const wf = byFile('examples/fleet.yml');
  const [[, job]] = jobsOf(wf) as [[string, Json]];

  it('runs every experiment on each runner label, never cancelling the other machines', () => {
    expect(job.strategy['fail-fast']).toBe(false);
    expect(job.strategy.matrix.runner.length).toBeGreaterThan(1);
    expect([job['runs-on']].flat()).toContain('${{ matrix.runner }}');
    expect(job.concurrency.group).toContain('${{ matrix.runner }}');
    expect(job.concurrency['cancel-in-progress']).toBe(false);
  });
});

describe('action.yml', () => {
  it('passes the manifest checks', () => {
    expect(checkActionManifest(actionText, root)).toEqual([]);
    expect(actionDocument.errors).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The checkers find what they are for

describe('the checkers reject bad workflows', () => {
  const good = (): Json => ({
    on: { push: {} },
    permissions: { contents: 'write', 'pull-requests': 'write' },
    jobs: {
      judge: {
        'runs-on': 'self-hosted',
        concurrency: { group: 'g', 'cancel-in-progress': false },
        steps: [
          { uses: 'actions/checkout@v4' },
          { id: 'ar', uses: './', with: { repeats: '2' } },
          { run: 'echo "${{ steps.ar.outputs.val-bpb }}"', if: "steps.ar.outputs.status != ''" },
        ],
      },
    },
  });

  it('accepts the good baseline', () => {
    expect(checkWorkflow(good(), actionSpec)).toEqual([]);
  });

  it('finds a missing `on`, `runs-on` or `steps`', () => {
    const wf = good();
    delete wf.on;
    delete wf.jobs.judge['runs-on'];
    wf.jobs.other = { 'runs-on': 'ubuntu-latest' };
    expect(checkShape(wf)).toEqual([
      'no top-level `on`',
      'job judge has no runs-on',
      'job other has no steps',
    ]);
    expect(checkShape({ on: {} })).toEqual(['no top-level `jobs`']);
  });

  it('finds an undeclared input, also on a published reference of the action', () => {
    const wf = good();
    wf.jobs.judge.steps[1] = { id: 'ar', uses: 'someone/autoresearch-ci@v1', with: { repetitions: '2' } };
    expect(checkActionInputs(wf, actionSpec)).toEqual([
      "job judge, step ar: input 'repetitions' is not declared in action.yml",
    ]);
    // Other actions' inputs are theirs to check.
    wf.jobs.judge.steps[1].uses = 'actions/cache@v4';
    expect(checkActionInputs(wf, actionSpec)).toEqual([]);
  });

  it('finds an undeclared output and a reference to a missing step', () => {
    const wf = good();
    wf.jobs.judge.steps[2].run = "echo ${{ steps.ar.outputs.val_bpb }} ${{ steps.ar.outputs['p-value'] }}";
    wf.jobs.judge.steps[2].if = "steps.gone.outputs.status != ''";
    expect(checkOutputReferences(wf, actionSpec)).toEqual([
      'job judge: steps.ar.outputs.val_bpb is not an output action.yml declares',
      'job judge: steps.ar.outputs.p-value is not an output action.yml declares',
      'job judge: steps.gone does not exist',
    ]);
  });

  it('finds `uses: ./` before the checkout', () => {
    const wf = good();
    wf.jobs.judge.steps.reverse();
    expect(checkLocalActionAfterCheckout(wf)).toEqual([
      'job judge: step 2 uses ./ before any actions/checkout step',
    ]);
    wf.jobs.judge.steps = wf.jobs.judge.steps.filter((s: Json) => !s.uses?.startsWith('actions/'));
    expect(checkLocalActionAfterCheckout(wf)).toEqual([
      'job judge: step 2 uses ./ before any actions/checkout step',
    ]);
  });

  it('finds write-all, extra scopes and undeclared permissions', () => {
    expect(checkPermissions({ ...good(), permissions: 'write-all' })).toEqual([
      "workflow: permissions 'write-all' is not least privilege",
    ]);
    expect(
      checkPermissions({ ...good(), permissions: { contents: 'write', actions: 'write', issues: 'all' } }),
    ).toEqual([
      "workflow: permission 'actions' is more than needed",
      "workflow: permission 'issues' is more than needed",
      "workflow: issues: 'all' is not a level",
    ]);
    const undeclared = good();
    delete undeclared.permissions;
    expect(checkPermissions(undeclared)).toEqual(['job judge: no permissions at job or workflow level']);
    undeclared.jobs.judge.permissions = 'read-all';
    expect(checkPermissions(undeclared)).toEqual([
      "job judge: permissions 'read-all' is not least privilege",
    ]);
  });

  it('finds a training job that may be cancelled', () => {
    const wf = good();
    wf.jobs.judge.concurrency['cancel-in-progress'] = true;
    expect(checkTrainingConcurrency(wf)).toEqual([
      'job judge: concurrency must set cancel-in-progress: false',
    ]);
    wf.jobs.judge.concurrency = 'group-only';
    expect(checkTrainingConcurrency(wf)).toEqual([
      'job judge: trains without a concurrency group with cancel-in-progress: false',
    ]);
    // Workflow-level concurrency counts for its jobs.
    delete wf.jobs.judge.concurrency;
    wf.concurrency = { group: 'w', 'cancel-in-progress': false };
    expect(checkTrainingConcurrency(wf)).toEqual([]);
    // A job that does not run this action does not train.
    const other = { on: {}, jobs: { lint: { 'runs-on': 'x', steps: [{ run: 'true' }] } } };
    expect(checkTrainingConcurrency(other)).toEqual([]);
  });

  it('recognises this action by its local path or published name only', () => {
    expect(isThisAction('./')).toBe(true);
    expect(isThisAction('acme/autoresearch-ci@v1')).toBe(true);
    expect(isThisAction('acme/autoresearch-ci@0123456789abcdef0123456789abcdef01234567')).toBe(true);
    expect(isThisAction('acme/autoresearch-ci-fork@v1')).toBe(false);
    expect(isThisAction('acme/autoresearch-ci')).toBe(false);
    expect(isThisAction('./other')).toBe(false);
  });
});

describe('the manifest checker rejects a bad action.yml', () => {
  it('finds a wrong runtime, a missing bundle, missing branding, and unquoted or missing defaults', () => {
    const bad = [
      'name: x',
      'description: y',
      'inputs:',
      '  flag:',
      '    description: "a flag"',
      '    default: true',
      '  count:',
      '    description: "a count"',
      '    default: 3',
      '  plain:',
      '    description: "a plain word"',
      '    default: auto',
      '  nodefault:',
      '    description: "none"',
      '  undocumented:',
      '    default: "x"',
      '  token:',
      '    description: "an expression"',
      '    default: ${{ github.token }}',
      'runs:',
      '  using: node20',
      '  main: dist/missing.js',
    ].join('\n');
    expect(checkActionManifest(bad, root)).toEqual([
      "runs.using is 'node20', not node24",
      "runs.main 'dist/missing.js' does not exist in the repository",
      'branding needs icon and color',
      'input flag: default true is not a quoted string',
      'input count: default 3 is not a quoted string',
      'input plain: default "auto" is not a quoted string',
      'input nodefault has no default',
      'input undocumented has no description',
    ]);
  });

  it('finds duplicate keys', () => {
    expect(checkActionManifest('name: a\nname: b\n', root)[0]).toMatch(/unique/i);
  });
});
