import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Git's blob id of a file's contents (`git hash-object`), computed without git. */
function gitBlobHash(contents: Buffer): string {
  return createHash('sha1').update(`blob ${contents.length}\0`).update(contents).digest('hex');
}

/**
 * Identifies an experiment by what it changed, not by its commit: kept commits are often amended,
 * so the sha in results.tsv may vanish, while the blob of train.py stays. With several literal
 * allowed paths the blobs are combined; globs that name no single file are skipped.
 */
export async function experimentBlob(workdir: string, allowedGlobs: readonly string[]): Promise<string> {
  const literal = allowedGlobs.filter((g) => !/[*?[\]{}]/.test(g));
  const blobs: string[] = [];
  for (const file of literal) {
    try {
      blobs.push(`${file}:${gitBlobHash(await readFile(path.join(workdir, file)))}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  if (blobs.length === 0) {
    throw new Error(
      `none of the protocol's allowed files (${allowedGlobs.join(', ')}) exists in ${workdir}; set working-directory to the experiment checkout`,
    );
  }
  if (blobs.length === 1) return blobs[0]!.slice(blobs[0]!.indexOf(':') + 1);
  return createHash('sha1').update(blobs.join('\n')).digest('hex');
}
