/** The progress page of a local state dir (`autoresearch-ci report --out DIR`). */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Protocol } from '../settings/protocol.js';
import { readLedger } from '../state/ledger.js';
import { seriesFromLedger } from './progress-data.js';
import { renderProgressPage } from './progress-page.js';
import { PAGE_FILE } from './results-commit.js';

/**
 * Writes `index.html` into `outDir` from every experiment and baseline in the state dir's ledger:
 * the same page the results branch holds. Returns the page's path.
 */
export async function writeProgressReport(
  stateDir: string,
  outDir: string,
  protocol: Pick<Protocol, 'primary'>,
  now: Date = new Date(),
): Promise<string> {
  const { records } = await readLedger(stateDir);
  const series = seriesFromLedger(records, protocol.primary.name, protocol.primary.direction);
  const html = renderProgressPage(series, {
    title: `autoresearch-ci · ${path.basename(stateDir)}`,
    generatedAt: now,
  });
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, PAGE_FILE);
  await writeFile(file, html);
  return file;
}
