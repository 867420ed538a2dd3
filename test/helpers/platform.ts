/** The platforms the action runs on, and what each provides, for tests that use the real machine. */
import { networkInterfaces } from 'node:os';

const SANDBOX_KINDS = { linux: 'unshare', darwin: 'sandbox-exec' } as const;

/** A platform the action supports. */
export type SupportedPlatform = keyof typeof SANDBOX_KINDS;

/**
 * This machine's platform. Throws on any other, so a test that uses the real machine fails with
 * the reason instead of passing or being skipped without a word.
 */
export function thisPlatform(): SupportedPlatform {
  const platform = process.platform;
  if (platform === 'linux' || platform === 'darwin') return platform;
  throw new Error(`these tests run on Linux or macOS, the platforms the action supports, not ${platform}`);
}

/** The network sandbox the action uses on this machine: unshare on Linux, sandbox-exec on macOS. */
export function nativeSandboxKind(): (typeof SANDBOX_KINDS)[SupportedPlatform] {
  return SANDBOX_KINDS[thisPlatform()];
}

/** An IPv4 address of this machine that is not loopback; throws when it has none. */
export function externalIPv4(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  throw new Error('this machine has no IPv4 address besides loopback to test the sandbox against');
}
