import { homedir } from 'node:os';
import path from 'node:path';

/** Expands a leading `~` the way a shell would; other paths are returned unchanged. */
export function expandTilde(p: string): string {
  if (p === '~') return homedir();
  return p.startsWith('~/') ? path.join(homedir(), p.slice(2)) : p;
}
