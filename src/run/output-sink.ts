/**
 * Where the training's combined output goes: streamed to run.log chunk by chunk (a run can print
 * gigabytes, so it is never held whole), with a fixed-size ring keeping the last bytes for the
 * report and the latest progress segment tracked for heartbeats.
 */

import { writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Progress } from '../model.js';
import { parseProgress } from './progress.js';

/** Default size of the kept tail: enough for a traceback plus the summary block. */
export const DEFAULT_TAIL_BYTES = 256 * 1024;
/** Default heartbeat period. */
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** A segment longer than this is not progress; only its start is kept while it is incomplete. */
const MAX_PENDING = 4096;

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
}

/** A writable stream that logs the child's output to a file, keeps its tail and follows its progress. */
export class OutputSink extends Writable {
  readonly logPath: string;
  #file: FileHandle;
  #ring: Buffer;
  #ringPos = 0;
  #ringFull = false;
  #bytes = 0;
  #decoder = new StringDecoder('utf8');
  #pending = '';
  #progress: Progress | undefined;
  #progressSeq = 0;
  #beatSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  /** Opens (truncates) the log file and returns a sink writing to it. */
  static async open(opts: OutputSinkOptions): Promise<OutputSink> {
    let file: FileHandle;
    try {
      file = await open(opts.logPath, 'w');
    } catch (error) {
      throw new Error(`cannot create the run log ${opts.logPath}: ${(error as Error).message}`);
    }
    return new OutputSink(file, opts);
  }

  private constructor(file: FileHandle, opts: OutputSinkOptions) {
    super();
    this.logPath = opts.logPath;
    this.#file = file;
    const tailBytes = opts.tailBytes ?? DEFAULT_TAIL_BYTES;
    if (!(tailBytes > 0)) throw new RangeError(`tailBytes must be positive, got ${tailBytes}`);
    this.#ring = Buffer.allocUnsafe(tailBytes);
    const onHeartbeat = opts.onHeartbeat;
    if (onHeartbeat) {
      // A timer, not a check per chunk: progress arrives many times a second and the beat must not.
      this.#timer = setInterval(() => {
        if (this.#progress && this.#progressSeq !== this.#beatSeq) {
          this.#beatSeq = this.#progressSeq;
          onHeartbeat(this.#progress);
        }
      }, opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
      this.#timer.unref();
    }
  }

  /** Total bytes written so far. */
  get outputBytes(): number {
    return this.#bytes;
  }

  /** The latest complete progress segment seen. */
  get lastProgress(): Progress | undefined {
    return this.#progress;
  }

  /** The last bytes of output (at most the tail size), decoded as UTF-8. */
  tail(): string {
    if (!this.#ringFull) return this.#ring.toString('utf8', 0, this.#ringPos);
    return Buffer.concat([
      this.#ring.subarray(this.#ringPos),
      this.#ring.subarray(0, this.#ringPos),
    ]).toString('utf8');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#bytes += chunk.length;
    this.#keepTail(chunk);
    this.#followProgress(chunk);
    try {
      writeSync(this.#file.fd, chunk);
      callback();
    } catch (error) {
      callback(new Error(`cannot write the run log ${this.logPath}: ${(error as Error).message}`));
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#followProgress(Buffer.from('\n'));
    this.#stop().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stop().then(
      () => callback(error),
      () => callback(error),
    );
  }

  #stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    // Both _final and _destroy may run; the file is closed once.
    this.#closing ??= this.#file.close();
    return this.#closing;
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

  /** Segments end at `\r` or `\n`; the unfinished one is carried to the next chunk. */
  #followProgress(chunk: Buffer): void {
    const text = this.#decoder.write(chunk);
    const lastSep = Math.max(text.lastIndexOf('\r'), text.lastIndexOf('\n'));
    if (lastSep < 0) {
      if (this.#pending.length < MAX_PENDING) this.#pending = (this.#pending + text).slice(0, MAX_PENDING);
      return;
    }
    const complete = this.#pending + text.slice(0, lastSep);
    this.#pending = text.slice(lastSep + 1, lastSep + 1 + MAX_PENDING);
    // Cheap native scan first: most chunks of a flood hold no progress at all.
    if (!complete.includes('step')) return;
    const segments = complete.split(/[\r\n]/);
    for (let i = segments.length - 1; i >= 0; i--) {
      const progress = parseProgress(segments[i]!);
      if (progress) {
        this.#progress = progress;
        this.#progressSeq++;
        return;
      }
    }
  }
}
