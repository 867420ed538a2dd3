/**
 * Comparability key: a val_bpb is only compared with a baseline measured on the same machine,
 * harness, data, budget, command and locked dependencies. Each is a component, so a report can
 * say which one drifted rather than only "not comparable".
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Protocol } from '../settings/protocol.js';
import { tildify } from './data-snapshot.js';

/** What a baseline is valid for. Hashes are 16 hex digits. */
export interface ComparabilityComponents {
  /** `hardwareHash` of the runner (hardware.ts). */
  hardware: string;
  /** Hash of the protocol's immutable files (e.g. prepare.py) in the working tree; `none` if it lists none. */
  harness: string;
  /** `fingerprintSnapshot` hash of the data (data-snapshot.ts). */
  data: string;
  budgetSeconds: number;
  /** The training command, whitespace-normalised. */
  command: string;
  /** Hash of uv.lock, or `none` when the repository has none. */
  lockfile: string;
}

/** One component name. */
export type ComponentName = keyof ComparabilityComponents;

/** Every component, in the order reports list them. */
export const COMPONENT_NAMES: readonly ComponentName[] = [
  'hardware',
  'harness',
  'data',
  'budgetSeconds',
  'command',
  'lockfile',
];

/** A component cannot be computed (e.g. an immutable file is missing). */
export class ComparabilityError extends Error {
  override name = 'ComparabilityError';
}

/** Inputs of {@link computeComponents}. */
export interface ComputeComponentsOptions {
  /** Root of the checked-out repository: immutable paths and the lockfile are relative to it. */
  workdir: string;
  protocol: Pick<Protocol, 'immutablePaths' | 'budgetSeconds' | 'command'>;
  hardwareHash: string;
  dataHash: string;
  /** Lockfile path relative to `workdir` (default `uv.lock`, the protocol's package manager). */
  lockfile?: string;
}

const NONE = 'none';

/** Computes the components for the current checkout and runner. */
export async function computeComponents(opts: ComputeComponentsOptions): Promise<ComparabilityComponents> {
  const lockfile = opts.lockfile ?? 'uv.lock';
  const [harness, lock] = await Promise.all([
    harnessHash(opts.workdir, opts.protocol.immutablePaths),
    lockfileHash(path.join(opts.workdir, lockfile)),
  ]);
  return {
    hardware: opts.hardwareHash,
    harness,
    data: opts.dataHash,
    budgetSeconds: opts.protocol.budgetSeconds,
    command: normaliseCommand(opts.protocol.command),
    lockfile: lock,
  };
}

/**
 * Hash over the immutable files' paths and contents (sorted by path, so the protocol's order does
 * not matter). A missing file is an error: comparing against a harness that is not there would
 * be meaningless, and the protocol forbids removing it.
 */
async function harnessHash(workdir: string, immutablePaths: readonly string[]): Promise<string> {
  if (immutablePaths.length === 0) return NONE;
  const lines: string[] = [];
  for (const rel of [...new Set(immutablePaths)].sort()) {
    let content: Buffer;
    try {
      content = await readFile(path.resolve(workdir, rel));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'is missing' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
      throw new ComparabilityError(
        `immutable harness file ${rel} (protocol immutableHarness.paths) ${why} in ${workdir}; restore it from the base branch (it must not change) or fix the protocol`,
      );
    }
    lines.push(`${rel}\t${sha256(content)}`);
  }
  return short(lines.join('\n'));
}

async function lockfileHash(file: string): Promise<string> {
  try {
    return short(await readFile(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return NONE;
    throw new ComparabilityError(
      `lockfile ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
}

/** "uv run  train.py " and "uv run train.py" are the same command. */
function normaliseCommand(command: string): string {
  return command.trim().replace(/\s+/g, ' ');
}

/** Stable short hash of all components (16 hex digits); independent of the object's key order. */
export function keyHash(components: ComparabilityComponents): string {
  const canonical = JSON.stringify([1, ...COMPONENT_NAMES.map((name) => components[name])]);
  return short(canonical);
}

/** One drifted component. */
export interface ComponentDiff {
  component: ComponentName;
  before: string;
  after: string;
  /** e.g. "the time budget changed 300 s → 600 s". */
  explanation: string;
}

/** Names that make explanations concrete; all optional. */
export interface DiffContext {
  /** The protocol's immutable paths, e.g. ["prepare.py"]. */
  harnessPaths?: readonly string[];
  /** The data snapshot root, e.g. /Users/me/.cache/autoresearch (shown with ~). */
  dataRoot?: string;
  /** Lockfile name (default uv.lock). */
  lockfile?: string;
  /** Hardware labels of the stored and current runner. */
  hardwareLabels?: { before?: string; after?: string };
}

/**
 * Lists the components that differ, each with a sentence saying what drifted. Empty means
 * comparable. `stored` may come from an older state file lacking some components: a missing one
 * counts as drifted ("unrecorded").
 */
export function diffComponents(
  stored: Partial<ComparabilityComponents>,
  current: ComparabilityComponents,
  context: DiffContext = {},
): ComponentDiff[] {
  const diffs: ComponentDiff[] = [];
  for (const component of COMPONENT_NAMES) {
    const before = stored[component] === undefined ? 'unrecorded' : String(stored[component]);
    const after = String(current[component]);
    if (before === after) continue;
    diffs.push({ component, before, after, explanation: explain(component, before, after, context) });
  }
  return diffs;
}

function explain(component: ComponentName, before: string, after: string, context: DiffContext): string {
  switch (component) {
    case 'hardware': {
      const labels = context.hardwareLabels;
      const shown =
        labels?.before && labels.after && labels.before !== labels.after
          ? `${labels.before} → ${labels.after}`
          : `hardware fingerprint ${before} → ${after}`;
      return `a different machine (${shown})`;
    }
    case 'harness': {
      const paths = context.harnessPaths?.length ? context.harnessPaths.join(', ') : 'files';
      return `the immutable harness ${paths} changed`;
    }
    case 'data':
      return `the data snapshot changed${context.dataRoot ? ` (${tildify(context.dataRoot)})` : ''}`;
    case 'budgetSeconds':
      return `the time budget changed ${before === 'unrecorded' ? before : `${before} s`} → ${after} s`;
    case 'command':
      return `the training command changed: \`${before}\` → \`${after}\``;
    case 'lockfile': {
      const name = context.lockfile ?? 'uv.lock';
      if (before === NONE) return `${name} was added`;
      if (after === NONE) return `${name} was removed`;
      return `${name} changed`;
    }
  }
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function short(data: string | Buffer): string {
  return sha256(data).slice(0, 16);
}
