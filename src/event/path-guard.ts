import path from 'node:path';
import type { Protocol } from '../settings/protocol.js';

/** A path the protocol does not allow, and which rule it broke. */
export interface OffendingPath {
  path: string;
  why: 'forbidden' | 'not-allowed' | 'immutable';
}

/**
 * Checks an experiment's changed paths against the protocol: every path must match an allowed glob
 * and none a forbidden glob or the immutable harness. Pure; the caller gets the paths.
 */
export function checkChangedPaths(
  paths: readonly string[],
  protocol: Pick<Protocol, 'allowedGlobs' | 'forbiddenGlobs' | 'immutablePaths'>,
): OffendingPath[] {
  const offending: OffendingPath[] = [];
  for (const p of paths) {
    if (protocol.immutablePaths.some((g) => matches(p, g))) offending.push({ path: p, why: 'immutable' });
    else if (protocol.forbiddenGlobs.some((g) => matches(p, g)))
      offending.push({ path: p, why: 'forbidden' });
    else if (!protocol.allowedGlobs.some((g) => matches(p, g)))
      offending.push({ path: p, why: 'not-allowed' });
  }
  return offending;
}

/** One line per offending path, for the notice and the comment. */
export function describeOffending(
  offending: readonly OffendingPath[],
  protocol: Pick<Protocol, 'allowedGlobs'>,
): string[] {
  const words = {
    immutable: 'is part of the immutable harness',
    forbidden: 'is forbidden by the protocol',
    'not-allowed': `is outside the allowed globs (${protocol.allowedGlobs.join(', ')})`,
  } as const;
  return offending.map((o) => `${o.path} ${words[o.why]}`);
}

/** Glob match on repository-relative POSIX paths. */
function matches(file: string, glob: string): boolean {
  return path.posix.matchesGlob(file, glob) || file === glob;
}
