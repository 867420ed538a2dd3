import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  COMPONENT_NAMES,
  type ComparabilityComponents,
  ComparabilityError,
  type ComponentName,
  computeComponents,
  diffComponents,
  keyHash,
} from '../src/identity/comparability.js';
import { fingerprintSnapshot } from '../src/identity/data-snapshot.js';
import { hardwareHash } from '../src/identity/hardware.js';
import type { HardwareFacts } from '../src/identity/hardware-facts.js';
import { builtinProtocol, type Protocol } from '../src/settings/protocol.js';

let work: string;
let repo: string;
let protocol: Protocol;
let base: ComparabilityComponents;

const studio: HardwareFacts = {
  platform: 'darwin',
  chip: 'Apple M2 Max',
  virtual: false,
  model: 'Mac14,13',
  memoryBytes: 64 * 1024 ** 3,
  cpuCount: 12,
  coreLevels: [
    { name: 'Performance', cores: 8 },
    { name: 'Efficiency', cores: 4 },
  ],
  gpuCores: 38,
};

async function dataHash(): Promise<string> {
  const snapshot = protocol.dataSnapshot!;
  return (await fingerprintSnapshot(snapshot, { cacheFile: path.join(work, 'hash-cache.json') })).hash;
}

async function components(overrides: { protocol?: Protocol; hardware?: HardwareFacts } = {}) {
  return computeComponents({
    workdir: repo,
    protocol: overrides.protocol ?? protocol,
    hardwareHash: hardwareHash(overrides.hardware ?? studio),
    dataHash: await dataHash(),
  });
}

beforeEach(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'arci-comparability-'));
  repo = path.join(work, 'repo');
  mkdirSync(repo);
  writeFileSync(path.join(repo, 'prepare.py'), 'TIME_BUDGET = 300\ndef evaluate_bpb(): ...\n');
  writeFileSync(path.join(repo, 'train.py'), 'print("training")\n');
  writeFileSync(path.join(repo, 'uv.lock'), 'version = 1\n[[package]]\nname = "mlx"\nversion = "0.29.0"\n');
  protocol = builtinProtocol(path.join(work, 'cache'));
  const snapshot = protocol.dataSnapshot!;
  mkdirSync(snapshot.dataDir, { recursive: true });
  mkdirSync(snapshot.tokenizerDir!, { recursive: true });
  for (const pinned of snapshot.pinnedFiles) writeFileSync(pinned, 'validation');
  writeFileSync(path.join(snapshot.dataDir, 'shard_00000.parquet'), 'train');
  writeFileSync(path.join(snapshot.tokenizerDir!, 'tokenizer.pkl'), 'merges');
  base = await components();
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('computeComponents', () => {
  it('fills every component from the protocol, the checkout, the runner and the data', () => {
    expect(base.budgetSeconds).toBe(300);
    expect(base.command).toBe('uv run train.py');
    for (const name of ['hardware', 'harness', 'data', 'lockfile'] as const) {
      expect(base[name]).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('is stable, and ignores the mutable train.py', async () => {
    writeFileSync(path.join(repo, 'train.py'), 'print("a different experiment")\n');
    const again = await components();
    expect(again).toEqual(base);
    expect(keyHash(again)).toBe(keyHash(base));
    expect(diffComponents(base, again)).toEqual([]);
  });

  it('normalises whitespace in the command', async () => {
    const spaced = await components({ protocol: { ...protocol, command: '  uv run   train.py ' } });
    expect(spaced.command).toBe(base.command);
  });

  it("records 'none' when there is no uv.lock", async () => {
    rmSync(path.join(repo, 'uv.lock'));
    expect((await components()).lockfile).toBe('none');
  });

  it('names a missing immutable file', async () => {
    rmSync(path.join(repo, 'prepare.py'));
    const error = await components().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComparabilityError);
    expect((error as Error).message).toContain('immutable harness file prepare.py');
    expect((error as Error).message).toContain('is missing');
  });

  it("treats the harness as 'none' when the protocol lists no immutable files", async () => {
    expect((await components({ protocol: { ...protocol, immutablePaths: [] } })).harness).toBe('none');
  });
});

describe('keyHash', () => {
  it('does not depend on key order', () => {
    const reversed = Object.fromEntries(Object.entries(base).reverse()) as unknown as ComparabilityComponents;
    expect(keyHash(reversed)).toBe(keyHash(base));
    expect(keyHash(base)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('diffComponents: each cause alone yields exactly its own entry', () => {
  const context = { harnessPaths: ['prepare.py'], dataRoot: path.join(homedir(), '.cache', 'autoresearch') };

  const causes: Array<{
    component: ComponentName;
    change: () => Promise<ComparabilityComponents>;
    explanation: string | RegExp;
  }> = [
    {
      component: 'hardware',
      change: () => components({ hardware: { ...studio, chip: 'Apple M4 Max', gpuCores: 40 } }),
      explanation: /^a different machine \(hardware fingerprint [0-9a-f]{16} → [0-9a-f]{16}\)$/,
    },
    {
      component: 'harness',
      change: async () => {
        writeFileSync(path.join(repo, 'prepare.py'), 'TIME_BUDGET = 60\ndef evaluate_bpb(): ...\n');
        return components();
      },
      explanation: 'the immutable harness prepare.py changed',
    },
    {
      component: 'data',
      change: async () => {
        writeFileSync(path.join(protocol.dataSnapshot!.tokenizerDir!, 'tokenizer.pkl'), 'retrained merges');
        return components();
      },
      explanation: 'the data snapshot changed (~/.cache/autoresearch)',
    },
    {
      component: 'budgetSeconds',
      change: () => components({ protocol: { ...protocol, budgetSeconds: 600 } }),
      explanation: 'the time budget changed 300 s → 600 s',
    },
    {
      component: 'command',
      change: () => components({ protocol: { ...protocol, command: 'uv run train.py --compile' } }),
      explanation: 'the training command changed: `uv run train.py` → `uv run train.py --compile`',
    },
    {
      component: 'lockfile',
      change: async () => {
        writeFileSync(
          path.join(repo, 'uv.lock'),
          'version = 1\n[[package]]\nname = "mlx"\nversion = "0.30.0"\n',
        );
        return components();
      },
      explanation: 'uv.lock changed',
    },
  ];

  it('covers every component', () => {
    expect(causes.map((c) => c.component).sort()).toEqual([...COMPONENT_NAMES].sort());
  });

  it.each(causes)('$component', async ({ component, change, explanation }) => {
    const current = await change();
    const diffs = diffComponents(base, current, context);
    expect(diffs).toHaveLength(1);
    const [diff] = diffs;
    expect(diff!.component).toBe(component);
    expect(diff!.before).toBe(String(base[component]));
    expect(diff!.after).toBe(String(current[component]));
    expect(diff!.explanation).toMatch(explanation);
    expect(keyHash(current)).not.toBe(keyHash(base));
  });
});

describe('diffComponents explanations', () => {
  it('names the machines by label when given', () => {
    const other = { ...base, hardware: hardwareHash({ ...studio, memoryBytes: 32 * 1024 ** 3 }) };
    const [diff] = diffComponents(base, other, {
      hardwareLabels: {
        before: 'mac-studio-1 · Apple M2 Max · 64 GB',
        after: 'mac-studio-2 · Apple M2 Max · 32 GB',
      },
    });
    expect(diff!.explanation).toBe(
      'a different machine (mac-studio-1 · Apple M2 Max · 64 GB → mac-studio-2 · Apple M2 Max · 32 GB)',
    );
  });

  it('says when uv.lock appeared or disappeared', async () => {
    rmSync(path.join(repo, 'uv.lock'));
    const without = await components();
    expect(diffComponents(base, without)[0]!.explanation).toBe('uv.lock was removed');
    expect(diffComponents(without, base)[0]!.explanation).toBe('uv.lock was added');
  });

  it('treats components an older record lacks as drifted', () => {
    const { lockfile: _dropped, ...older } = base;
    const diffs = diffComponents(older, base);
    expect(diffs.map((d) => [d.component, d.before])).toEqual([['lockfile', 'unrecorded']]);
  });

  it('lists several drifts in component order', async () => {
    const current = await components({
      protocol: { ...protocol, budgetSeconds: 120, command: 'python train.py' },
    });
    expect(diffComponents(base, current).map((d) => d.component)).toEqual(['budgetSeconds', 'command']);
  });
});
