/**
 * Hardware fingerprint of a runner: which machine produced a val_bpb. A fixed-time training's
 * result depends on throughput, so a baseline is only valid on the same chip, memory, core layout
 * and GPU. Serial numbers, UUIDs and host names are never read into the result.
 */
import { createHash } from 'node:crypto';
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

/** Options of {@link readHardware}; everything the probe touches is injected. */
export interface ReadHardwareOptions {
  platform: NodeJS.Platform;
  run: CommandRunner;
  readFile: (p: string) => Promise<string>;
  runnerName: string;
}

/** The hardware could not be identified well enough to guard a baseline. */
export class HardwareError extends Error {
  override name = 'HardwareError';
}

const GIB = 1024 ** 3;

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

/** GPU core count from `ioreg` output (`"gpu-core-count" = 8`), if present. */
export function gpuCoresFromIoreg(text: string): number | undefined {
  const match = text.match(/"gpu-core-count"\s*=\s*(\d+)/);
  return match ? Number(match[1]) : undefined;
}

/**
 * GPU core count from `system_profiler SPDisplaysDataType`: the `-json` form (`sppci_cores`) or,
 * if the output is not JSON, the text form ("Total Number of Cores: 40").
 */
export function gpuCoresFromDisplays(text: string): number | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const match = text.match(/^\s*Total Number of Cores:\s*(\d+)\s*$/m);
    return match ? Number(match[1]) : undefined;
  }
  const items = (json as { SPDisplaysDataType?: unknown }).SPDisplaysDataType;
  if (!Array.isArray(items)) return undefined;
  for (const item of items) {
    const cores = Number((item as { sppci_cores?: unknown }).sppci_cores);
    if (Number.isInteger(cores) && cores > 0) return cores;
  }
  return undefined;
}

// ---- macOS ----------------------------------------------------------------------------------

/** `sysctl hw` lists every hw.* fact but not hw.model, hence the explicit name. */
const SYSCTL_ARGS = ['hw', 'machdep.cpu', 'hw.model'] as const;

async function readMac(run: CommandRunner): Promise<HardwareFacts> {
  let sysctlText: string;
  try {
    sysctlText = await run('sysctl', SYSCTL_ARGS);
  } catch (error) {
    throw new HardwareError(
      `cannot read the hardware facts: ${(error as Error).message}. Check that /usr/sbin/sysctl is on the runner's PATH.`,
    );
  }
  const sysctl = keyValues(sysctlText, /^([\w.]+):\s?(.*)$/);
  const brand = sysctl.get('machdep.cpu.brand_string')?.trim();
  let chip = brand && !isGenericBrand(brand) ? brand : undefined;
  let model = nonEmpty(sysctl.get('hw.model'));
  let memoryBytes = positiveInt(sysctl.get('hw.memsize'));
  const coreLevels = macCoreLevels(sysctl);
  let cpuCount =
    positiveInt(sysctl.get('hw.ncpu')) ??
    positiveInt(sysctl.get('hw.logicalcpu')) ??
    positiveInt(sysctl.get('machdep.cpu.thread_count'));

  // system_profiler is slow (~0.5 s) and also prints serial numbers, so it is only asked for
  // what sysctl did not say: old macOS ("Apple processor"), partial outputs.
  if (chip === undefined || model === undefined || memoryBytes === undefined || cpuCount === undefined) {
    const overview = await tryRun(run, 'system_profiler', ['-json', 'SPHardwareDataType']).then(
      hardwareOverview,
    );
    chip ??= overview.chip;
    model ??= overview.model;
    memoryBytes ??= overview.memoryBytes;
    cpuCount ??= overview.cpuCount;
  }
  chip ??= brand;
  if (chip === undefined || memoryBytes === undefined) {
    const missing = [chip === undefined ? 'the chip' : '', memoryBytes === undefined ? 'the memory size' : '']
      .filter(Boolean)
      .join(' and ');
    throw new HardwareError(
      `cannot identify this Mac: neither \`sysctl ${SYSCTL_ARGS.join(' ')}\` nor \`system_profiler SPHardwareDataType\` reported ${missing}. Run those commands on the runner to see what fails.`,
    );
  }
  const gpuCores =
    gpuCoresFromIoreg(await tryRun(run, 'ioreg', ['-r', '-d', '1', '-c', 'AGXAccelerator'])) ??
    gpuCoresFromDisplays(await tryRun(run, 'system_profiler', ['-json', 'SPDisplaysDataType']));
  return {
    platform: 'darwin',
    chip,
    virtual: /\(Virtual\)/i.test(chip) || /^VirtualMac/i.test(model ?? ''),
    ...(model === undefined ? {} : { model }),
    memoryBytes,
    cpuCount: cpuCount ?? coreLevels.reduce((sum, level) => sum + level.cores, 0),
    coreLevels,
    ...(gpuCores === undefined ? {} : { gpuCores }),
  };
}

/** macOS 11 on the first M1 said "Apple processor": not a chip name. */
function isGenericBrand(brand: string): boolean {
  return /^apple processor$/i.test(brand) || brand === '';
}

/**
 * Core counts per perf level. Level names appear from macOS 13 only; every chip that ran macOS 12
 * had Performance + Efficiency levels, so two unnamed levels get those names.
 */
function macCoreLevels(sysctl: Map<string, string>): CoreLevel[] {
  let levels = positiveInt(sysctl.get('hw.nperflevels')) ?? 0;
  for (const key of sysctl.keys()) {
    const index = key.match(/^hw\.perflevel(\d+)\.physicalcpu$/)?.[1];
    if (index !== undefined) levels = Math.max(levels, Number(index) + 1);
  }
  const guessed = levels === 2 ? ['Performance', 'Efficiency'] : levels === 1 ? ['Standard'] : [];
  const result: CoreLevel[] = [];
  for (let i = 0; i < levels; i++) {
    const cores = positiveInt(sysctl.get(`hw.perflevel${i}.physicalcpu`));
    if (cores === undefined) continue;
    const name = nonEmpty(sysctl.get(`hw.perflevel${i}.name`)) ?? guessed[i] ?? `Level ${i}`;
    result.push({ name, cores });
  }
  if (result.length === 0) {
    // Intel Macs before perf levels existed: one uniform level. (macOS 11 on M1 lists neither
    // levels nor hw.physicalcpu in some outputs; claiming one level there would be wrong.)
    const cores = positiveInt(sysctl.get('hw.physicalcpu'));
    if (cores !== undefined) result.push({ name: 'Standard', cores });
  }
  return result;
}

interface Overview {
  chip?: string;
  model?: string;
  memoryBytes?: number;
  cpuCount?: number;
}

/** Reads only chip, model, memory and CPU count from `system_profiler -json SPHardwareDataType`. */
function hardwareOverview(text: string): Overview {
  let item: Record<string, unknown> | undefined;
  try {
    const json = JSON.parse(text) as { SPHardwareDataType?: Array<Record<string, unknown>> };
    item = json.SPHardwareDataType?.[0];
  } catch {
    return {};
  }
  if (!item) return {};
  const str = (key: string): string | undefined => {
    const value = item[key];
    return typeof value === 'string' && value.trim() !== '' && value !== 'Unknown' ? value.trim() : undefined;
  };
  // "proc 8:4:4" (total:perf:eff) on Apple silicon, a plain number on Intel and under Rosetta.
  const processors = item['number_processors'];
  const cpuCount =
    typeof processors === 'number' ? processors : positiveInt(String(processors ?? '').match(/\d+/)?.[0]);
  const memoryBytes = parseSize(str('physical_memory'));
  const chip = str('chip_type') ?? str('cpu_type');
  const model = str('machine_model');
  return {
    ...(chip === undefined ? {} : { chip }),
    ...(model === undefined ? {} : { model }),
    ...(memoryBytes === undefined ? {} : { memoryBytes }),
    ...(cpuCount === undefined ? {} : { cpuCount }),
  };
}

async function readMacOs(run: CommandRunner): Promise<OsInfo> {
  const fields = keyValues(await tryRun(run, 'sw_vers', []), /^(\w+):\s*(.*)$/);
  const version = nonEmpty(fields.get('ProductVersion'));
  const build = nonEmpty(fields.get('BuildVersion'));
  return {
    name: nonEmpty(fields.get('ProductName')) ?? 'macOS',
    ...(version === undefined ? {} : { version, major: majorVersion(version) }),
    ...(build === undefined ? {} : { build }),
  };
}

/** "14.0" → "14"; macOS 10 used the minor number as its release ("10.15.7" → "10.15"). */
function majorVersion(version: string): string {
  const parts = version.split('.');
  return parts[0] === '10' && parts[1] !== undefined ? `10.${parts[1]}` : (parts[0] ?? version);
}

// ---- Linux ----------------------------------------------------------------------------------

async function readLinux(
  run: CommandRunner,
  readFile: (p: string) => Promise<string>,
): Promise<HardwareFacts> {
  const [cpuinfo, meminfo] = await Promise.all([
    readRequired(readFile, '/proc/cpuinfo'),
    readRequired(readFile, '/proc/meminfo'),
  ]);
  const processors = cpuinfo.split(/\n\s*\n/).filter((block) => /^processor\s*:/m.test(block));
  const first = keyValues(processors[0] ?? cpuinfo, /^([^:]+?)\s*:\s*(.*)$/);
  const chip =
    nonEmpty(first.get('model name')) ??
    nonEmpty(first.get('Hardware')) ??
    armChip(first.get('CPU implementer'), first.get('CPU part'));
  if (chip === undefined) {
    throw new HardwareError(
      '/proc/cpuinfo names no CPU model (no "model name", "Hardware" or "CPU part" line); this runner cannot be fingerprinted',
    );
  }
  const memKb = positiveInt(meminfo.match(/^MemTotal:\s*(\d+)\s*kB/m)?.[1]);
  if (memKb === undefined) {
    throw new HardwareError(
      '/proc/meminfo has no "MemTotal: N kB" line; this runner cannot be fingerprinted',
    );
  }
  const cpuCount = Math.max(processors.length, 1);
  const model = nonEmpty((await readFile('/sys/devices/virtual/dmi/id/product_name').catch(() => '')).trim());
  const gpus = parseNvidiaSmi(
    await tryRun(run, 'nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader']),
  );
  return {
    platform: 'linux',
    chip,
    virtual: /\bhypervisor\b/.test(first.get('flags') ?? ''),
    ...(model === undefined ? {} : { model }),
    memoryBytes: memKb * 1024,
    cpuCount,
    coreLevels: [{ name: 'Standard', cores: cpuCount }],
    ...(gpus.length === 0 ? {} : { gpus }),
  };
}

/** ARM Linux lists only numeric implementer/part codes. */
function armChip(implementer: string | undefined, part: string | undefined): string | undefined {
  if (!implementer || !part) return undefined;
  return `ARM CPU (implementer ${implementer.trim()}, part ${part.trim()})`;
}

/** "NVIDIA H100 80GB HBM3, 81559 MiB" lines. */
function parseNvidiaSmi(text: string): DiscreteGpu[] {
  const gpus: DiscreteGpu[] = [];
  for (const line of text.split('\n')) {
    const [name, memory] = line.split(',').map((s) => s.trim());
    if (!name) continue;
    const memoryBytes = parseSize(memory);
    gpus.push({ name, ...(memoryBytes === undefined ? {} : { memoryBytes }) });
  }
  return gpus;
}

async function readLinuxOs(readFile: (p: string) => Promise<string>): Promise<OsInfo> {
  const text = await readFile('/etc/os-release').catch(() => '');
  const fields = keyValues(text, /^(\w+)=(.*)$/);
  const unquote = (v: string | undefined) => nonEmpty(v?.replace(/^"(.*)"$/, '$1'));
  const version = unquote(fields.get('VERSION_ID'));
  return {
    name: unquote(fields.get('NAME')) ?? 'Linux',
    ...(version === undefined ? {} : { version, major: version.split('.')[0] ?? version }),
  };
}

async function readRequired(readFile: (p: string) => Promise<string>, file: string): Promise<string> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new HardwareError(
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); the hardware fingerprint needs it`,
    );
  }
}

// ---- helpers --------------------------------------------------------------------------------

/** Runs an optional probe: a missing tool or a failure yields empty output. */
async function tryRun(run: CommandRunner, file: string, args: readonly string[]): Promise<string> {
  try {
    return await run(file, args);
  } catch (error) {
    if (error instanceof CommandError) return '';
    throw error;
  }
}

/** First value per key of `key<sep>value` lines (CRLF tolerated). */
function keyValues(text: string, line: RegExp): Map<string, string> {
  const map = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const match = raw.trim().match(line);
    if (match?.[1] !== undefined && !map.has(match[1])) map.set(match[1], (match[2] ?? '').trim());
  }
  return map;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** "16 GB", "81559 MiB", "512 MB" → bytes (binary units, as macOS and nvidia-smi mean them). */
function parseSize(text: string | undefined): number | undefined {
  const match = text?.match(/^(\d+(?:\.\d+)?)\s*([KMGT])i?B$/i);
  if (!match) return undefined;
  const power = 'KMGT'.indexOf(match[2]!.toUpperCase()) + 1;
  return Math.round(Number(match[1]) * 1024 ** power);
}
