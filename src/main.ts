import * as core from '@actions/core';

/** The action's whole flow; the only place errors are caught. */
export async function run(): Promise<void> {
  try {
    core.info('autoresearch-ci');
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
