/**
 * The runner's baselines (`baselines.json` in the state dir): per comparability key, the current
 * baseline measurement and the ones it replaced. The key hash is opaque here; its components are
 * stored alongside so that a caller finding no baseline for its key can see which other key has
 * one and what differs (a new macOS, another MLX, another data snapshot…).
 */
import path from 'node:path';
import { z } from 'zod';
import { readStateFile, StateFileError, type StateFormat, updateStateFile } from './atomic-file.js';

/** File name of the baselines in the state dir. */
export const BASELINES_FILE = 'baselines.json';

/** What a comparability key was computed from (hardware, OS, toolchain, data…), as the caller gives it. */
export type KeyComponents = Record<string, unknown>;

/** Zod 4 numbers already reject NaN and ±Infinity; the message says so plainly. */
const finite = z.number({ error: 'must be a finite number' });

const entrySchema = z
  .looseObject({
    commit: z.string().min(1, 'must name the commit'),
    ref: z.string(),
    date: z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO date' }),
    triggeredBy: z.string(),
    reason: z.string(),
    samples: z.array(finite).min(1, 'must hold at least one sample'),
    mean: finite,
    sigma: finite.refine((v) => v >= 0, { message: 'must not be negative' }),
    n: z.number().int().positive(),
    trainBlob: z.string().min(1).optional(),
    metrics: z.record(z.string(), finite).optional(),
  })
  .refine((e) => e.n === e.samples.length, {
    message: 'n must equal the number of samples',
    path: ['n'],
  });

/** One baseline measurement. */
export interface BaselineEntry {
  /** Commit whose train.py was measured. */
  commit: string;
  ref: string;
  /** ISO date of the measurement. */
  date: string;
  /** Who or what asked for it (actor, schedule, CLI). */
  triggeredBy: string;
  /** Why it became the baseline (first run, manual re-baseline, merged improvement…). */
  reason: string;
  samples: number[];
  mean: number;
  sigma: number;
  n: number;
  /** Git blob hash of train.py. */
  trainBlob?: string;
  /** Secondary metrics (means), by name. */
  metrics?: Record<string, number>;
  /** The operating system it was measured on (an update can shift speed without changing the hardware). */
  os?: { name: string; version?: string; major?: string };
}

/** Everything stored for one comparability key. */
export interface BaselineKeyRecord {
  components: KeyComponents;
  current: BaselineEntry;
  /** Earlier baselines of this key, oldest first (the current one is not repeated here). */
  history: BaselineEntry[];
  /** When the current baseline was promoted. */
  updatedAt: string;
}

/** The whole baselines file. */
export interface Baselines {
  keys: Record<string, BaselineKeyRecord>;
}

/** A baseline found under a key other than the one asked about. */
export interface KeyedBaseline {
  keyHash: string;
  components: KeyComponents;
  current: BaselineEntry;
  updatedAt: string;
}

const keyRecordSchema = z.looseObject({
  components: z.record(z.string(), z.unknown()),
  current: entrySchema,
  history: z.array(entrySchema),
  updatedAt: z.string(),
});

const baselinesFormat: StateFormat<Baselines> = {
  schema: 'autoresearch-ci/baselines',
  version: 1,
  body: z.looseObject({ keys: z.record(z.string(), keyRecordSchema) }) as z.ZodType<Baselines>,
};

/** Path of the baselines file in a state dir. */
export function baselinesPath(stateDir: string): string {
  return path.join(stateDir, BASELINES_FILE);
}

/**
 * Reads every baseline; an absent file reads as no baselines.
 * @throws StateFileError when the file is corrupt (moved aside) or from a newer version
 */
export async function readBaselines(stateDir: string): Promise<Baselines> {
  return (await readStateFile(baselinesPath(stateDir), baselinesFormat)) ?? { keys: {} };
}

/** The current baseline of a key, if any. */
export async function currentBaseline(stateDir: string, keyHash: string): Promise<BaselineEntry | undefined> {
  return (await readBaselines(stateDir)).keys[keyHash]?.current;
}

/**
 * Makes `entry` the current baseline of `keyHash`; the previous one moves to the key's history.
 * Safe against concurrent promotions from other processes (read-modify-write under a lock).
 * @param components what the key was computed from, stored for later drift reports
 * @throws StateFileError naming the bad field when `entry` is invalid
 */
export async function promoteBaseline(
  stateDir: string,
  keyHash: string,
  components: KeyComponents,
  entry: BaselineEntry,
): Promise<BaselineKeyRecord> {
  const file = baselinesPath(stateDir);
  if (typeof keyHash !== 'string' || keyHash.length === 0) {
    throw new StateFileError(
      `cannot promote a baseline into ${file}: keyHash must be a non-empty string`,
      file,
    );
  }
  const checked = entrySchema.safeParse(entry);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `entry.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new StateFileError(`cannot promote a baseline into ${file}: ${problems}`, file);
  }
  let record: BaselineKeyRecord | undefined;
  await updateStateFile(file, baselinesFormat, (current) => {
    const keys = { ...(current?.keys ?? {}) };
    const previous = keys[keyHash];
    record = {
      components: structuredClone(components),
      current: structuredClone(entry),
      history: previous ? [...previous.history, previous.current] : [],
      updatedAt: new Date().toISOString(),
    };
    keys[keyHash] = record;
    return { ...current, keys };
  });
  return record!;
}

/**
 * The most recently promoted baseline stored under a key other than `keyHash`: when the caller's
 * key has none, this is the one whose components tell what drifted.
 * @param match keeps only keys whose components pass (e.g. same runner label)
 */
export async function findBaselineByOtherKey(
  stateDir: string,
  keyHash: string,
  match?: (components: KeyComponents) => boolean,
): Promise<KeyedBaseline | undefined> {
  return latest(await readBaselines(stateDir), (hash, components) => {
    return hash !== keyHash && (match === undefined || match(components));
  });
}

/**
 * The most recently promoted baseline of any key.
 * @param runnerLabel keeps only keys whose components have this `runnerLabel`
 */
export async function latestBaselineAnyKey(
  stateDir: string,
  runnerLabel?: string,
): Promise<KeyedBaseline | undefined> {
  return latest(
    await readBaselines(stateDir),
    (_hash, components) => runnerLabel === undefined || components['runnerLabel'] === runnerLabel,
  );
}

function latest(
  baselines: Baselines,
  keep: (hash: string, components: KeyComponents) => boolean,
): KeyedBaseline | undefined {
  let best: KeyedBaseline | undefined;
  for (const [keyHash, record] of Object.entries(baselines.keys)) {
    if (!keep(keyHash, record.components)) continue;
    if (best === undefined || record.updatedAt > best.updatedAt) {
      best = { keyHash, components: record.components, current: record.current, updatedAt: record.updatedAt };
    }
  }
  return best;
}
