/**
 * Hardware fingerprint of a runner: which machine produced a val_bpb. A fixed-time training's
 * result depends on throughput, so a baseline is only valid on the same chip, memory, core layout
 * and GPU. Serial numbers, UUIDs and host names are never read into the result.
 */
import { createHash } from 'node:crypto';
import type { CommandRunner } from './command-runner.js';
import {
  type DiscreteGpu,
  GIB,
  type Hardware,
  HardwareError,
  type HardwareFacts,
  type OsInfo,
} from './hardware-facts.js';
import { readLinux, readLinuxOs } from './hardware-linux.js';
import { readMac, readMacOs } from './hardware-macos.js';

/** Options of {@link readHardware}; everything the probe touches is injected. */
export interface ReadHardwareOptions {
  platform: NodeJS.Platform;
  run: CommandRunner;
  readFile: (p: string) => Promise<string>;
  runnerName: string;
}

/** Reads the hardware facts of this machine (macOS or Linux). */
export async function readHardware(opts: ReadHardwareOptions): Promise<Hardware> {
  let facts: HardwareFacts;
  let os: OsInfo;
  if (opts.platform === 'darwin') {
    [facts, os] = await Promise.all([readMac(opts.run), readMacOs(opts.run)]);
  } else if (opts.platform === 'linux') {
    [facts, os] = await Promise.all([readLinux(opts.run, opts.readFile), readLinuxOs(opts.readFile)]);
  } else {
    throw new HardwareError(
      `hardware identification supports macOS and Linux runners, not '${opts.platform}'; run the action on a macOS (or Linux) self-hosted runner`,
    );
  }
  return {
    runnerName: opts.runnerName,
    ...facts,
    os,
    label: hardwareLabel(opts.runnerName, facts.chip, facts.memoryBytes, facts.gpus),
    hash: hardwareHash(facts),
  };
}

/**
 * Short stable hash of the facts that set training speed: platform, chip (incl. "(Virtual)"),
 * model identifier, memory in whole GiB, logical CPUs, core count per level and GPU cores/models.
 *
 * Left out on purpose:
 * - runner name: renaming a runner does not change its speed;
 * - OS version and build: a point update must not void every baseline. The OS major version is
 *   reported separately (`os.major`) so a report can flag it;
 * - perf-level names: macOS 12 does not report them and macOS 13 does, on the same chip;
 * - exact memory bytes: Linux MemTotal moves by a few MB between kernels.
 */
export function hardwareHash(facts: HardwareFacts): string {
  // Built with a fixed key order, so JSON.stringify is canonical.
  const canonical = JSON.stringify({
    v: 1,
    platform: facts.platform,
    chip: facts.chip,
    virtual: facts.virtual,
    model: facts.model ?? null,
    memoryGiB: Math.round(facts.memoryBytes / GIB),
    cpuCount: facts.cpuCount,
    coreLevels: facts.coreLevels.map((level) => level.cores),
    gpuCores: facts.gpuCores ?? null,
    gpus: (facts.gpus ?? []).map((gpu) => [gpu.name, Math.round((gpu.memoryBytes ?? 0) / GIB)]),
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** Readable one-liner: runner name, tidied chip, memory in GB, and NVIDIA GPUs when present. */
export function hardwareLabel(
  runnerName: string,
  chip: string,
  memoryBytes: number,
  gpus: DiscreteGpu[] = [],
): string {
  const parts = [runnerName.trim(), tidyChip(chip), `${Math.round(memoryBytes / GIB)} GB`];
  const first = gpus[0];
  if (first) parts.push(gpus.length > 1 ? `${gpus.length}× ${first.name}` : first.name);
  return parts.filter((p) => p !== '').join(' · ');
}

/** Drops trademark noise from CPU brand strings: "Intel(R) Core(TM) i7 CPU @ 2.70GHz" → "Intel Core i7 @ 2.70GHz". */
function tidyChip(chip: string): string {
  return chip
    .replace(/\((?:R|TM)\)/gi, '')
    .replace(/\bCPU\b/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
