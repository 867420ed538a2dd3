import path from 'node:path';
import { z } from 'zod';
import { expandTilde } from './home-path.js';

/** Raised for an input that cannot be used; the message names the input, the value and what is accepted. */
export class InputError extends Error {
  override name = 'InputError';
}

/** Reads one raw input as the runner passes it (`''` when unset). */
export type InputReader = (name: string) => string;

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false'], { message: 'expected true or false' }))
  .transform((v) => v === 'true');

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `expected a whole number from ${min} to ${max}`)
        .max(max, `expected at most ${max}`),
    );

const optionalPositiveSeconds = z
  .string()
  .trim()
  .transform((v, ctx) => {
    if (v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a positive number of seconds, or empty for the protocol hard timeout',
      });
      return z.NEVER;
    }
    return n;
  });

/**
 * Every input of action.yml with the value the runner passes when the workflow leaves it unset.
 * The runner always sends action.yml's defaults; the local CLI and tests rely on these.
 */
export const INPUT_DEFAULTS = {
  mode: 'auto',
  protocol: '',
  command: '',
  'working-directory': '.',
  'cache-dir': '~/.cache/autoresearch',
  'state-dir': '~/.autoresearch-ci',
  'timeout-seconds': '',
  offline: 'true',
  repeats: '1',
  'baseline-repeats': '8',
  'min-improvement': '0',
  confidence: '0.95',
  decision: 'loop',
  force: 'false',
  'results-branch': 'autoresearch-results',
  'results-path': '{branch}/{runner}/results.tsv',
  comment: 'true',
  'allow-forks': 'false',
  'branch-pattern': 'autoresearch/*',
  'baseline-branches': '',
  'run-as': '',
  'fail-on': 'crash',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the workflow expression action.yml declares
  'github-token': '${{ github.token }}',
} as const;

/** Name of an action input. */
export type InputName = keyof typeof INPUT_DEFAULTS;

const inputSchema = z.object({
  mode: z.enum(['auto', 'experiment', 'baseline'], { message: 'expected auto, experiment or baseline' }),
  protocol: z.string().trim(),
  command: z.string().trim(),
  'working-directory': z.string().trim().min(1, 'expected a directory path'),
  'cache-dir': z.string().trim().min(1, 'expected a directory path'),
  'state-dir': z.string().trim().min(1, 'expected a directory path'),
  'timeout-seconds': optionalPositiveSeconds,
  offline: bool,
  repeats: wholeNumber(1, 20),
  // One run cannot estimate the noise: verdicts would be over-confident.
  'baseline-repeats': wholeNumber(2, 50),
  'min-improvement': z
    .string()
    .trim()
    .transform(Number)
    .pipe(
      z
        .number({ message: 'expected a number ≥ 0 in the metric units' })
        .finite()
        .min(0, 'expected a number ≥ 0'),
    ),
  confidence: z
    .string()
    .trim()
    .transform(Number)
    .pipe(
      z
        .number({ message: 'expected a probability between 0.5 and 0.9999' })
        .min(0.5, 'expected a probability between 0.5 and 0.9999')
        .max(0.9999, 'expected a probability between 0.5 and 0.9999'),
    ),
  decision: z.enum(['loop', 'strict'], { message: 'expected loop or strict' }),
  force: bool,
  'results-branch': z.string().trim(),
  'results-path': z.string().trim().min(1, 'expected a path such as {branch}/{runner}/results.tsv'),
  comment: bool,
  'allow-forks': bool,
  'branch-pattern': z.string().trim().min(1, 'expected a glob such as autoresearch/*'),
  'baseline-branches': z.string().trim(),
  'run-as': z
    .string()
    .trim()
    .regex(/^([a-z_][a-z0-9_.-]*)?$/i, 'expected a user name such as autoresearch-trainer, or empty'),
  'fail-on': z.enum(['crash', 'regression', 'never'], { message: 'expected crash, regression or never' }),
  'github-token': z.string(),
});

/**
 * Wraps a reader so that an unset input takes action.yml's default, as the runner does. For the
 * local CLI and tests; in the action the runner has already applied the defaults, and an empty
 * value is the user's (e.g. `results-branch: ""`).
 */
export function withDefaults(read: InputReader): InputReader {
  return (name) => {
    const value = read(name);
    return value === '' && name in INPUT_DEFAULTS && name !== 'github-token'
      ? INPUT_DEFAULTS[name as InputName]
      : value;
  };
}

/**
 * The `repeats` input of a workflow_dispatch event: runs of the baseline it asks for, held to the
 * same 2–50 as `baseline-repeats`. Empty or absent means "use baseline-repeats".
 * @throws InputError naming the input, its value and what is accepted
 */
export function readDispatchRepeats(value: unknown): number | undefined {
  if (value === undefined || value === null || String(value).trim() === '') return undefined;
  const parsed = inputSchema.shape['baseline-repeats'].safeParse(String(value));
  if (parsed.success) return parsed.data;
  throw new InputError(
    `workflow_dispatch input 'repeats' has value '${String(value)}': ${parsed.error.issues[0]!.message}.`,
  );
}

/** How an input is named in messages: `input 'repeats'` in the action, `--repeats` in the CLI. */
export type InputLabel = (name: InputName) => string;

const actionInputLabel: InputLabel = (name) => `input '${name}'`;

/** The inputs, validated, as the typed settings object; relative paths resolve against `cwd`. */
function settingsSchema(cwd: string) {
  return inputSchema.transform((v) => {
    const workingDirectory = path.resolve(cwd, expandTilde(v['working-directory']));
    return {
      /** `auto` picks by event: workflow_dispatch → baseline, push/pull_request → experiment. */
      mode: v.mode,
      /** Absolute path of the protocol file, or undefined for "protocol.json if present, else built-in". */
      protocolPath: v.protocol ? path.resolve(workingDirectory, expandTilde(v.protocol)) : undefined,
      /** Overrides the protocol's command when set. */
      command: v.command || undefined,
      /** Absolute path of the experiment checkout. */
      workingDirectory,
      /** Absolute data snapshot root (the protocol's cache is rebased onto it). */
      cacheDir: path.resolve(cwd, expandTilde(v['cache-dir'])),
      /** Absolute runner-local state directory (baselines, ledger, lock). */
      stateDir: path.resolve(cwd, expandTilde(v['state-dir'])),
      /** Overrides the protocol's hard timeout when set. */
      timeoutSeconds: v['timeout-seconds'],
      /** Run the training without network access. */
      offline: v.offline,
      /** Experiment runs (fail-fast stops early). */
      repeats: v.repeats,
      /** Runs that make up a baseline. */
      baselineRepeats: v['baseline-repeats'],
      /** Smallest improvement, in metric units, that may be kept. */
      minImprovement: v['min-improvement'],
      /** One-sided confidence for improved/regressed. */
      confidence: v.confidence,
      /**
       * How keep/discard is decided: `loop` (expected gain for the night against the champion,
       * docs/verdict-statistics.md) or `strict` (a one-sided t-test per experiment at `confidence`).
       */
      decision: v.decision,
      /** Re-run a train.py already scored under the same comparability key. */
      force: v.force,
      /** Branch that receives results.tsv rows; `''` means the experiment branch itself. */
      resultsBranch: v['results-branch'],
      /** Path template of results.tsv on that branch: `{branch}` and `{runner}` are replaced. */
      resultsPath: v['results-path'],
      /** Upsert the sticky PR comment. */
      comment: v.comment,
      /** Let fork PRs run when labelled `safe-to-test` by someone with write access. */
      allowForks: v['allow-forks'],
      /** Pushed branches that count as experiments. */
      branchPattern: v['branch-pattern'],
      /** Branches besides the default branch a baseline may be measured on (globs). */
      baselineBranches: v['baseline-branches'].split(/[\s,]+/).filter((b) => b !== ''),
      /** Dedicated unprivileged user the training runs as; undefined: the runner's own user. */
      runAs: v['run-as'] || undefined,
      /** When the step fails. */
      failOn: v['fail-on'],
      /** Token for the API and the results push; never passed to the training. An unexpanded
       * expression means no token was provided (local runs). */
      githubToken: v['github-token'].startsWith('${{') ? '' : v['github-token'],
    };
  });
}

/** `T` with the properties that may be undefined made optional (the overrides left unset). */
type OptionalWhenUndefined<T> = {
  [K in keyof T as undefined extends T[K] ? K : never]?: T[K];
} & { [K in keyof T as undefined extends T[K] ? never : K]: T[K] };

/** The typed settings object, read once from the inputs. */
export type Settings = OptionalWhenUndefined<z.output<ReturnType<typeof settingsSchema>>>;

/**
 * Reads and validates every input once.
 * @param read returns the raw input (core.getInput in the action, where the runner filled in defaults)
 * @param cwd resolves relative paths (the workspace in the action)
 * @param label names an input in an error (the CLI names its flags)
 */
export function readSettings(
  read: InputReader,
  cwd: string = process.cwd(),
  label: InputLabel = actionInputLabel,
): Settings {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(INPUT_DEFAULTS)) raw[name] = read(name);
  const parsed = settingsSchema(cwd).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]) as InputName;
    throw new InputError(`${label(name)} has value '${raw[name]}': ${issue.message}.`);
  }
  return parsed.data;
}
