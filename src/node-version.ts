/**
 * The Node version gate of both entry points. The bundle relies on Node 24 (it fails on older
 * versions with errors such as `TEXT_ENCODINGS.union is not a function`, raised while modules
 * load), so the entries check first and load the rest with a dynamic import afterwards.
 * This module must itself load on any Node: no imports, no newer syntax or APIs.
 */

/** The oldest Node major version the action and the CLI run on. */
export const MIN_NODE_MAJOR = 24;

/**
 * `undefined` when `version` (e.g. `process.versions.node`) is new enough, else the message
 * to print: "autoresearch-ci needs Node 24 or newer (found 20.20.2)".
 */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(version.split('.')[0]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  return `autoresearch-ci needs Node ${MIN_NODE_MAJOR} or newer (found ${version})`;
}
