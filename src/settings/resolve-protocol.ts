import { existsSync } from 'node:fs';
import path from 'node:path';
import { ACTION_ADVICE, type Advice } from './advice.js';
import { builtinProtocol, loadProtocolFile, type Protocol } from './protocol.js';

/** File name looked for in the working directory when the `protocol` input is empty. */
export const PROTOCOL_FILE_NAME = 'protocol.json';

/**
 * The protocol in force: the `protocol` input when given, else `protocol.json` in the working
 * directory when present, else the built-in autoresearch-mlx protocol.
 */
export function resolveProtocol(
  opts: {
    protocolPath?: string;
    workingDirectory: string;
    cacheDir?: string;
  },
  advice: Advice = ACTION_ADVICE,
): Protocol {
  if (opts.protocolPath) return loadProtocolFile(opts.protocolPath, opts.cacheDir, advice);
  const local = path.join(opts.workingDirectory, PROTOCOL_FILE_NAME);
  if (existsSync(local)) return loadProtocolFile(local, opts.cacheDir, advice);
  return builtinProtocol(opts.cacheDir);
}
