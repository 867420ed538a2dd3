/**
 * On a Node older than 24 the action and the CLI say so and exit 2, instead of crashing while
 * their modules load. The built bundles run here under this Node with `process.versions.node`
 * reporting 20.20.2 before they load: the check must come before anything else runs.
 */
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from '../src/node-version.js';

const root = path.resolve(import.meta.dirname, '..');
const OLD_NODE = `data:text/javascript,Object.defineProperty(process, "versions", { value: { ...process.versions, node: "20.20.2" } });`;

function runBundle(file: string, ...args: string[]) {
  return execa(process.execPath, ['--import', OLD_NODE, path.join(root, file), ...args], {
    reject: false,
    env: { ...process.env, GITHUB_ACTIONS: 'true', INPUT_MODE: 'auto' },
  });
}

describe('the Node version check', () => {
  it('accepts Node 24 and newer and names the version it found otherwise', () => {
    expect(nodeVersionProblem('24.0.0')).toBeUndefined();
    expect(nodeVersionProblem('25.1.0')).toBeUndefined();
    expect(nodeVersionProblem('20.20.2')).toBe('autoresearch-ci needs Node 24 or newer (found 20.20.2)');
    expect(nodeVersionProblem('22.17.0')).toBe('autoresearch-ci needs Node 24 or newer (found 22.17.0)');
  });

  it('stops the CLI before it loads anything else, with exit 2', async () => {
    const { exitCode, stdout, stderr } = await runBundle('dist/cli.js', '--help');
    expect(exitCode).toBe(2);
    expect(stderr.trim()).toBe('autoresearch-ci needs Node 24 or newer (found 20.20.2)');
    // --help was never handled: the rest of the CLI did not run.
    expect(stdout).toBe('');
  });

  it('fails the action step with an error annotation, with exit 2', async () => {
    const { exitCode, stdout, stderr } = await runBundle('dist/index.js');
    expect(exitCode).toBe(2);
    expect(stdout.trim()).toBe('::error::autoresearch-ci needs Node 24 or newer (found 20.20.2)');
    expect(stderr).toBe('');
  });
});
