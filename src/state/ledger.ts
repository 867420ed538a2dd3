/**
 * The runner's ledger (`ledger.jsonl` in the state dir): one JSON line per judged run, after a
 * header line `{"schema":"autoresearch-ci/ledger","version":1}`. It answers "was this train.py
 * already scored under this key?" (dedup) and "what is the best kept result of this branch?".
 *
 * Appends take the ledger's lock rather than relying on O_APPEND alone: the lock makes creating the
 * header race-free, lets a writer repair a line torn by a killed process before appending, and
 * stays correct on network file systems where O_APPEND is not atomic. It costs milliseconds per
 * five-minute run.
 */
import { access, type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { type Direction, isBetter, type Status, type VerdictKind } from '../model.js';
import {
  assertNoCorruptCopy,
  checkHeader,
  corruptError,
  ensureStateDir,
  quarantine,
  StateFileError,
  writeFileAtomic,
} from './atomic-file.js';
import { withFileLock } from './file-lock.js';
import { candidateLines, ledgerText, lineNumberAt } from './ledger-search.js';

/** File name of the ledger in the state dir. */
const LEDGER_FILE = 'ledger.jsonl';

const HEADER = { schema: 'autoresearch-ci/ledger', version: 1 } as const;

const STATUSES = ['keep', 'discard', 'crash', 'rejected', 'skipped'] as const satisfies readonly Status[];

/** Statuses that mean the run produced a judged value (a crash may be retried, so it is not one). */
const SCORED: ReadonlySet<string> = new Set<Status>(['keep', 'discard']);

const VERDICTS = [
  'improved',
  'regressed',
  'within-noise',
  'crashed',
  'not-comparable',
  'no-baseline',
] as const satisfies readonly VerdictKind[];

const text = z.string();

/**
 * One judged job. Only `at`, `keyHash`, `trainBlob` and `status` are required (the first ledgers
 * wrote no more); every field the action writes is declared, and unknown fields are kept as written.
 */
const recordSchema = z.looseObject({
  /** ISO time the run was judged. */
  at: z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO date' }),
  /** Comparability key hash the run was measured under. */
  keyHash: z.string().min(1, 'must be a non-empty string'),
  /** Git blob hash of train.py: identifies the experiment even after the commit is amended. */
  trainBlob: z.string().min(1, 'must be a non-empty string'),
  status: z.enum(STATUSES),
  commit: text.optional(),
  subject: text.optional(),
  branch: text.optional(),
  ref: text.optional(),
  mode: z.enum(['experiment', 'baseline']).optional(),
  /** The comparability components, by name (hardware, harness, data, budget, command, lock file). */
  components: z.record(z.string(), z.unknown()).optional(),
  /** The primary metric (mean of the samples), null when the run produced none. */
  value: z.number().nullable().optional(),
  /** The primary metric of each run. */
  samples: z.array(z.number()).optional(),
  /** The last run's finite summary metrics, by key. */
  metrics: z.record(z.string(), z.number()).optional(),
  /** How each run ended. */
  outcome: z
    .array(z.looseObject({ status: z.enum(['ok', 'crash']), kind: text.optional(), reason: text.optional() }))
    .optional(),
  verdict: z.enum(VERDICTS).optional(),
  durations: z.record(z.string(), z.number()).optional(),
  runner: z.looseObject({ name: text, label: text }).optional(),
  triggeredBy: text.optional(),
  runDirs: z.array(text).optional(),
  /** The noise σ the verdict used, where it came from, and its degrees of freedom (null: known). */
  sigma: z.number().optional(),
  sigmaSource: z.enum(['baseline', 'pooled', 'floor']).optional(),
  sigmaDf: z.number().nullable().optional(),
  /**
   * What `decision: loop` needs to replay the job: every run in the order it ran (the candidate's
   * and the champion's control runs) and the job's evidence about the effect, in σ.
   */
  loop: z
    .looseObject({
      runs: z.array(z.looseObject({ kind: z.enum(['candidate', 'control']), value: z.number() })),
      evidence: z.looseObject({ z: z.number(), se: z.number() }).optional(),
    })
    .optional(),
  /** A held result (recorded as a discard): why, so an approval can find it and confirm it. */
  hold: z.looseObject({ kind: z.enum(['suspicious', 'needs-review']), reasons: z.array(text) }).optional(),
});

/** One line of the ledger, as written and as read back. */
export type LedgerRecord = z.infer<typeof recordSchema>;

/**
 * What `decision: loop` replays of each of the key's lines. A job replays every line of its key (a
 * year of a busy runner is 100,000 of them), so the lines are checked for these fields alone and
 * the rest is dropped: checking every field of every line cost more than the replay itself.
 */
const replaySchema = z.object(
  recordSchema.pick({
    at: true,
    keyHash: true,
    trainBlob: true,
    status: true,
    commit: true,
    branch: true,
    mode: true,
    samples: true,
    verdict: true,
    loop: true,
  }).shape,
);

/** The verdict's noise figures a judged experiment adds to its line. */
export type LedgerSigma = Pick<LedgerRecord, 'sigma' | 'sigmaSource' | 'sigmaDf'>;

/** A line that could not be read; the rest of the ledger still is. */
export interface SkippedLine {
  /** 1-based line number in the file. */
  line: number;
  reason: string;
}

/** Result of {@link readLedger}. */
export interface LedgerRead {
  records: LedgerRecord[];
  /** Corrupt lines, for the caller to report as warnings. */
  skipped: SkippedLine[];
}

/** Field equality filter, or a predicate. */
export type LedgerFilter =
  | Partial<Pick<LedgerRecord, 'keyHash' | 'trainBlob' | 'branch' | 'status' | 'mode' | 'commit'>>
  | ((record: LedgerRecord) => boolean);

/** Path of the ledger in a state dir. */
function ledgerPath(stateDir: string): string {
  return path.join(stateDir, LEDGER_FILE);
}

/**
 * Appends one record as one line (created with its header when missing), synced to disk.
 * @throws StateFileError naming the bad field when the record is invalid, or when the ledger's
 *   header is corrupt (the file is moved aside, never appended to)
 */
export async function appendLedger(stateDir: string, record: LedgerRecord): Promise<void> {
  const file = ledgerPath(stateDir);
  const checked = recordSchema.safeParse(record);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `record.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new StateFileError(`cannot append to ${file}: ${problems}`, file);
  }
  let line: string;
  try {
    line = JSON.stringify(record);
  } catch (error) {
    throw new StateFileError(
      `cannot append to ${file}: the record is not JSON (${(error as Error).message})`,
      file,
    );
  }
  await ensureStateDir(stateDir);
  await withFileLock(`${file}.lock`, async () => {
    const handle = await openForAppend(file);
    try {
      // A writer killed mid-line leaves no newline at the end; start ours on a fresh line so only
      // the torn line is lost (readers skip and report it).
      const size = (await handle.stat()).size;
      let torn = false;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        torn = last[0] !== 0x0a;
      }
      await handle.write(`${torn ? '\n' : ''}${line}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/**
 * Reads every record, oldest first, keeping those that pass `filter`. A corrupt line is skipped
 * and reported (only lines that could match are parsed, so a corrupt line that could not is not
 * seen); a corrupt header means the whole file is not a ledger, so it is moved aside.
 * @param mayHold a pattern every wanted line's text matches (a quick pre-check before parsing)
 * @throws StateFileError when the header is corrupt or from a newer version
 */
export async function readLedger(
  stateDir: string,
  filter?: LedgerFilter,
  mayHold?: RegExp,
): Promise<LedgerRead> {
  return readLines(stateDir, recordSchema, filter, mayHold);
}

/**
 * The key's records, oldest first, with only the fields the loop policy's replay reads (see
 * `replaySchema`); a line whose other fields are damaged still counts.
 */
export async function readReplayLedger(stateDir: string, keyHash: string): Promise<LedgerRead> {
  return readLines(stateDir, replaySchema, { keyHash });
}

async function readLines(
  stateDir: string,
  schema: z.ZodType<LedgerRecord>,
  filter?: LedgerFilter,
  mayHold?: RegExp,
): Promise<LedgerRead> {
  const file = ledgerPath(stateDir);
  let text: string;
  try {
    text = await ledgerText(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await assertNoCorruptCopy(file);
    return { records: [], skipped: [] };
  }
  const headerEnd = text.indexOf('\n');
  await checkLedgerHeader(file, headerEnd === -1 ? text : text.slice(0, headerEnd));
  const keep = toPredicate(filter);
  const records: LedgerRecord[] = [];
  const skipped: SkippedLine[] = [];
  if (headerEnd === -1) return { records, skipped };
  for (const [start, end] of candidateLines(text, headerEnd + 1, filter, mayHold)) {
    const raw = text.slice(start, end);
    if (raw.trim() === '') continue;
    const last = end === text.length;
    const parsed = parseLine(raw, schema);
    if (typeof parsed === 'string') {
      const line = lineNumberAt(text, start);
      // The final line without its newline is a write cut short (or still in progress).
      skipped.push({ line, reason: last ? `incomplete last line (${parsed})` : parsed });
    } else if (keep(parsed)) {
      records.push(parsed);
    }
  }
  return { records, skipped };
}

/**
 * The latest run that already scored this train.py blob under this key (status keep or discard),
 * so the same experiment is not trained again.
 */
export async function findScored(
  stateDir: string,
  keyHash: string,
  trainBlob: string,
): Promise<LedgerRecord | undefined> {
  const { records } = await readLedger(stateDir, { keyHash, trainBlob });
  // A result with nothing to compare against was measured, not judged: judge it once a baseline exists.
  return records.findLast(
    (r) => SCORED.has(r.status) && r.verdict !== 'no-baseline' && r.verdict !== 'not-comparable',
  );
}

/**
 * The best kept experiment of a branch under a key; on a tie the earliest wins (it got there first).
 * Only experiments count: a baseline record is also `keep`, and a superseded baseline must never
 * become the bar. With `since`, only experiments judged at or after that ISO time count (the current
 * baseline's date: results measured before a re-baseline are stale).
 * @param metric reads `metrics[metric]` instead of the record's primary `value`
 */
export async function bestKept(
  stateDir: string,
  keyHash: string,
  branch: string,
  direction: Direction,
  metric?: string,
  since?: string,
): Promise<{ record: LedgerRecord; value: number } | undefined> {
  const from = since === undefined ? Number.NEGATIVE_INFINITY : Date.parse(since);
  const { records } = await readLedger(
    stateDir,
    (r) =>
      r.keyHash === keyHash &&
      r.branch === branch &&
      r.status === 'keep' &&
      r.mode !== 'baseline' &&
      Date.parse(r.at) >= from,
  );
  let best: { record: LedgerRecord; value: number } | undefined;
  for (const record of records) {
    const value = metric === undefined ? record.value : record.metrics?.[metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    if (best === undefined || isBetter(value, best.value, direction)) best = { record, value };
  }
  return best;
}

/** Opens the ledger for appending, first creating it with its header (atomically) if missing. */
async function openForAppend(file: string): Promise<FileHandle> {
  try {
    await access(file);
  } catch {
    // Never recreate a ledger whose corrupt copy waits for a person: that would hide the loss.
    await assertNoCorruptCopy(file);
    await writeFileAtomic(file, `${JSON.stringify({ ...HEADER, createdAt: new Date().toISOString() })}\n`);
  }
  const handle = await open(file, 'a+');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    await checkLedgerHeader(file, head.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '');
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

async function checkLedgerHeader(file: string, firstLine: string): Promise<void> {
  let json: unknown;
  let problem: string | undefined;
  try {
    json = JSON.parse(firstLine);
  } catch (error) {
    problem = `its first line is not a JSON header: ${(error as Error).message}`;
  }
  if (problem === undefined) {
    const header = checkHeader(json, HEADER);
    if (header.ok) return;
    if (header.newer !== undefined) {
      throw new StateFileError(
        `${file} was written by a newer autoresearch-ci (${HEADER.schema} version ${header.newer}; this version reads ${HEADER.version}); it was left untouched: upgrade autoresearch-ci on this runner, or point state-dir elsewhere`,
        file,
      );
    }
    problem = `header: ${header.problem}`;
  }
  const kept = await quarantine(file);
  if (kept) throw corruptError(file, kept, problem);
  throw new StateFileError(
    `${file} has a corrupt header (${problem}) and was just moved aside by another process`,
    file,
  );
}

function parseLine(raw: string, schema: z.ZodType<LedgerRecord>): LedgerRecord | string {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return `not valid JSON: ${(error as Error).message}`;
  }
  const checked = schema.safeParse(json);
  if (!checked.success) {
    return checked.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ');
  }
  return checked.data;
}

function toPredicate(filter: LedgerFilter | undefined): (record: LedgerRecord) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === 'function') return filter;
  const wanted = Object.entries(filter).filter(([, v]) => v !== undefined);
  return (record) => wanted.every(([k, v]) => record[k] === v);
}
