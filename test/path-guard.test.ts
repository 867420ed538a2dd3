import { describe, expect, it } from 'vitest';
import { checkChangedPaths, describeOffending } from '../src/event/path-guard.js';
import { builtinProtocol } from '../src/settings/protocol.js';

const protocol = builtinProtocol();

describe('checkChangedPaths', () => {
  it('accepts a change to train.py alone', () => {
    expect(checkChangedPaths(['train.py'], protocol)).toEqual([]);
  });

  it('names the immutable harness, forbidden files and anything outside the allowed globs', () => {
    const offending = checkChangedPaths(
      ['train.py', 'prepare.py', 'results.tsv', 'uv.lock', 'src/model.py', 'README.md'],
      protocol,
    );
    expect(offending).toEqual([
      { path: 'prepare.py', why: 'immutable' },
      { path: 'results.tsv', why: 'forbidden' },
      { path: 'uv.lock', why: 'forbidden' },
      { path: 'src/model.py', why: 'not-allowed' },
      { path: 'README.md', why: 'forbidden' },
    ]);
    expect(describeOffending(offending, protocol)).toEqual([
      'prepare.py is part of the immutable harness',
      'results.tsv is forbidden by the protocol',
      'uv.lock is forbidden by the protocol',
      'src/model.py is outside the allowed globs (train.py)',
      'README.md is forbidden by the protocol',
    ]);
  });

  it('does not let a nested train.py pass as the allowed one', () => {
    expect(checkChangedPaths(['sub/train.py'], protocol)).toEqual([
      { path: 'sub/train.py', why: 'not-allowed' },
    ]);
  });

  it('follows the protocol globs, not constants', () => {
    const custom = {
      allowedGlobs: ['models/**/*.py'],
      forbiddenGlobs: ['models/vendor/**'],
      immutablePaths: ['eval.py'],
    };
    expect(checkChangedPaths(['models/a/b.py', 'models/vendor/x.py', 'eval.py', 'train.py'], custom)).toEqual(
      [
        { path: 'models/vendor/x.py', why: 'forbidden' },
        { path: 'eval.py', why: 'immutable' },
        { path: 'train.py', why: 'not-allowed' },
      ],
    );
  });
});
