/** The macOS probe: sysctl, ioreg, system_profiler and sw_vers. */
import type { CommandRunner } from './command-runner.js';
import {
  type CoreLevel,
  HardwareError,
  type HardwareFacts,
  keyValues,
  nonEmpty,
  type OsInfo,
  parseSize,
  positiveInt,
  tryRun,
} from './hardware-facts.js';

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

/** `sysctl hw` lists every hw.* fact but not hw.model, hence the explicit name. */
const SYSCTL_ARGS = ['hw', 'machdep.cpu', 'hw.model'] as const;

export async function readMac(run: CommandRunner): Promise<HardwareFacts> {
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
    model,
    memoryBytes,
    cpuCount: cpuCount ?? coreLevels.reduce((sum, level) => sum + level.cores, 0),
    coreLevels,
    gpuCores,
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

export async function readMacOs(run: CommandRunner): Promise<OsInfo> {
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
