import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Protocol } from '../settings/protocol.js';
import type { CommandRunner } from './command-runner.js';
import { type ComparabilityComponents, computeComponents, keyHash } from './comparability.js';
import { fingerprintSnapshot, preflightSnapshot, protocolSetupCommands } from './data-snapshot.js';
import { readHardware } from './hardware.js';
import type { Hardware } from './hardware-facts.js';

/** Who is judging: the machine, its data snapshot, and the key results are compared under. */
export interface RunnerIdentity {
  hardware: Hardware;
  components: ComparabilityComponents;
  keyHash: string;
}

/** What {@link identifyRunner} needs. */
export interface IdentifyOptions {
  protocol: Protocol;
  /** The command actually run (the `command` input wins over the protocol's). */
  command: string;
  /** Checkout root: the immutable harness and uv.lock are read from here. */
  workdir: string;
  stateDir: string;
  runnerName: string;
  run: CommandRunner;
  platform?: NodeJS.Platform;
}

/**
 * Checks the data snapshot is in place (before anything runs), then fingerprints the hardware and
 * the data and derives the comparability key. The snapshot hash cache lives in the state dir so
 * the next job pays milliseconds.
 */
export async function identifyRunner(opts: IdentifyOptions): Promise<RunnerIdentity> {
  const snapshot = opts.protocol.dataSnapshot;
  if (snapshot) await preflightSnapshot(snapshot, { setupCommands: protocolSetupCommands(opts.protocol) });
  const hardware = await readHardware({
    platform: opts.platform ?? process.platform,
    run: opts.run,
    readFile: (p) => readFile(p, 'utf8'),
    runnerName: opts.runnerName,
  });
  const data = snapshot
    ? (await fingerprintSnapshot(snapshot, { cacheFile: path.join(opts.stateDir, 'snapshot-hashes.json') }))
        .hash
    : 'none';
  const components = await computeComponents({
    workdir: opts.workdir,
    protocol: { ...opts.protocol, command: opts.command },
    hardwareHash: hardware.hash,
    dataHash: data,
  });
  return { hardware, components, keyHash: keyHash(components) };
}
