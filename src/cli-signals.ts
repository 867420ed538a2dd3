/**
 * Ctrl-C, `kill` and a closed terminal for the local CLI. Node's default on these signals is to
 * die at once, which would leave the training (in its own process group) running as an orphan
 * and the machine lock naming a dead pid. Instead the first signal aborts the job: the training's
 * group gets SIGTERM, then SIGKILL after the grace, the lock is released and the ledger records
 * the run as cancelled; the CLI then exits with the shell's code for that signal.
 */
import { constants } from 'node:os';

/** The signals that stop a CLI run. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** A listener for {@link STOP_SIGNALS} that turns them into an abort. */
export interface SignalWatch {
  /** Aborted by the first stop signal, with an error naming it as reason. */
  signal: AbortSignal;
  /** The first stop signal received, if any. */
  received(): StopSignal | undefined;
  /** Removes the listeners. */
  dispose(): void;
}

/** 128 + the signal's number, as shells report a process the signal ended: 130, 143, 129. */
export function exitCodeFor(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * Starts listening. Later signals do not kill the process either: it is already stopping the
 * training, which takes at most the grace period.
 * @param say where to tell the user what is happening (stderr)
 */
export function watchStopSignals(say: (line: string) => void): SignalWatch {
  const controller = new AbortController();
  let first: StopSignal | undefined;
  const onSignal = (signal: StopSignal) => {
    if (first) {
      say(`Received ${signal}: still stopping the training.`);
      return;
    }
    first = signal;
    say(`Received ${signal}: stopping the training and releasing the machine lock.`);
    controller.abort(new Error(`stopped by ${signal}`));
  };
  const listeners = STOP_SIGNALS.map((signal) => {
    const listener = () => onSignal(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return {
    signal: controller.signal,
    received: () => first,
    dispose() {
      for (const [signal, listener] of listeners) process.off(signal, listener);
    },
  };
}
