/** The facts a hardware fingerprint is made of, and the text helpers both platforms' probes share. */
import { CommandError, type CommandRunner } from './command-runner.js';

/** One CPU performance level (Apple silicon has two or three; Intel and Linux have one). */
export interface CoreLevel {
  /** As macOS names it ("Performance", "Efficiency", "Super") or "Standard". */
  name: string;
  /** Physical cores of this level. */
  cores: number;
}

/** Operating system, reported next to the hardware but kept out of its hash (see {@link hardwareHash}). */
export interface OsInfo {
  /** "macOS" or the Linux distribution name. */
  name: string;
  /** e.g. "14.0"; absent when it could not be read. */
  version?: string;
  /** e.g. "23A344" (macOS build). */
  build?: string;
  /** Major release, e.g. "14" (or "10.15" on old macOS), for "the OS changed" notes. */
  major?: string;
}

/** A discrete GPU reported by `nvidia-smi` (Linux). */
export interface DiscreteGpu {
  name: string;
  memoryBytes?: number;
}

/** What the runner is, as far as speed is concerned, plus how to show and compare it. */
export interface Hardware {
  /** The runner's name (display only; not part of the hash). */
  runnerName: string;
  platform: NodeJS.Platform;
  /** e.g. "Apple M2 Max", "Apple M1 (Virtual)", "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz". */
  chip: string;
  /** True for a virtual machine (GitHub's macOS runners, a Linux guest). */
  virtual: boolean;
  /** Model identifier, e.g. "Mac14,6": the same chip throttles differently in a fanless body. */
  model?: string;
  memoryBytes: number;
  /** Logical CPUs. */
  cpuCount: number;
  /** Fastest level first, as the OS orders them. */
  coreLevels: CoreLevel[];
  /** Apple GPU cores, when ioreg or system_profiler tell. */
  gpuCores?: number;
  /** NVIDIA GPUs on Linux. */
  gpus?: DiscreteGpu[];
  os: OsInfo;
  /** e.g. "mac-studio-1 · Apple M2 Max · 64 GB". */
  label: string;
  /** 16 hex digits identifying the speed-relevant facts; see {@link hardwareHash}. */
  hash: string;
}

/** The facts {@link hardwareHash} covers. */
export type HardwareFacts = Pick<
  Hardware,
  'platform' | 'chip' | 'virtual' | 'model' | 'memoryBytes' | 'cpuCount' | 'coreLevels' | 'gpuCores' | 'gpus'
>;
/** The hardware could not be identified well enough to guard a baseline. */
export class HardwareError extends Error {
  override name = 'HardwareError';
}
/** Bytes per GiB. */
export const GIB = 1024 ** 3;

/** Runs an optional probe: a missing tool or a failure yields empty output. */
export async function tryRun(run: CommandRunner, file: string, args: readonly string[]): Promise<string> {
  try {
    return await run(file, args);
  } catch (error) {
    if (error instanceof CommandError) return '';
    throw error;
  }
}

/** First value per key of `key<sep>value` lines (CRLF tolerated). */
export function keyValues(text: string, line: RegExp): Map<string, string> {
  const map = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const match = raw.trim().match(line);
    if (match?.[1] !== undefined && !map.has(match[1])) map.set(match[1], (match[2] ?? '').trim());
  }
  return map;
}

export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

export function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** "16 GB", "81559 MiB", "512 MB" → bytes (binary units, as macOS and nvidia-smi mean them). */
export function parseSize(text: string | undefined): number | undefined {
  const match = text?.match(/^(\d+(?:\.\d+)?)\s*([KMGT])i?B$/i);
  if (!match) return undefined;
  const power = 'KMGT'.indexOf(match[2]!.toUpperCase()) + 1;
  return Math.round(Number(match[1]) * 1024 ** power);
}
