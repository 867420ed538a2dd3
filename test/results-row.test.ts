import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatRow, type ResultRow, ResultsRowError, upsertRow } from '../src/publish/results-row.js';

const COLUMNS = ['commit', 'val_bpb', 'memory_gb', 'status', 'description'];
const FIXTURES = path.join(import.meta.dirname, 'fixtures/results-tsv');
const fixtureNames = readdirSync(FIXTURES).filter((f) => f.endsWith('.tsv'));

const FULL_SHA = 'abcdef0123456789abcdef0123456789abcdef01';
const row: ResultRow = {
  commit: FULL_SHA,
  value: 1.23456789,
  memoryGb: 26.94,
  status: 'keep',
  description: 'experiment: raise matrix lr to 0.05',
};

/** The real files, plus the two shapes none of them happens to have: CRLF and no final newline. */
function variants(original: string): Array<[string, string]> {
  const crlf = original.replace(/\n/g, '\r\n');
  return [
    ['as published', original],
    ['CRLF', crlf],
    ['no final newline', original.replace(/\n$/, '')],
    ['CRLF, no final newline', crlf.replace(/\r\n$/, '')],
  ];
}

function rowsFor(text: string, commit: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.split('\t')[0] === commit.slice(0, 7));
}

describe('formatRow', () => {
  it('writes the protocol columns in order with the protocol number formats', () => {
    const line = formatRow(COLUMNS, row);
    expect(line.split('\t')).toEqual(['abcdef0', '1.234568', '26.9', 'keep', 'raise matrix lr to 0.05']);
  });

  it('follows the column order it is given', () => {
    const line = formatRow(['status', 'commit', 'description', 'memory_gb', 'val_bpb'], row);
    expect(line.split('\t')).toEqual(['keep', 'abcdef0', 'raise matrix lr to 0.05', '26.9', '1.234568']);
  });

  it('writes a crash as zeros, like the results files people keep by hand', () => {
    const line = formatRow(COLUMNS, { ...row, value: null, memoryGb: null, status: 'crash' });
    expect(line.split('\t').slice(1, 4)).toEqual(['0.000000', '0.0', 'crash']);
  });

  it('flattens tabs and line breaks so the row stays one TSV line with five cells', () => {
    const line = formatRow(COLUMNS, {
      ...row,
      status: 'dis\tcard',
      description: '  Experiment:\tdeeper\r\nmodel\n\n  with tabs\t ',
    });
    expect(line).not.toMatch(/[\r\n]/);
    expect(line.split('\t')).toHaveLength(5);
    expect(line.split('\t').slice(3)).toEqual(['dis card', 'deeper model with tabs']);
  });

  it('keeps a description that only mentions "experiment:" later on', () => {
    const line = formatRow(COLUMNS, { ...row, description: 'retry experiment: wider MLP' });
    expect(line.split('\t')[4]).toBe('retry experiment: wider MLP');
  });

  it('neutralises a description a spreadsheet would run as a formula (OWASP: a leading quote)', () => {
    for (const formula of ['=HYPERLINK("http://x","y")', '+1+2', '-2+3', '@SUM(A1)', 'experiment: =1+1']) {
      const cellText = formatRow(COLUMNS, { ...row, description: formula }).split('\t')[4]!;
      expect(cellText.startsWith("'"), formula).toBe(true);
    }
    expect(formatRow(COLUMNS, { ...row, description: 'a = b + c' }).split('\t')[4]).toBe('a = b + c');
  });

  it('fills unknown columns from extra, or leaves them empty', () => {
    const line = formatRow([...COLUMNS, 'runner', 'artifact_mb'], { ...row, extra: { runner: 'm4-max' } });
    expect(line.split('\t').slice(5)).toEqual(['m4-max', '']);
  });

  it('puts the value in the column the protocol names as primary metric', () => {
    const line = formatRow(['commit', 'val_loss', 'val_bpb'], { ...row, metricColumn: 'val_loss' });
    expect(line.split('\t')).toEqual(['abcdef0', '1.234568', '']);
  });

  it('rejects a commit that is not a sha, naming it', () => {
    expect(() => formatRow(COLUMNS, { ...row, commit: 'HEAD' })).toThrow(ResultsRowError);
    expect(() => formatRow(COLUMNS, { ...row, commit: 'HEAD' })).toThrow(/commit "HEAD"/);
  });

  it('rejects a non-finite value instead of writing NaN into the log', () => {
    expect(() => formatRow(COLUMNS, { ...row, value: Number.NaN })).toThrow(/val_bpb is NaN/);
    expect(() => formatRow(COLUMNS, { ...row, memoryGb: Infinity })).toThrow(/memory_gb is Infinity/);
  });
});

describe('upsertRow on a new file', () => {
  it.each([
    ['missing', null],
    ['empty', ''],
    ['blank', '\n\n'],
  ])('writes header and row when the file is %s', (_label, existing) => {
    const result = upsertRow(existing, COLUMNS, row, { commit: row.commit });
    expect(result.text).toBe(`${COLUMNS.join('\t')}\n${formatRow(COLUMNS, row)}\n`);
    expect(result).toMatchObject({ changed: true, replaced: false });
  });
});

describe.each(fixtureNames)('upsertRow into %s', (name) => {
  const original = readFileSync(path.join(FIXTURES, name), 'utf8');

  it.each(variants(original))('appends a new commit and keeps every byte (%s)', (_label, text) => {
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const first = upsertRow(text, COLUMNS, row, { commit: FULL_SHA });
    expect(first).toMatchObject({ changed: true, replaced: false });

    const kept = text.endsWith(eol) ? text : text + eol;
    expect(first.text.startsWith(kept)).toBe(true);
    const added = first.text.slice(kept.length);
    expect(added.endsWith(eol)).toBe(true);
    expect(added.slice(0, -eol.length)).not.toMatch(/[\r\n]/);
    // The row lines up with this file's own header, extra columns included.
    const header = text.split(/\r?\n/)[0]!.split('\t');
    expect(added.slice(0, -eol.length)).toBe(formatRow(header, row));
    expect(rowsFor(first.text, FULL_SHA)).toHaveLength(1);

    const second = upsertRow(first.text, COLUMNS, row, { commit: FULL_SHA });
    expect(second).toEqual({ text: first.text, changed: false, replaced: true });
  });

  it.each(variants(original))(
    're-running a commit already in the file replaces only its line (%s)',
    (_label, text) => {
      const lines = text.split('\n');
      const target = Math.floor(lines.length / 2);
      const commit = lines[target]!.split('\t')[0]!;
      const rerun = { ...row, commit, value: 0.5, status: 'discard' };

      const result = upsertRow(text, COLUMNS, rerun, { commit });
      expect(result).toMatchObject({ changed: true, replaced: true });
      const after = result.text.split('\n');
      expect(after).toHaveLength(lines.length);
      after.forEach((line, i) => {
        if (i !== target) expect(line).toBe(lines[i]);
      });
      const ending = lines[target]!.endsWith('\r') ? '\r' : '';
      const header = lines[0]!.replace(/\r$/, '').split('\t');
      expect(after[target]).toBe(formatRow(header, rerun) + ending);
      expect(rowsFor(result.text, commit)).toHaveLength(1);
      expect(upsertRow(result.text, COLUMNS, rerun, { commit }).text).toBe(result.text);
    },
  );
});

describe('upsertRow matching', () => {
  const file = `${COLUMNS.join('\t')}\n1111111\t1.0\t1.0\tkeep\tbase\n${formatRow(COLUMNS, row)}\n`;

  it('matches the 7-char sha in the file against a full sha', () => {
    const result = upsertRow(file, COLUMNS, { ...row, value: 2 }, { commit: FULL_SHA });
    expect(result.replaced).toBe(true);
    expect(rowsFor(result.text, FULL_SHA)).toEqual([formatRow(COLUMNS, { ...row, value: 2 })]);
  });

  it('does not take an empty, short or non-hex commit cell for a prefix of the sha', () => {
    const odd = `${COLUMNS.join('\t')}\n\t1.0\t1.0\tkeep\tno commit\nabcd\t1.0\t1.0\tkeep\tshort\nbaseline\t1.0\t1.0\tbaseline\tfirst\n`;
    const result = upsertRow(odd, COLUMNS, row, { commit: FULL_SHA });
    expect(result.replaced).toBe(false);
    expect(result.text).toBe(`${odd}${formatRow(COLUMNS, row)}\n`);
  });

  it('keeps one row per runner when the file has a runner column', () => {
    const columns = [...COLUMNS, 'runner'];
    const onM1 = { ...row, extra: { runner: 'm1' } };
    const onM4 = { ...row, value: 1.1, extra: { runner: 'm4' } };
    let text = upsertRow(null, columns, onM1, { commit: FULL_SHA, runnerOrKey: 'm1' }).text;
    text = upsertRow(text, columns, onM4, { commit: FULL_SHA, runnerOrKey: 'm4' }).text;
    expect(rowsFor(text, FULL_SHA)).toHaveLength(2);
    const again = upsertRow(text, columns, { ...onM4, value: 1.2 }, { commit: FULL_SHA, runnerOrKey: 'm4' });
    expect(again.replaced).toBe(true);
    expect(rowsFor(again.text, FULL_SHA).map((l) => l.split('\t')[1])).toEqual(['1.234568', '1.200000']);
  });

  it('rewrites only the last of rows a hand-edited file already repeats', () => {
    const dup = `${COLUMNS.join('\t')}\nabcdef0\t1.0\t1.0\tkeep\told\nabcdef0\t1.1\t1.0\tkeep\tnewer\n`;
    const result = upsertRow(dup, COLUMNS, row, { commit: FULL_SHA });
    const lines = result.text.split('\n');
    expect(lines[1]).toBe('abcdef0\t1.0\t1.0\tkeep\told');
    expect(lines[2]).toBe(formatRow(COLUMNS, row));
  });

  it('keeps a byte-order mark and reads the header behind it', () => {
    const bom = `\uFEFF${COLUMNS.join('\t')}\n`;
    const result = upsertRow(bom, COLUMNS, row, { commit: FULL_SHA });
    expect(result.text).toBe(`${bom}${formatRow(COLUMNS, row)}\n`);
  });

  it('treats a file without a header as rows in the protocol columns', () => {
    const headerless = '1111111\t1.0\t1.0\tkeep\tbase';
    const result = upsertRow(headerless, COLUMNS, row, { commit: FULL_SHA });
    expect(result.text).toBe(`${headerless}\n${formatRow(COLUMNS, row)}\n`);
  });

  it('refuses a header without the metric column, naming the columns it found', () => {
    const other = 'commit\tval_loss\tstatus\n';
    expect(() => upsertRow(other, COLUMNS, row, { commit: FULL_SHA })).toThrow(
      /header \(commit, val_loss, status\) has no "val_bpb" column/,
    );
  });
});
