import { randomBytes } from 'node:crypto';
import { ftruncateSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Progress } from '../src/model.js';
import { OutputSink, type OutputSinkOptions } from '../src/run/output-sink.js';
import { tempDirs } from './helpers/trainers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const LOGS = path.resolve(import.meta.dirname, 'fixtures/logs');

/** Splits a buffer into chunks of pseudo-random sizes (1..max bytes). */
function chop(data: Buffer, max: number, seed = 7): Buffer[] {
  const chunks: Buffer[] = [];
  let x = seed;
  for (let i = 0; i < data.length; ) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const n = 1 + (x % max);
    chunks.push(data.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

function open(extra: Partial<OutputSinkOptions> = {}): OutputSink {
  return OutputSink.open({ logPath: path.join(dirs.make(), 'run.log'), ...extra });
}

/** Writes through the descriptor the child would get, reading after every chunk. */
function feed(sink: OutputSink, chunks: Buffer[]): void {
  for (const chunk of chunks) {
    writeSync(sink.fd, chunk);
    sink.catchUp();
  }
}

describe('OutputSink', () => {
  it('hands out a log descriptor and keeps exactly the last bytes as tail', () => {
    const data = Buffer.from(randomBytes(50_000).toString('base64'));
    for (const tailBytes of [1, 100, 4096, 200_000]) {
      const sink = open({ tailBytes });
      feed(sink, chop(data, 3000, tailBytes));
      sink.close();
      expect(readFileSync(sink.logPath).equals(data)).toBe(true);
      expect(sink.outputBytes).toBe(data.length);
      expect(sink.tail()).toBe(data.subarray(-tailBytes).toString());
    }
  });

  it('reads only the end of a burst larger than the tail, and still finds the tail and progress', () => {
    const sink = open({ tailBytes: 1000 });
    const burst = Buffer.from(
      `${'x'.repeat(5_000_000)}\n\rstep 00003 (3.0%) | loss: 4.5\r${'y'.repeat(600)}\n`,
    );
    writeSync(sink.fd, burst);
    sink.close();
    expect(sink.outputBytes).toBe(burst.length);
    expect(sink.tail()).toBe(burst.subarray(-1000).toString());
    expect(sink.lastProgress).toEqual({ step: 3, percent: 3, loss: 4.5 });
  });

  it('keeps the summary block and last progress of a real log', () => {
    const log = readFileSync(path.join(LOGS, 'ok.log'));
    const sink = open({ tailBytes: 2048 });
    feed(sink, chop(log, 500));
    sink.close();
    expect(sink.tail()).toContain('---\nval_bpb:          1.807902\n');
    expect(sink.lastProgress).toEqual({ step: 1319, percent: 100, loss: 3.107894, remainingSeconds: 0 });
  });

  it('follows progress segments that straddle reads, byte by byte', () => {
    const text = Buffer.from(
      'Time budget: 300s\n\rstep 00004 (0.3%) | loss: 8.85 | remaining: 299s    \rstep 00005 (0.4%) | loss: 8.82 | remaining: 298s    ',
    );
    const sink = open();
    const seen: Array<Progress | undefined> = [];
    for (const byte of chop(text, 1)) {
      feed(sink, [byte]);
      seen.push(sink.lastProgress);
    }
    // Step 5 is complete only at the end of output (no separator follows it yet).
    expect(seen.at(-1)).toEqual({ step: 4, percent: 0.3, loss: 8.85, remainingSeconds: 299 });
    sink.close();
    expect(sink.lastProgress).toEqual({ step: 5, percent: 0.4, loss: 8.82, remainingSeconds: 298 });
    // Never a half-read segment: every value seen was a whole one.
    expect(new Set(seen.filter(Boolean).map((p) => p!.step))).toEqual(new Set([4]));
  });

  it('keeps UTF-8 intact across reads and tracks progress after long non-progress output', () => {
    const text = Buffer.from(
      `${'é'.repeat(10_000)}\n${'z'.repeat(100_000)}\rstep 00009 (1.0%) | loss: 1.5\n`,
    );
    const sink = open();
    feed(sink, chop(text, 777));
    sink.close();
    expect(sink.lastProgress).toEqual({ step: 9, percent: 1, loss: 1.5 });
    expect(sink.tail()).toBe(text.toString());
  });

  it('finds the last real progress among many lines, ignoring look-alikes', () => {
    const sink = open();
    const lines = ['\rstep 00007 (7.0%) | loss: 2.5 | remaining: 93s'];
    for (let i = 0; i < 2000; i++) lines.push(`step size ${i}: not progress`);
    feed(sink, [Buffer.from(`${lines.join('\n')}\n`)]);
    expect(sink.lastProgress).toEqual({ step: 7, percent: 7, loss: 2.5, remainingSeconds: 93 });
    sink.close();
  });

  it('beats with the latest progress, and only when it changed', async () => {
    const beats: Progress[] = [];
    let firstBeat!: () => void;
    const gotBeat = new Promise<void>((resolve) => {
      firstBeat = resolve;
    });
    const sink = open({
      heartbeatMs: 20,
      onHeartbeat: (p) => {
        beats.push(p);
        firstBeat();
      },
    });
    // Written as the child would: the sink reads it on its own at the next beat.
    writeSync(sink.fd, '\rstep 00001 (1.0%) | remaining: 9s\rstep 00002 (2.0%) | remaining: 8s\r');
    await gotBeat;
    expect(beats[0]).toEqual({ step: 2, percent: 2, remainingSeconds: 8 });
    // Several periods without new progress: no further beats.
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(beats).toHaveLength(1);
    sink.close();
  });

  it('starts over when the child truncates its output', () => {
    const sink = open();
    feed(sink, [Buffer.from('\rstep 00001 (1.0%)\rold output\n')]);
    expect(sink.lastProgress?.step).toBe(1);
    ftruncateSync(sink.fd, 0);
    feed(sink, [Buffer.from('new\n')]);
    sink.close();
    expect(sink.tail()).toBe('new\n');
    expect(sink.outputBytes).toBe(4);
    expect(sink.lastProgress).toBeUndefined();
  });

  it('can be closed twice', () => {
    const sink = open();
    sink.close();
    sink.close();
    expect(sink.outputBytes).toBe(0);
    expect(sink.tail()).toBe('');
  });

  it('names the log file it cannot create', () => {
    const logPath = path.join(dirs.make(), 'missing-dir', 'run.log');
    expect(() => OutputSink.open({ logPath })).toThrow(`cannot create the run log ${logPath}`);
  });
});
