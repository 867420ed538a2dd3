import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Progress } from '../src/model.js';
import { OutputSink } from '../src/run/output-sink.js';
import { tempDirs } from './helpers/trainers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const LOGS = path.resolve(import.meta.dirname, '../../shared/fixtures/logs');

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

async function feed(sink: OutputSink, chunks: Buffer[]): Promise<void> {
  await pipeline(Readable.from(chunks), sink);
}

describe('OutputSink', () => {
  it('writes every byte to the log and keeps exactly the last bytes as tail', async () => {
    const logPath = path.join(dirs.make(), 'run.log');
    const data = Buffer.from(randomBytes(50_000).toString('base64'));
    for (const tailBytes of [1, 100, 4096, 200_000]) {
      const sink = await OutputSink.open({ logPath, tailBytes });
      await feed(sink, chop(data, 3000, tailBytes));
      expect(readFileSync(logPath).equals(data)).toBe(true);
      expect(sink.outputBytes).toBe(data.length);
      expect(sink.tail()).toBe(data.subarray(-tailBytes).toString());
    }
  });

  it('keeps the summary block of a real log in the tail', async () => {
    const logPath = path.join(dirs.make(), 'run.log');
    const log = readFileSync(path.join(LOGS, 'ok.log'));
    const sink = await OutputSink.open({ logPath, tailBytes: 2048 });
    await feed(sink, chop(log, 500));
    expect(sink.tail()).toContain('---\nval_bpb:          1.807902\n');
    expect(sink.lastProgress).toEqual({ step: 1319, percent: 100, loss: 3.107894, remainingSeconds: 0 });
  });

  it('follows progress segments that straddle chunk boundaries, byte by byte', async () => {
    const logPath = path.join(dirs.make(), 'run.log');
    const text = Buffer.from(
      'Time budget: 300s\n\rstep 00004 (0.3%) | loss: 8.85 | remaining: 299s    \rstep 00005 (0.4%) | loss: 8.82 | remaining: 298s    ',
    );
    const sink = await OutputSink.open({ logPath });
    const seen: Array<Progress | undefined> = [];
    for (const byte of chop(text, 1)) {
      await new Promise<void>((resolve, reject) => sink.write(byte, (e) => (e ? reject(e) : resolve())));
      seen.push(sink.lastProgress);
    }
    // Step 5 is complete only at the end of output (no separator follows it yet).
    expect(seen.at(-1)).toEqual({ step: 4, percent: 0.3, loss: 8.85, remainingSeconds: 299 });
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(sink.lastProgress).toEqual({ step: 5, percent: 0.4, loss: 8.82, remainingSeconds: 298 });
    // Never a half-read segment: every value seen was a whole one.
    expect(new Set(seen.filter(Boolean).map((p) => p!.step))).toEqual(new Set([4]));
  });

  it('decodes UTF-8 split across chunks and tracks progress after long non-progress output', async () => {
    const logPath = path.join(dirs.make(), 'run.log');
    const text = Buffer.from(
      `${'é'.repeat(10_000)}\n${'z'.repeat(100_000)}\rstep 00009 (1.0%) | loss: 1.5\n`,
    );
    const sink = await OutputSink.open({ logPath, tailBytes: 64 });
    await feed(sink, chop(text, 777));
    expect(sink.lastProgress).toEqual({ step: 9, percent: 1, loss: 1.5 });
  });

  it('beats with the latest progress, and only when it changed', async () => {
    const logPath = path.join(dirs.make(), 'run.log');
    const beats: Progress[] = [];
    let firstBeat!: () => void;
    const gotBeat = new Promise<void>((resolve) => {
      firstBeat = resolve;
    });
    const sink = await OutputSink.open({
      logPath,
      heartbeatMs: 20,
      onHeartbeat: (p) => {
        beats.push(p);
        firstBeat();
      },
    });
    sink.write('\rstep 00001 (1.0%) | remaining: 9s\rstep 00002 (2.0%) | remaining: 8s\r');
    await gotBeat;
    expect(beats[0]).toEqual({ step: 2, percent: 2, remainingSeconds: 8 });
    // Several periods without new progress: no further beats.
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(beats).toHaveLength(1);
    await new Promise<void>((resolve) => sink.end(resolve));
  });

  it('names the log file it cannot create', async () => {
    const logPath = path.join(dirs.make(), 'missing-dir', 'run.log');
    await expect(OutputSink.open({ logPath })).rejects.toThrow(`cannot create the run log ${logPath}`);
  });
});
