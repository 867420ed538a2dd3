import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinProtocol, loadProtocolFile, ProtocolError } from '../src/settings/protocol.js';

const sharedProtocol = path.resolve(import.meta.dirname, 'fixtures/protocol/autoresearch-mlx.protocol.json');

const scratch = mkdtempSync(path.join(tmpdir(), 'arci-protocol-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let written = 0;

function writeProtocol(mutate: (doc: Record<string, any>) => void): string {
  const doc = JSON.parse(readFileSync(sharedProtocol, 'utf8'));
  mutate(doc);
  const file = path.join(scratch, `protocol-${++written}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('protocol', () => {
  it('loads the real autoresearch-mlx protocol unchanged', () => {
    const p = loadProtocolFile(sharedProtocol);
    expect(p.command).toBe('uv run train.py');
    expect(p.budgetSeconds).toBe(300);
    expect(p.hardTimeoutSeconds).toBe(900);
    expect(p.allowedGlobs).toEqual(['train.py']);
    expect(p.forbiddenGlobs).toContain('prepare.py');
    expect(p.immutablePaths).toEqual(['prepare.py']);
    expect(p.primary.name).toBe('val_bpb');
    expect(p.primary.direction).toBe('minimize');
    expect(p.primary.pattern.exec('x\nval_bpb:   1.5\n')?.[1]).toBe('1.5');
    expect(p.secondary.map((m) => m.name)).toEqual(['peak_vram_mb', 'training_seconds']);
    expect(p.results.columns).toEqual(['commit', 'val_bpb', 'memory_gb', 'status', 'description']);
    expect(p.crashStatus).toBe('crash');
    expect(p.oomPolicy).toBe('reduce_batch');
    expect(p.branchPattern).toBe('autoresearch/<tag>');
  });

  it('reads the prose data snapshot into absolute paths', () => {
    const snap = loadProtocolFile(sharedProtocol).dataSnapshot!;
    const root = path.join(homedir(), '.cache/autoresearch');
    expect(snap.root).toBe(root);
    expect(snap.dataDir).toBe(path.join(root, 'data'));
    expect(snap.pinnedFiles).toEqual([path.join(root, 'data', 'shard_06542.parquet')]);
    expect(snap.tokenizerDir).toBe(path.join(root, 'tokenizer'));
  });

  it('rebases the snapshot onto cache-dir', () => {
    const snap = loadProtocolFile(sharedProtocol, '/srv/cache').dataSnapshot!;
    expect(snap).toEqual({
      root: '/srv/cache',
      dataDir: '/srv/cache/data',
      pinnedFiles: ['/srv/cache/data/shard_06542.parquet'],
      tokenizerDir: '/srv/cache/tokenizer',
    });
  });

  it('the built-in protocol is the shared document, stating the figures and OOM messages it defaults to', () => {
    const builtin = builtinProtocol();
    const shared = loadProtocolFile(sharedProtocol);
    const { figures, ...measurement } = builtin.document.measurement;
    expect({ ...builtin.document, measurement }).toEqual(shared.document);
    expect(builtin.figures).toEqual(shared.figures);
    expect(figures).toBeDefined();
    expect(builtin.source).toMatch(/built-in/);
  });

  it('keeps unknown fields', () => {
    const file = writeProtocol((d) => {
      d.custom = { a: 1 };
      d.execution.extra = 'x';
    });
    const p = loadProtocolFile(file);
    expect((p.document as any).custom).toEqual({ a: 1 });
    expect((p.document.execution as any).extra).toBe('x');
  });

  it('names the file and the JSON path of a bad field', () => {
    const file = writeProtocol((d) => {
      d.execution.hardTimeoutSeconds = 'soon';
      d.measurement.secondaryMetrics[1].direction = 'down';
    });
    expect(() => loadProtocolFile(file)).toThrow(ProtocolError);
    try {
      loadProtocolFile(file);
    } catch (error) {
      const msg = (error as Error).message;
      expect(msg).toContain(file);
      expect(msg).toContain('$.execution.hardTimeoutSeconds');
      expect(msg).toContain('$.measurement.secondaryMetrics[1].direction');
    }
  });

  it('rejects an invalid regex and a missing file clearly', () => {
    const file = writeProtocol((d) => {
      d.measurement.primaryMetric.extract.pattern = '([';
    });
    expect(() => loadProtocolFile(file)).toThrow(
      /\$\.measurement\.primaryMetric\.extract\.pattern: is not a valid regular expression/,
    );
    expect(() => loadProtocolFile('/nonexistent/p.json')).toThrow(
      /\/nonexistent\/p\.json cannot be read \(ENOENT\)/,
    );
  });

  it('rejects malformed JSON naming the file', () => {
    const file = path.join(scratch, 'bad.json');
    writeFileSync(file, '{ nope');
    expect(() => loadProtocolFile(file)).toThrow(new RegExp(`${file} is not valid JSON`));
  });
});

describe('protocol integrity section', () => {
  it('loads the autoresearch-mlx document unchanged, with the integrity defaults', () => {
    const loaded = loadProtocolFile(sharedProtocol);
    expect(JSON.parse(readFileSync(sharedProtocol, 'utf8')).integrity).toBeUndefined();
    expect(loaded.integrity).toEqual({
      trainPyGuard: {
        file: 'train.py',
        harnessModule: 'prepare',
        evaluationFunction: 'evaluate_bpb',
        guardedKeys: ['val_bpb'],
        python: 'python3',
      },
      wallClockAllowanceSeconds: 300,
      plausibility: { lowerBound: 0, upperBound: null, maxImprovementSigma: 20, maxImprovementRelative: 0.1 },
    });
  });

  it('turns the train.py guard off with false and names a bad field', () => {
    const doc = JSON.parse(readFileSync(sharedProtocol, 'utf8'));
    const dir = mkdtempSync(path.join(tmpdir(), 'arci-protocol-'));
    const file = path.join(dir, 'p.json');
    writeFileSync(file, JSON.stringify({ ...doc, integrity: { trainPyGuard: false } }));
    expect(loadProtocolFile(file).integrity.trainPyGuard).toBeUndefined();
    writeFileSync(file, JSON.stringify({ ...doc, integrity: { plausibility: { maxImprovementSigma: -1 } } }));
    expect(() => loadProtocolFile(file)).toThrow(/at \$\.integrity\.plausibility\.maxImprovementSigma/);
  });
});
