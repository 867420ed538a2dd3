/** The Linux probe: /proc, lscpu and nvidia-smi. */
import type { CommandRunner } from './command-runner.js';
import {
  type DiscreteGpu,
  HardwareError,
  type HardwareFacts,
  keyValues,
  nonEmpty,
  type OsInfo,
  parseSize,
  positiveInt,
  tryRun,
} from './hardware-facts.js';

export async function readLinux(
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
    model,
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
    gpus.push({ name, memoryBytes });
  }
  return gpus;
}

export async function readLinuxOs(readFile: (p: string) => Promise<string>): Promise<OsInfo> {
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
