/**
 * Where the training's combined output goes. The child writes straight into run.log (its stdout
 * and stderr are that file), so the kernel does the copying and the action is idle while the
 * training runs, however much it prints. The sink follows the file in chunks: on each heartbeat and
 * at the end it reads what was appended since the last look, keeping the last bytes in a fixed-size
 * ring (the tail for the report) and the latest complete progress segment. A segment can straddle
 * two reads; only the end of a large burst is read, since only the end matters for tail and progress.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { Progress } from '../model.js';
import { isProgressSegment, parseProgress } from './progress.js';

/** Default size of the kept tail: enough for a traceback plus the summary block. */
export const DEFAULT_TAIL_BYTES = 256 * 1024;
/** Default cap of run.log on disk; beyond it the middle is cut, the head and the tail stay. */
export const DEFAULT_MAX_LOG_BYTES = 64 * 1024 * 1024;
/** How often the size of run.log is checked against the cap. */
const CAP_CHECK_MS = 500;
/** Default heartbeat period. */
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** A segment longer than this is not progress; only its start is kept while it is incomplete. */
const MAX_PENDING = 4096;
const READ_CHUNK = 64 * 1024;

/** Options of {@link OutputSink.open}. */
export interface OutputSinkOptions {
  /** File the output is written to (created or truncated). */
  logPath: string;
  /** Bytes of tail to keep (default 256 KiB). */
  tailBytes?: number;
  /** Minimum time between heartbeats (default 30 s). */
  heartbeatMs?: number;
  /** Called at most once per `heartbeatMs`, only when a newer progress segment arrived since the last call. */
  onHeartbeat?: (progress: Progress) => void;
  /** Cap of run.log on disk (default 64 MiB): its first quarter and the tail are kept. */
  maxLogBytes?: number;
}

/** The run log: a file descriptor for the child to write to, and a reader that keeps its tail and progress. */
export class OutputSink {
  readonly logPath: string;
  /** Give this descriptor to the child as stdout and stderr (opened for appending). */
  readonly fd: number;
  #readFd: number | undefined;
  #readPos = 0;
  #buffer = Buffer.allocUnsafe(READ_CHUNK);
  #ring: Buffer;
  #ringPos = 0;
  #ringFull = false;
  /** The segment still being written (no separator seen after it yet), at most MAX_PENDING bytes. */
  #pending: Buffer = EMPTY;
  /** After a skip, the first bytes up to a separator are the rest of a segment whose start is gone. */
  #skipping = false;
  /** The latest complete progress segment, as text; parsed lazily. */
  #progressText: string | undefined;
  #parsed: { text: string; progress: Progress | undefined } | undefined;
  #beatText: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #capTimer: NodeJS.Timeout | undefined;
  #maxLogBytes: number;
  /** Bytes cut out of the middle of run.log so far. */
  #cutBytes = 0;
  /** Length of the kept head plus the cut notice, once something was cut. */
  #headEnd: number | undefined;

  /** Creates (truncates) the log file and returns a sink following it. */
  static open(opts: OutputSinkOptions): OutputSink {
    const tailBytes = opts.tailBytes ?? DEFAULT_TAIL_BYTES;
    if (!(tailBytes > 0)) throw new RangeError(`tailBytes must be positive, got ${tailBytes}`);
    let fd: number;
    let readFd: number;
    try {
      // Append mode: every process of the run writes at the end, whatever offsets they share.
      fd = openSync(
        opts.logPath,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND,
      );
      readFd = openSync(opts.logPath, 'r');
    } catch (error) {
      throw new Error(`cannot create the run log ${opts.logPath}: ${(error as Error).message}`);
    }
    return new OutputSink(fd, readFd, tailBytes, opts);
  }

  private constructor(fd: number, readFd: number, tailBytes: number, opts: OutputSinkOptions) {
    this.logPath = opts.logPath;
    this.fd = fd;
    this.#readFd = readFd;
    this.#ring = Buffer.allocUnsafe(tailBytes);
    this.#maxLogBytes = Math.max(opts.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES, 2 * tailBytes);
    this.#capTimer = setInterval(() => {
      try {
        this.#enforceCap();
      } catch {
        // Reported by close() if the file cannot be read; the cap is retried on the next tick.
      }
    }, CAP_CHECK_MS);
    this.#capTimer.unref();
    const onHeartbeat = opts.onHeartbeat;
    if (onHeartbeat) {
      this.#timer = setInterval(() => {
        try {
          this.catchUp();
        } catch {
          // A read failure is reported by close(); a heartbeat is not worth crashing the action.
          return;
        }
        const text = this.#progressText;
        if (text === undefined || text === this.#beatText) return;
        this.#beatText = text;
        const progress = this.lastProgress;
        if (progress) onHeartbeat(progress);
      }, opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
      this.#timer.unref();
    }
  }

  /** Total bytes the child printed as of the last read, including any cut from run.log. */
  get outputBytes(): number {
    return this.#readPos + this.#cutBytes;
  }

  /** Bytes cut from the middle of run.log because it passed the cap (0 when nothing was cut). */
  get cutBytes(): number {
    return this.#cutBytes;
  }

  /** The latest complete progress segment seen. */
  get lastProgress(): Progress | undefined {
    const text = this.#progressText;
    if (text === undefined) return undefined;
    if (this.#parsed?.text !== text) this.#parsed = { text, progress: parseProgress(text) };
    return this.#parsed.progress;
  }

  /** The last bytes of output (at most the tail size) as of the last read, decoded as UTF-8. */
  tail(): string {
    if (!this.#ringFull) return this.#ring.toString('utf8', 0, this.#ringPos);
    return Buffer.concat([
      this.#ring.subarray(this.#ringPos),
      this.#ring.subarray(0, this.#ringPos),
    ]).toString('utf8');
  }

  /**
   * Reads what was appended to the log since the last call. Of a burst larger than the tail, only
   * its end is read: the tail is there, and progress buried in gigabytes of other output is not
   * worth reading them for (the last progress seen before stays).
   * @throws Error naming the log when it cannot be read
   */
  catchUp(): void {
    const fd = this.#readFd;
    if (fd === undefined) return;
    try {
      const size = fstatSync(fd).size;
      if (size < this.#readPos) this.#restart();
      const skipTo = size - this.#ring.length - MAX_PENDING;
      if (skipTo > this.#readPos) {
        this.#readPos = skipTo;
        // The unfinished segment was cut by the skip; it cannot be completed any more.
        this.#pending = EMPTY;
        this.#skipping = true;
      }
      while (this.#readPos < size) {
        const n = readSync(fd, this.#buffer, 0, Math.min(READ_CHUNK, size - this.#readPos), this.#readPos);
        if (n === 0) break;
        this.#readPos += n;
        this.#ingest(this.#buffer.subarray(0, n));
      }
    } catch (error) {
      throw new Error(`cannot read the run log ${this.logPath}: ${(error as Error).message}`);
    }
  }

  /** Stops following: reads the rest, treats the unfinished last segment as complete, closes the file. */
  close(): void {
    clearInterval(this.#timer);
    clearInterval(this.#capTimer);
    this.#timer = undefined;
    const readFd = this.#readFd;
    if (readFd === undefined) return;
    try {
      this.catchUp();
      this.#followProgress(NEWLINE);
      this.#enforceCap();
      if (this.#headEnd !== undefined) {
        // Head, the notice, then the tail as the ring holds it: the end of the run is what matters.
        const tail = Buffer.from(this.tail(), 'utf8');
        this.#cutBytes +=
          this.#readPos - this.#headEnd - Math.min(tail.length, this.#readPos - this.#headEnd);
        ftruncateSync(this.fd, this.#headEnd);
        writeSync(this.fd, tail);
      }
    } finally {
      this.#readFd = undefined;
      closeSync(readFd);
      closeSync(this.fd);
    }
  }

  /**
   * Keeps run.log under the cap: once it is larger, everything after the first quarter of the cap
   * is cut (the tail is in the ring, read just before) and a notice says so. The child keeps
   * appending after the notice (its descriptor is in append mode).
   */
  #enforceCap(): void {
    if (this.#readFd === undefined) return;
    if (fstatSync(this.fd).size <= this.#maxLogBytes) return;
    this.catchUp();
    const head = this.#headEnd ?? Math.floor(this.#maxLogBytes / 4);
    const size = fstatSync(this.fd).size;
    ftruncateSync(this.fd, head);
    if (this.#headEnd === undefined) {
      const notice = Buffer.from(
        `\n[autoresearch-ci: run.log passed its cap of ${Math.round(this.#maxLogBytes / 1024 / 1024)} MiB; the output after this point was cut except for its last ${Math.round(this.#ring.length / 1024)} KiB, which follow]\n`,
      );
      writeSync(this.fd, notice);
      this.#headEnd = head + notice.length;
    }
    this.#cutBytes += size - this.#headEnd;
    this.#readPos = this.#headEnd;
  }

  /** The child truncated its output: what was read is gone from the log, so start over. */
  #restart(): void {
    this.#readPos = 0;
    this.#ringPos = 0;
    this.#ringFull = false;
    this.#pending = EMPTY;
    this.#skipping = false;
    this.#progressText = undefined;
  }

  #ingest(chunk: Buffer): void {
    this.#keepTail(chunk);
    if (this.#skipping) {
      const sep = firstSeparator(chunk);
      if (sep < 0) return;
      this.#skipping = false;
      this.#followProgress(chunk.subarray(sep + 1));
      return;
    }
    this.#followProgress(chunk);
  }

  #keepTail(chunk: Buffer): void {
    const ring = this.#ring;
    if (chunk.length >= ring.length) {
      chunk.copy(ring, 0, chunk.length - ring.length);
      this.#ringPos = 0;
      this.#ringFull = true;
      return;
    }
    const first = Math.min(chunk.length, ring.length - this.#ringPos);
    chunk.copy(ring, this.#ringPos, 0, first);
    if (first < chunk.length) {
      chunk.copy(ring, 0, first);
      this.#ringPos = chunk.length - first;
      this.#ringFull = true;
    } else {
      this.#ringPos += first;
      if (this.#ringPos === ring.length) {
        this.#ringPos = 0;
        this.#ringFull = true;
      }
    }
  }

  /**
   * Segments end at `\r` or `\n`; the unfinished one is carried to the next chunk. Works on bytes
   * (separators are ASCII, so never inside a UTF-8 sequence) and decodes only the segment kept.
   */
  #followProgress(chunk: Buffer): void {
    const pending = this.#pending;
    const lastSep = Math.max(chunk.lastIndexOf(CR), chunk.lastIndexOf(LF));
    if (lastSep < 0) {
      if (pending.length < MAX_PENDING) {
        this.#pending = Buffer.concat([pending, chunk.subarray(0, MAX_PENDING - pending.length)]);
      }
      return;
    }
    // Copied: the chunk is the reused read buffer.
    this.#pending = Buffer.from(chunk.subarray(lastSep + 1, lastSep + 1 + MAX_PENDING));
    // Scan back from the last separator; the previous `\r` and `\n` are tracked separately so the
    // scan stays linear in the chunk size.
    let end = lastSep;
    let cr = end > 0 ? chunk.lastIndexOf(CR, end - 1) : -1;
    let lf = end > 0 ? chunk.lastIndexOf(LF, end - 1) : -1;
    for (;;) {
      const sep = Math.max(cr, lf);
      if (sep < 0) {
        const first = Buffer.concat([pending, chunk.subarray(0, end)]);
        if (startsLikeProgress(first)) this.#remember(first);
        return;
      }
      const segment = chunk.subarray(sep + 1, end);
      if (startsLikeProgress(segment) && this.#remember(segment)) return;
      end = sep;
      if (cr === sep) cr = sep > 0 ? chunk.lastIndexOf(CR, sep - 1) : -1;
      if (lf === sep) lf = sep > 0 ? chunk.lastIndexOf(LF, sep - 1) : -1;
    }
  }

  /** Keeps the segment if it really is progress; says whether it was. */
  #remember(segment: Buffer): boolean {
    const text = segment.toString('utf8');
    if (!isProgressSegment(text)) return false;
    this.#progressText = text;
    return true;
  }
}

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from('\n');

function firstSeparator(chunk: Buffer): number {
  const cr = chunk.indexOf(CR);
  const lf = chunk.indexOf(LF);
  if (cr < 0) return lf;
  if (lf < 0) return cr;
  return Math.min(cr, lf);
}

/** Byte-level pre-check: optional spaces or tabs, then `step`. */
function startsLikeProgress(segment: Buffer): boolean {
  let i = 0;
  while (i < segment.length && (segment[i] === 0x20 || segment[i] === 0x09)) i++;
  // "step"
  return segment[i] === 0x73 && segment[i + 1] === 0x74 && segment[i + 2] === 0x65 && segment[i + 3] === 0x70;
}
