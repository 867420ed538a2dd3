import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ACTION_ADVICE, type Advice } from './advice.js';
import builtinDocument from './autoresearch-mlx.protocol.json' with { type: 'json' };
import { expandTilde } from './home-path.js';
import { type IntegritySpec, integritySchema, resolveIntegrity } from './integrity.js';

/** Raised when a protocol document cannot be read or does not match the schema. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const regexExtract = z.looseObject({
  kind: z.literal('regex'),
  pattern: z.string().min(1).refine(isValidRegex, { message: 'is not a valid regular expression' }),
});

const metricName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier such as val_bpb');

const metric = z.looseObject({
  name: metricName,
  direction: z.enum(['minimize', 'maximize']),
  extract: regexExtract,
  /** Unit the value is printed in, shown next to it (e.g. "MB", "tok/s"). */
  unit: z.string().max(20).optional(),
});

/** How one summary metric is shown in the report and the results row. */
const figure = z.looseObject({
  metric: metricName,
  label: z.string().min(1).max(40),
  unit: z.string().max(20).default(''),
  /** Multiplies the printed value into the shown unit (MB → GB: 1/1024). */
  scale: z.number().positive().default(1),
  decimals: z.number().int().min(0).max(6).default(2),
  /** `memory`: also shown as a share of the runner's RAM and written to memory_gb; `training-time`: against the budget. */
  role: z.enum(['memory', 'training-time']).optional(),
});

/**
 * The figures autoresearch's train.py prints, for protocols that list none: a protocol only names
 * its metrics, so these say how they read (train.py's MB are MiB: /1024 gives GB as results.tsv writes it).
 */
const DEFAULT_FIGURES: z.input<typeof figure>[] = [
  { metric: 'peak_vram_mb', label: 'Peak memory', unit: 'GB', scale: 1 / 1024, decimals: 1, role: 'memory' },
  { metric: 'training_seconds', label: 'Training time', unit: 's', decimals: 1, role: 'training-time' },
  { metric: 'num_steps', label: 'Steps', decimals: 0 },
  { metric: 'total_tokens_M', label: 'Tokens', unit: 'M', decimals: 1 },
  { metric: 'num_params_M', label: 'Parameters', unit: 'M', decimals: 1 },
];

/**
 * What MLX on Metal prints when memory runs out (as a Python error or a libc++abi abort), for
 * protocols that name no patterns of their own; backend-neutral ones (MemoryError, "out of
 * memory") are always recognised.
 */
const DEFAULT_OOM_PATTERNS = [
  '\\[metal::malloc\\]',
  'kIOGPUCommandBufferCallbackErrorOutOfMemory',
  'Insufficient Memory',
  '\\[METAL\\] Command buffer execution failed',
];

/** Unknown fields are kept (loose objects): the document belongs to the user, we only read what we need. */
const protocolSchema = z.looseObject({
  schemaKind: z.literal('protocol'),
  protocolVersion: z.string().regex(/^1\.\d+$/, 'must be a 1.x version such as "1.0"'),
  meta: z.looseObject({}).optional(),
  environment: z.looseObject({}).optional(),
  mutableSurface: z.looseObject({
    allowedGlobs: z.array(z.string().min(1)).min(1),
    forbiddenGlobs: z.array(z.string().min(1)).default([]),
  }),
  immutableHarness: z.looseObject({ paths: z.array(z.string().min(1)).default([]) }).default({ paths: [] }),
  execution: z.looseObject({
    command: z.string().trim().min(1),
    cwd: z.string().min(1).default('.'),
    stopCondition: z.looseObject({
      type: z.string(),
      trainingSecondsBudget: z.number().positive(),
    }),
    hardTimeoutSeconds: z.number().positive(),
  }),
  measurement: z.looseObject({
    primaryMetric: metric,
    secondaryMetrics: z.array(metric).default([]),
    /** How summary metrics are shown; absent: train.py's figures, then every other secondary metric. */
    figures: z.array(figure).optional(),
  }),
  provenance: z
    .looseObject({
      resultsLog: z
        .looseObject({
          format: z.literal('tsv').default('tsv'),
          path: z.string().min(1).default('results.tsv'),
          columns: z.array(z.string().min(1)).min(1),
        })
        .optional(),
      gitWorkflow: z.looseObject({ branchPattern: z.string().optional() }).optional(),
    })
    .default({}),
  safety: z
    .looseObject({
      oomPolicy: z.string().default('reduce_batch'),
      crashStatus: z.string().min(1).default('crash'),
      /** Regular expressions of the backend's out-of-memory messages. */
      oomPatterns: z
        .array(z.string().min(1).refine(isValidRegex, { message: 'is not a valid regular expression' }))
        .default(DEFAULT_OOM_PATTERNS),
    })
    .default({ oomPolicy: 'reduce_batch', crashStatus: 'crash', oomPatterns: DEFAULT_OOM_PATTERNS }),
  integrity: integritySchema.prefault({}),
  archetypeExtensions: z
    .looseObject({
      ml_train: z
        .looseObject({
          dataSnapshot: z
            .union([
              z.string(),
              z.looseObject({
                root: z.string().optional(),
                dataDir: z.string(),
                pinnedFiles: z.array(z.string()).default([]),
                tokenizerDir: z.string().optional(),
              }),
            ])
            .optional(),
        })
        .optional(),
    })
    .optional(),
});

/** The protocol document as validated (unknown fields kept). */
export type ProtocolDocument = z.infer<typeof protocolSchema>;

/** One metric the summary block reports. */
export interface MetricSpec {
  name: string;
  direction: 'minimize' | 'maximize';
  /** Compiled with the multiline flag: the patterns anchor on lines (`^val_bpb:...$`). */
  pattern: RegExp;
}

/** How one summary metric is shown (the protocol's `measurement.figures`, with defaults filled in). */
export type FigureSpec = z.infer<typeof figure>;

/** Where the runner's prepared data lives; every path absolute. */
export interface DataSnapshot {
  /** Root of the cache, e.g. ~/.cache/autoresearch. */
  root: string;
  /** Directory of the data shards. */
  dataDir: string;
  /** Files that must exist and whose contents identify the snapshot (the pinned validation shard). */
  pinnedFiles: string[];
  /** Tokenizer artifacts directory, if the protocol names one. */
  tokenizerDir?: string;
}

/** What the rest of the action reads: every protocol-driven decision comes from here, not constants. */
export interface Protocol {
  /** Path the document was loaded from, or `built-in`. */
  source: string;
  document: ProtocolDocument;
  command: string;
  cwd: string;
  budgetSeconds: number;
  hardTimeoutSeconds: number;
  allowedGlobs: string[];
  forbiddenGlobs: string[];
  immutablePaths: string[];
  primary: MetricSpec;
  secondary: MetricSpec[];
  /** The summary metrics the report shows, in order, with labels and units. */
  figures: FigureSpec[];
  results: { path: string; columns: string[] };
  branchPattern?: string;
  crashStatus: string;
  oomPolicy: string;
  /** Out-of-memory messages of the protocol's backend (multiline). */
  oomPatterns: RegExp[];
  /** Absent when the protocol does not describe a data snapshot. */
  dataSnapshot?: DataSnapshot;
  integrity: IntegritySpec;
}

/** Path of the protocol shipped with the action (a copy of autoresearch-mlx's). */
export const BUILTIN_PROTOCOL_SOURCE = 'built-in (autoresearch-mlx)';

const DEFAULT_RESULT_COLUMNS = ['commit', 'val_bpb', 'memory_gb', 'status', 'description'];
const DEFAULT_CACHE_ROOT = '~/.cache/autoresearch';

/**
 * Reads and validates a protocol file.
 * @param file path of the JSON document
 * @param cacheDir overrides the data snapshot root (the `cache-dir` input)
 * @param advice names what selects the protocol in errors (the input or the CLI flag)
 */
export function loadProtocolFile(file: string, cacheDir?: string, advice: Advice = ACTION_ADVICE): Protocol {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ProtocolError(
      `protocol file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); set ${advice.protocol} to an existing JSON file`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`protocol file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseProtocol(json, file, cacheDir, advice);
}

/** The built-in autoresearch-mlx protocol. */
export function builtinProtocol(cacheDir?: string): Protocol {
  return parseProtocol(structuredClone(builtinDocument), BUILTIN_PROTOCOL_SOURCE, cacheDir);
}

/** Validates an already-parsed document; `source` names it in errors. */
export function parseProtocol(
  json: unknown,
  source: string,
  cacheDir?: string,
  advice: Advice = ACTION_ADVICE,
): Protocol {
  const parsed = protocolSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  at ${jsonPath(issue.path)}: ${issue.message}`);
    throw new ProtocolError(
      `protocol ${source} is invalid (schema "protocol" 1.x):\n${problems.join('\n')}\nFix the field(s) above or point ${advice.protocol} at a valid document.`,
    );
  }
  const doc = parsed.data;
  const toSpec = (m: z.infer<typeof metric>): MetricSpec => ({
    name: m.name,
    direction: m.direction,
    pattern: new RegExp(m.extract.pattern, 'm'),
  });
  const resultsLog = doc.provenance.resultsLog;
  const snapshot = doc.archetypeExtensions?.ml_train?.dataSnapshot;
  return {
    source,
    document: doc,
    command: doc.execution.command,
    cwd: doc.execution.cwd,
    budgetSeconds: doc.execution.stopCondition.trainingSecondsBudget,
    hardTimeoutSeconds: doc.execution.hardTimeoutSeconds,
    allowedGlobs: doc.mutableSurface.allowedGlobs,
    forbiddenGlobs: doc.mutableSurface.forbiddenGlobs,
    immutablePaths: doc.immutableHarness.paths,
    primary: toSpec(doc.measurement.primaryMetric),
    secondary: doc.measurement.secondaryMetrics.map(toSpec),
    figures: figuresOf(doc.measurement.figures, doc.measurement.secondaryMetrics),
    results: {
      path: resultsLog?.path ?? 'results.tsv',
      columns: resultsLog?.columns ?? DEFAULT_RESULT_COLUMNS,
    },
    branchPattern: doc.provenance.gitWorkflow?.branchPattern || undefined,
    crashStatus: doc.safety.crashStatus,
    oomPolicy: doc.safety.oomPolicy,
    oomPatterns: doc.safety.oomPatterns.map((p) => new RegExp(p, 'm')),
    dataSnapshot: snapshot === undefined ? undefined : resolveSnapshot(snapshot, cacheDir),
    integrity: resolveIntegrity(doc),
  };
}

/** The declared figures, or train.py's followed by every other secondary metric in its own unit. */
function figuresOf(declared: FigureSpec[] | undefined, secondary: z.infer<typeof metric>[]): FigureSpec[] {
  if (declared) return declared;
  const defaults = DEFAULT_FIGURES.map((f) => figure.parse(f));
  const shown = new Set(defaults.map((f) => f.metric));
  const others = secondary
    .filter((m) => !shown.has(m.name))
    .map((m) => figure.parse({ metric: m.name, label: m.name, unit: m.unit ?? '' }));
  return [...defaults, ...others];
}

/**
 * Turns the protocol's data snapshot into absolute paths. The real protocol states it in prose
 * ("~/.cache/autoresearch/data with pinned validation shard X and tokenizer artifacts under Y"),
 * so the prose form is read by pattern; a structured form is accepted too.
 */
export function resolveSnapshot(
  snapshot: string | { root?: string; dataDir: string; pinnedFiles: string[]; tokenizerDir?: string },
  cacheDir?: string,
): DataSnapshot {
  let dataDir: string;
  let pinned: string[];
  let tokenizer: string | undefined;
  let declaredRoot: string | undefined;
  if (typeof snapshot === 'string') {
    const paths = snapshot.match(/(?:~|\/)[^\s,;]*/g) ?? [];
    dataDir = paths[0] ?? `${DEFAULT_CACHE_ROOT}/data`;
    tokenizer = snapshot.match(/tokenizer[^~/]*\s((?:~|\/)[^\s,;]+)/)?.[1];
    pinned = [...snapshot.matchAll(/\b([\w.-]+\.(?:parquet|bin|arrow|npy|pt|jsonl?))\b/g)].map((m) => m[1]!);
  } else {
    dataDir = snapshot.dataDir;
    pinned = snapshot.pinnedFiles;
    tokenizer = snapshot.tokenizerDir;
    declaredRoot = snapshot.root;
  }
  const protocolRoot = declaredRoot ?? commonRoot(dataDir, tokenizer);
  const rebase = (p: string): string => {
    const abs = expandHome(p);
    if (!cacheDir) return abs;
    const rel = path.relative(expandHome(protocolRoot), abs);
    return rel.startsWith('..') || path.isAbsolute(rel) ? abs : path.join(expandHome(cacheDir), rel);
  };
  const absData = rebase(dataDir);
  return {
    root: cacheDir ? expandHome(cacheDir) : expandHome(protocolRoot),
    dataDir: absData,
    pinnedFiles: pinned.map((f) =>
      path.isAbsolute(f) || f.startsWith('~') ? rebase(f) : path.join(absData, f),
    ),
    tokenizerDir: tokenizer ? rebase(tokenizer) : undefined,
  };
}

/** Expands a leading `~` to the home directory (the protocol writes paths as a shell would). */
export function expandHome(p: string): string {
  return path.resolve(expandTilde(p));
}

function commonRoot(a: string, b: string | undefined): string {
  if (!b) return path.dirname(a);
  const pa = a.split('/');
  const pb = b.split('/');
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  const root = pa.slice(0, i).join('/');
  return root === '' || root === '~' ? path.dirname(a) : root;
}

function jsonPath(segments: readonly PropertyKey[]): string {
  return '$' + segments.map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`)).join('');
}

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern, 'm');
    return true;
  } catch {
    return false;
  }
}
