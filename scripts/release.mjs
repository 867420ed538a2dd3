// What the release workflow (.github/workflows/release.yml) does for a pushed version tag, decided
// before anything is built: the tag must be vX.Y.Z and match package.json, CHANGELOG.md must have
// a section for the version (it becomes the release notes), and the moving major tag vX follows
// only the newest release of its major version, from 1.0.0 on (docs/releasing.md).
//
//   node scripts/release.mjs plan <tag> <notes-file>
//
// writes the notes file and, under GitHub Actions, the step outputs `version` and `major` (empty
// when no major tag moves). Standard library only: it runs before `npm ci`.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** [major, minor, patch] of a vX.Y.Z tag, or undefined for any other name. */
export function parseVersionTag(tag) {
  const m = TAG.exec(tag);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** The body of CHANGELOG.md's `## [X.Y.Z]` section (up to the next `## `), trimmed; undefined when absent. */
export function changelogSection(changelog, version) {
  const lines = changelog.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`## [${version}]`));
  if (start === -1) return undefined;
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines
    .slice(start + 1, end === -1 ? undefined : end)
    .join('\n')
    .trim();
}

/**
 * The release of `tag`: its version, the notes, and the major tag to move (undefined for 0.y.z
 * and when a newer release of the same major version exists). Throws an Error that says what to fix.
 * @param {{ tag: string, packageVersion: string, changelog: string, tags: string[] }} input
 */
export function releasePlan({ tag, packageVersion, changelog, tags }) {
  const parts = parseVersionTag(tag);
  if (!parts) throw new Error(`tag '${tag}' is not a release tag: use vMAJOR.MINOR.PATCH, e.g. v1.2.3`);
  const version = parts.join('.');
  if (packageVersion !== version) {
    throw new Error(
      `tag ${tag} does not match package.json version ${packageVersion}: set "version": "${version}" in package.json, commit, and tag that commit`,
    );
  }
  const notes = changelogSection(changelog, version);
  if (!notes) {
    throw new Error(
      `CHANGELOG.md has no "## [${version}]" section with notes: add one before tagging ${tag}`,
    );
  }
  const [major] = parts;
  if (major === 0) return { version, notes };
  const newer = tags
    .map(parseVersionTag)
    .filter((p) => p !== undefined && p[0] === major)
    .some((p) => p[1] > parts[1] || (p[1] === parts[1] && p[2] > parts[2]));
  return newer ? { version, notes } : { version, notes, major: `v${major}` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, tag, notesFile] = process.argv.slice(2);
  if (command !== 'plan' || !tag || !notesFile) {
    console.error('usage: node scripts/release.mjs plan <tag> <notes-file>');
    process.exit(2);
  }
  const root = path.resolve(import.meta.dirname, '..');
  try {
    const plan = releasePlan({
      tag,
      packageVersion: JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version,
      changelog: readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'),
      tags: execFileSync('git', ['tag', '--list', 'v*'], { cwd: root, encoding: 'utf8' }).split('\n'),
    });
    writeFileSync(notesFile, `${plan.notes}\n`);
    if (process.env.GITHUB_OUTPUT) {
      appendFileSync(process.env.GITHUB_OUTPUT, `version=${plan.version}\nmajor=${plan.major ?? ''}\n`);
    }
    console.log(
      `release ${tag}: notes in ${notesFile}; ${plan.major ? `moves ${plan.major}` : 'moves no major tag'}`,
    );
  } catch (error) {
    console.error(`release ${tag}: ${error.message}`);
    process.exit(1);
  }
}
