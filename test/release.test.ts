import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without type declarations
import { changelogSection, parseVersionTag, releasePlan } from '../scripts/release.mjs';

const root = path.resolve(import.meta.dirname, '..');
const CHANGELOG = [
  '# Changelog',
  '',
  '## [Unreleased]',
  '',
  '## [1.2.0] - 2027-01-05',
  '',
  '### Added',
  '',
  '- a thing',
  '',
  '## [1.1.0] - 2026-12-01',
  '',
  '- older',
].join('\n');

describe('the release plan of a version tag', () => {
  const plan = (tag: string, tags: string[] = [], packageVersion = '1.2.0') =>
    releasePlan({ tag, packageVersion, changelog: CHANGELOG, tags });

  it('takes the notes from the version’s CHANGELOG section and moves the major tag', () => {
    expect(plan('v1.2.0', ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1'])).toEqual({
      version: '1.2.0',
      notes: '### Added\n\n- a thing',
      major: 'v1',
    });
  });

  it('never moves the major tag back to an older release, nor for 0.y.z', () => {
    expect(plan('v1.2.0', ['v1.2.0', 'v1.10.0'])).not.toHaveProperty('major');
    expect(plan('v1.2.0', ['v1.2.0', 'v1.2.1'])).not.toHaveProperty('major');
    expect(plan('v1.2.0', ['v2.0.0', 'v1.1.9'])).toHaveProperty('major', 'v1');
    expect(
      releasePlan({ tag: 'v0.3.0', packageVersion: '0.3.0', changelog: '## [0.3.0]\nx', tags: [] }),
    ).toEqual({
      version: '0.3.0',
      notes: 'x',
    });
  });

  it('refuses a tag that is not vX.Y.Z, does not match package.json, or has no notes', () => {
    expect(() => plan('v1.2')).toThrow("tag 'v1.2' is not a release tag: use vMAJOR.MINOR.PATCH");
    expect(() => plan('v01.2.0')).toThrow('is not a release tag');
    expect(() => plan('v1.2.0', [], '1.1.0')).toThrow(
      'tag v1.2.0 does not match package.json version 1.1.0: set "version": "1.2.0"',
    );
    expect(() => plan('v1.3.0', [], '1.3.0')).toThrow('CHANGELOG.md has no "## [1.3.0]" section');
    expect(changelogSection('## [1.3.0]\n\n## [1.2.0]\nx', '1.3.0')).toBe('');
    expect(() =>
      releasePlan({
        tag: 'v1.3.0',
        packageVersion: '1.3.0',
        changelog: '## [1.3.0]\n\n## [1.2.0]',
        tags: [],
      }),
    ).toThrow('no "## [1.3.0]" section with notes');
  });

  it('reads version tags only', () => {
    expect(parseVersionTag('v10.0.3')).toEqual([10, 0, 3]);
    for (const name of ['v1', '1.2.3', 'v1.2.3-rc.1', 'v1.2.3.4', ''])
      expect(parseVersionTag(name)).toBeUndefined();
  });
});

describe('scripts/release.mjs plan, as the release workflow runs it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'arci-release-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;

  it('writes the notes and the step outputs for the version in package.json', () => {
    const output = path.join(dir, 'output');
    writeFileSync(output, '');
    const notes = path.join(dir, 'notes.md');
    const stdout = execFileSync(process.execPath, ['scripts/release.mjs', 'plan', `v${version}`, notes], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, GITHUB_OUTPUT: output },
    });
    expect(stdout).toContain(`release v${version}: notes in ${notes}`);
    const section = changelogSection(readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'), version);
    expect(readFileSync(notes, 'utf8')).toBe(`${section}\n`);
    const major = Number(version.split('.')[0]) > 0 ? `v${version.split('.')[0]}` : '';
    expect(readFileSync(output, 'utf8')).toBe(`version=${version}\nmajor=${major}\n`);
  });

  it('fails with the reason for a tag that does not match package.json', () => {
    const run = spawnSync(
      process.execPath,
      ['scripts/release.mjs', 'plan', 'v99.0.0', path.join(dir, 'x.md')],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `release v99.0.0: tag v99.0.0 does not match package.json version ${version}`,
    );
  });
});
