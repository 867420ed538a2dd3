import { existsSync } from 'node:fs';
import path from 'node:path';
import { builtinProtocol, loadProtocolFile, type Protocol } from './protocol.js';

/** File name looked for in the working directory when the `protocol` input is empty. */
export const PROTOCOL_FILE_NAME = 'protocol.json';

/**
 * The protocol in force: the `protocol` input when given, else `protocol.json` in the working
 * directory when present, else the built-in autoresearch-mlx protocol.
 */
export function resolveProtocol(opts: {
  protocolPath?: string;
  workingDirectory: string;
  cacheDir?: string;
}): Protocol {
  if (opts.protocolPath) return loadProtocolFile(opts.protocolPath, opts.cacheDir);
  const local = path.join(opts.workingDirectory, PROTOCOL_FILE_NAME);
  if (existsSync(local)) return loadProtocolFile(local, opts.cacheDir);
  return builtinProtocol(opts.cacheDir);
}
