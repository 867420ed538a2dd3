import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandError, type CommandRunner, execaRunner } from '../src/identity/command-runner.js';
import { hardwareLabel, readHardware } from '../src/identity/hardware.js';
import { type Hardware, HardwareError } from '../src/identity/hardware-facts.js';
import { gpuCoresFromDisplays, gpuCoresFromIoreg } from '../src/identity/hardware-macos.js';
import { thisPlatform } from './helpers/platform.js';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/macos');
const GIB = 1024 ** 3;

// The exact command lines readHardware issues on macOS; each maps to a recorded output.
const SYSCTL = 'sysctl hw machdep.cpu hw.model';
const SW_VERS = 'sw_vers';
const IOREG = 'ioreg -r -d 1 -c AGXAccelerator';
const DISPLAYS = 'system_profiler -json SPDisplaysDataType';
const OVERVIEW = 'system_profiler -json SPHardwareDataType';

function fixture(rel: string): string {
  return readFileSync(path.join(FIXTURES, rel), 'latin1');
}

/**
 * Replaces the fixtures' masked identifiers ("XXXX", "XXXXXXXX-XXXX-…") with distinct realistic
 * values, so a leak of a serial number or UUID into the result would be visible.
 */
function unmask(text: string): { text: string; secrets: string[] } {
  const secrets: string[] = [];
  const out = text.replace(/"([X-]{4,})"/g, () => {
    const secret = `C02Q${secrets.length}7ZFMD6T-SECRET`;
    secrets.push(secret);
    return `"${secret}"`;
  });
  return { text: out, secrets };
}

/** A CommandRunner that answers from recorded outputs, keyed by the exact argv. Missing → the tool failed. */
function recorded(outputs: Record<string, string>) {
  const calls: string[] = [];
  const secrets: string[] = [];
  const texts = new Map<string, string>();
  for (const [argv, text] of Object.entries(outputs)) {
    const masked = unmask(text);
    texts.set(argv, masked.text);
    secrets.push(...masked.secrets);
  }
  const run: CommandRunner = async (file, args) => {
    const argv = [file, ...args].join(' ');
    calls.push(argv);
    const text = texts.get(argv);
    if (text === undefined) throw new CommandError(file, args, 'no recorded output', false);
    return text;
  };
  return { run, calls, secrets };
}

const noFiles = async (p: string): Promise<string> => {
  throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
};

function mac(outputs: Record<string, string>, runnerName = 'runner-1') {
  const rec = recorded(outputs);
  return {
    rec,
    read: () => readHardware({ platform: 'darwin', run: rec.run, readFile: noFiles, runnerName }),
  };
}

interface Case {
  name: string;
  outputs: Record<string, string>;
  expected: Partial<Hardware>;
}

const cases: Case[] = [
  {
    name: 'M1 MacBook Air, macOS 12 (no perf-level names, no hw.model in `sysctl hw`)',
    outputs: {
      [SYSCTL]: fixture('m1/sysctl-hw.txt'),
      [OVERVIEW]: fixture('m1/system-profiler-SPHardwareDataType.json'),
      [SW_VERS]: fixture('m1/sw_vers.txt'),
      [IOREG]: fixture('m1/ioreg-l-agxaccelerator-excerpt.txt'),
    },
    expected: {
      chip: 'Apple M1',
      model: 'MacBookAir10,1',
      memoryBytes: 16 * GIB,
      cpuCount: 8,
      coreLevels: [
        { name: 'Performance', cores: 4 },
        { name: 'Efficiency', cores: 4 },
      ],
      gpuCores: 8,
      virtual: false,
      os: { name: 'macOS', version: '14.0', major: '14', build: '23A344' },
    },
  },
  {
    name: 'M1 on macOS 11.0 ("Apple processor")',
    outputs: {
      [SYSCTL]: fixture('m1/sysctl-machdep-cpu-bigsur-11.0.txt'),
      [OVERVIEW]: fixture('m1/system-profiler-SPHardwareDataType.json'),
    },
    expected: {
      chip: 'Apple M1',
      model: 'MacBookAir10,1',
      memoryBytes: 16 * GIB,
      cpuCount: 8,
      coreLevels: [],
    },
  },
  {
    name: 'M1 Pro, macOS 12 (GPU cores from SPDisplaysDataType)',
    outputs: {
      [SYSCTL]: fixture('m1-pro/sysctl-hw-machdep.txt'),
      [DISPLAYS]: fixture('m1-pro/system-profiler-SPDisplaysDataType.json'),
    },
    expected: {
      chip: 'Apple M1 Pro',
      memoryBytes: 16 * GIB,
      cpuCount: 8,
      coreLevels: [
        { name: 'Performance', cores: 6 },
        { name: 'Efficiency', cores: 2 },
      ],
      gpuCores: 14,
      os: { name: 'macOS' },
    },
  },
  {
    name: 'M2',
    outputs: { [SYSCTL]: fixture('m2/sysctl-hw-machdep.txt') },
    expected: {
      chip: 'Apple M2',
      memoryBytes: 16 * GIB,
      cpuCount: 8,
      coreLevels: [
        { name: 'Performance', cores: 4 },
        { name: 'Efficiency', cores: 4 },
      ],
    },
  },
  {
    name: 'M3 Max 14-core',
    outputs: { [SYSCTL]: fixture('m3-max/sysctl-hw-machdep-14core.txt') },
    expected: {
      chip: 'Apple M3 Max',
      memoryBytes: 36 * GIB,
      cpuCount: 14,
      coreLevels: [
        { name: 'Performance', cores: 10 },
        { name: 'Efficiency', cores: 4 },
      ],
    },
  },
  {
    name: 'M4 Max',
    outputs: { [SYSCTL]: fixture('m4-max/sysctl-hw-machdep.txt') },
    expected: {
      chip: 'Apple M4 Max',
      memoryBytes: 64 * GIB,
      cpuCount: 16,
      coreLevels: [
        { name: 'Performance', cores: 12 },
        { name: 'Efficiency', cores: 4 },
      ],
    },
  },
  {
    name: 'M5 Max ("Super"/"Performance" levels, 4-field number_processors)',
    outputs: {
      [SYSCTL]: fixture('m5-max/sysctl-perflevels.txt'),
      [OVERVIEW]: fixture('m5-max/system-profiler-SPHardwareDataType.json'),
      [DISPLAYS]: fixture('m5-max/system-profiler-SPDisplaysDataType.txt'),
    },
    expected: {
      chip: 'Apple M5 Max',
      model: 'Mac17,6',
      memoryBytes: 128 * GIB,
      cpuCount: 18,
      coreLevels: [
        { name: 'Super', cores: 6 },
        { name: 'Performance', cores: 12 },
      ],
      gpuCores: 40,
    },
  },
  {
    name: 'GitHub macOS 26 arm64 runner VM',
    outputs: {
      [SYSCTL]: fixture('github-runner-macos-26-arm64-vm/sysctl-selected.txt'),
      [SW_VERS]: fixture('github-runner-macos-26-arm64-vm/sw_vers.txt'),
      [OVERVIEW]: fixture('github-runner-macos-26-arm64-vm/system-profiler-SPHardwareDataType.json'),
    },
    expected: {
      chip: 'Apple M1 (Virtual)',
      virtual: true,
      model: 'VirtualMac2,1',
      memoryBytes: 7516192768,
      cpuCount: 3,
      coreLevels: [{ name: 'Standard', cores: 3 }],
      os: { name: 'macOS', version: '26.6.2', major: '26', build: '25G83' },
    },
  },
  {
    name: 'GitHub macOS 15 Intel runner VM',
    outputs: {
      [SYSCTL]: fixture('github-runner-macos-15-intel-vm/sysctl-selected.txt'),
      [SW_VERS]: fixture('github-runner-macos-15-intel-vm/sw_vers.txt'),
      [OVERVIEW]: fixture('github-runner-macos-15-intel-vm/system-profiler-SPHardwareDataType.json'),
      [DISPLAYS]: fixture('github-runner-macos-15-intel-vm/system-profiler-SPDisplaysDataType.json'),
    },
    expected: {
      chip: 'Intel(R) Core(TM) i7-8700B CPU @ 3.20GHz',
      model: 'Macmini6,2',
      memoryBytes: 15032385536,
      cpuCount: 4,
      coreLevels: [{ name: 'Standard', cores: 4 }],
      os: { name: 'macOS', version: '15.7.9', major: '15', build: '24G830' },
    },
  },
];

describe('readHardware on macOS (recorded outputs)', () => {
  it.each(cases)('$name', async ({ outputs, expected }) => {
    const { rec, read } = mac(outputs);
    const hw = await read();
    expect(hw).toMatchObject(expected);
    if (!('gpuCores' in expected)) expect(hw.gpuCores).toBeUndefined();
    if (!('model' in expected)) expect(hw.model).toBeUndefined();
    expect(hw.platform).toBe('darwin');
    expect(hw.hash).toMatch(/^[0-9a-f]{16}$/);
    // Serial numbers and UUIDs in system_profiler output never reach the result.
    const serialised = JSON.stringify(hw);
    for (const secret of rec.secrets) expect(serialised).not.toContain(secret);
    expect(serialised).not.toMatch(/XXXX|serial|uuid|udid/i);
  });

  it('tells every machine apart by hash', async () => {
    const hashes = await Promise.all(cases.map(async ({ outputs }) => (await mac(outputs).read()).hash));
    expect(new Set(hashes).size).toBe(cases.length);
  });

  it('did unmask identifiers in the inputs (the leak check is not vacuous)', () => {
    const { secrets } = recorded({ [OVERVIEW]: fixture('m5-max/system-profiler-SPHardwareDataType.json') });
    expect(secrets).toHaveLength(3);
  });

  it('does not fall back to system_profiler for GPU cores when ioreg has them', async () => {
    const { rec, read } = mac(cases[0]!.outputs);
    await read();
    expect(rec.calls).toContain(IOREG);
    expect(rec.calls).not.toContain(DISPLAYS);
  });

  it('does not take "Unknown" from system_profiler under Rosetta as the chip', async () => {
    const hw = await mac({
      [SYSCTL]: fixture('m1/sysctl-machdep-cpu-bigsur-11.0.txt'),
      [OVERVIEW]: fixture('m1/system-profiler-SPHardwareDataType-under-rosetta.json'),
    }).read();
    expect(hw.chip).toBe('Apple processor');
    expect(hw.cpuCount).toBe(8);
    expect(hw.memoryBytes).toBe(16 * GIB);
  });

  it('builds a readable label from runner name, chip and memory', async () => {
    const hw = await mac({ [SYSCTL]: fixture('m4-max/sysctl-hw-machdep.txt') }, 'mac-studio-1').read();
    expect(hw.label).toBe('mac-studio-1 · Apple M4 Max · 64 GB');
  });

  it('tidies Intel brand strings in the label', () => {
    const brand = fixture('intel-i9-9980hk-macbookpro16/sysctl-n-brand.txt').trim();
    expect(hardwareLabel('mbp', brand, 16 * GIB)).toBe('mbp · Intel Core i9-9980HK @ 2.40GHz · 16 GB');
    const old = fixture('intel-i7-3820qm-macbookpro-2012/sysctl-n-brand.txt').trim();
    expect(hardwareLabel('', old, 8 * GIB)).toBe('Intel Core i7-3820QM @ 2.70GHz · 8 GB');
  });
});

describe('hardware hash', () => {
  const m1 = cases[0]!.outputs;

  it('ignores the runner name and the OS version', async () => {
    const a = await mac(m1, 'mini-a').read();
    const b = await mac(
      { ...m1, [SW_VERS]: fixture('github-runner-macos-26-arm64-vm/sw_vers.txt') },
      'mini-b',
    ).read();
    expect(b.os.version).not.toBe(a.os.version);
    expect(b.label).not.toBe(a.label);
    expect(b.hash).toBe(a.hash);
  });

  it('is unchanged when macOS 13 starts naming the perf levels', async () => {
    const before = await mac(m1).read();
    const named = `${fixture('m1/sysctl-hw.txt')}hw.perflevel0.name: Performance\nhw.perflevel1.name: Efficiency\n`;
    const after = await mac({ ...m1, [SYSCTL]: named }).read();
    expect(after.coreLevels).toEqual(before.coreLevels);
    expect(after.hash).toBe(before.hash);
  });

  it('changes with memory, GPU cores and the model', async () => {
    const base = await mac(m1).read();
    const moreMemory = await mac({
      ...m1,
      [SYSCTL]: fixture('m1/sysctl-hw.txt').replace('hw.memsize: 17179869184', `hw.memsize: ${8 * GIB}`),
    }).read();
    expect(moreMemory.memoryBytes).toBe(8 * GIB);
    expect(moreMemory.hash).not.toBe(base.hash);

    const sevenCoreGpu = await mac({ ...m1, [IOREG]: '"gpu-core-count" = 7\n' }).read();
    expect(sevenCoreGpu.gpuCores).toBe(7);
    expect(sevenCoreGpu.hash).not.toBe(base.hash);

    const mini = await mac({
      ...m1,
      [SYSCTL]: `${fixture('m1/sysctl-hw.txt')}hw.model: Macmini9,1\n`,
    }).read();
    expect(mini.model).toBe('Macmini9,1');
    expect(mini.hash).not.toBe(base.hash);
  });
});

describe('readHardware failures', () => {
  it('names what is missing when neither sysctl nor system_profiler tells the chip', async () => {
    const error = await mac({ [SYSCTL]: fixture('m3-max/sysctl-hw.txt') })
      .read()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HardwareError);
    expect((error as Error).message).toContain('the chip');
    expect((error as Error).message).not.toContain('memory');
  });

  it('reports a sysctl that cannot run', async () => {
    const error = await mac({})
      .read()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HardwareError);
    expect((error as Error).message).toContain('sysctl');
  });

  it('refuses unsupported platforms clearly', async () => {
    const error = await readHardware({
      platform: 'win32',
      run: recorded({}).run,
      readFile: noFiles,
      runnerName: 'x',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HardwareError);
    expect((error as Error).message).toContain("'win32'");
  });
});

describe('GPU core parsers', () => {
  it('reads ioreg', () => {
    expect(gpuCoresFromIoreg(fixture('m1/ioreg-l-agxaccelerator-excerpt.txt'))).toBe(8);
    expect(gpuCoresFromIoreg('')).toBeUndefined();
  });

  it('reads SPDisplaysDataType as JSON or text', () => {
    expect(gpuCoresFromDisplays(fixture('m1-pro/system-profiler-SPDisplaysDataType.json'))).toBe(14);
    expect(gpuCoresFromDisplays(fixture('m2-max/system-profiler-SPDisplaysDataType.txt'))).toBe(38);
    expect(gpuCoresFromDisplays(fixture('m5-max/system-profiler-SPDisplaysDataType.txt'))).toBe(40);
    expect(
      gpuCoresFromDisplays(
        fixture('github-runner-macos-15-intel-vm/system-profiler-SPDisplaysDataType.json'),
      ),
    ).toBeUndefined();
  });
});

describe('readHardware on this machine and on Linux', () => {
  const readText = (p: string) => readFile(p, 'utf8');

  it(`reads this machine (${process.platform}) with the real command runner`, async () => {
    const platform = thisPlatform();
    const read = (runnerName: string) =>
      readHardware({ platform, run: execaRunner(), readFile: readText, runnerName });
    const hw = await read('this-host');
    const cpus = os.cpus();
    expect(hw.platform).toBe(platform);
    expect(hw.cpuCount).toBe(cpus.length);
    expect(Math.abs(hw.memoryBytes - os.totalmem())).toBeLessThan(os.totalmem() * 0.01);
    expect(hw.label.startsWith('this-host · ')).toBe(true);
    expect(hw.hash).toMatch(/^[0-9a-f]{16}$/);
    if (platform === 'darwin') {
      // sysctl, run for real: the chip and model it reports, and the cores per performance level.
      const sysctl = (name: string) => execFileSync('sysctl', ['-n', name], { encoding: 'utf8' }).trim();
      expect(hw.chip).toBe(sysctl('machdep.cpu.brand_string'));
      expect(hw.model).toBe(sysctl('hw.model'));
      expect(hw.coreLevels.reduce((sum, level) => sum + level.cores, 0)).toBe(
        Number(sysctl('hw.physicalcpu')),
      );
    } else {
      expect(hw.chip).toBe(cpus[0]!.model.trim());
    }
    expect((await read('other')).hash).toBe(hw.hash);
  });

  it('adds NVIDIA GPUs from nvidia-smi', async () => {
    const proc: Record<string, string> = {
      '/proc/cpuinfo': 'processor\t: 0\nmodel name\t: AMD EPYC 9454 48-Core Processor\n',
      '/proc/meminfo': 'MemTotal:       263886628 kB\n',
    };
    const readProc = async (p: string) => proc[p] ?? noFiles(p);
    const { run } = recorded({
      'nvidia-smi --query-gpu=name,memory.total --format=csv,noheader':
        'NVIDIA H100 80GB HBM3, 81559 MiB\nNVIDIA H100 80GB HBM3, 81559 MiB\n',
    });
    const hw = await readHardware({ platform: 'linux', run, readFile: readProc, runnerName: 'gpu-box' });
    expect(hw.gpus).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 1024 ** 2 },
      { name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 1024 ** 2 },
    ]);
    expect(hw.label).toBe('gpu-box · AMD EPYC 9454 48-Core Processor · 252 GB · 2× NVIDIA H100 80GB HBM3');
    const without = await readHardware({
      platform: 'linux',
      run: recorded({}).run,
      readFile: readProc,
      runnerName: 'gpu-box',
    });
    expect(without.gpus).toBeUndefined();
    expect(without.hash).not.toBe(hw.hash);
  });

  it('names the unreadable /proc file', async () => {
    const error = await readHardware({
      platform: 'linux',
      run: recorded({}).run,
      readFile: noFiles,
      runnerName: 'x',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HardwareError);
    expect((error as Error).message).toMatch(/\/proc\/(cpuinfo|meminfo)/);
  });
});
