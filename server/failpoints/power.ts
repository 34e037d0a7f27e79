// Power loss for the real server, as a test-only failpoint in the storage layer (a FUSE layer like
// Jepsen's lazyfs would serve any target, but needs a mount per node; this needs nothing). With
// RAFTLAB_LOSE_UNSYNCED=1 (set only by the lab) the WAL knows how far each segment was fsynced; on
// SIGUSR2, or a `power` failpoint, the process cuts every segment back to that offset and dies at
// once, which is what a power cut does to writes still in the page cache.
import type { Logger } from '../../shared/log.js';
import { dieNow, FailpointConfigError, LAB_RUN_ENV, setPowerCut } from './failpoints.js';

/** What the WAL offers: drop every byte written since the last fsync, synchronously. */
export interface UnsyncedDropper {
  dropUnsyncedSync(): string[];
}

export const POWER_SIGNAL = 'SIGUSR2';

/**
 * Installs the power-cut handler when env.RAFTLAB_LOSE_UNSYNCED is 1; refuses outside the lab.
 * Returns an uninstall function (a clean close must not leave the handler behind in tests).
 */
export function installPowerCut(env: NodeJS.ProcessEnv, wal: UnsyncedDropper, logger: Logger): () => void {
  if (env.RAFTLAB_LOSE_UNSYNCED !== '1') return () => undefined;
  if ((env[LAB_RUN_ENV] ?? '') === '')
    throw new FailpointConfigError(
      `RAFTLAB_LOSE_UNSYNCED is set but ${LAB_RUN_ENV} is not: power cuts are for lab runs only; unset it`,
    );
  const cut = (): void => {
    const dropped = wal.dropUnsyncedSync();
    process.stderr.write(`power cut: ${dropped.length > 0 ? dropped.join('; ') : 'nothing unsynced'}\n`);
  };
  const onSignal = (): void => {
    cut();
    dieNow();
  };
  setPowerCut(cut);
  process.on(POWER_SIGNAL, onSignal);
  logger.warn(`POWER CUTS enabled (lab only): ${POWER_SIGNAL} drops unsynced WAL bytes and kills the node`);
  return () => {
    process.off(POWER_SIGNAL, onSignal);
    setPowerCut(undefined);
  };
}
