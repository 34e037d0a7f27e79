// Opening a node's whole data directory: lock and replay the WAL, load the newest valid snapshot,
// and join them into what the node boots from (boot.ts).
import { join } from 'node:path';
import { joinSnapshotAndLog, type BootState } from './boot.js';
import { NodeStorage, type StorageUnsafe } from './node-storage.js';
import { SnapshotStore, SNAPSHOT_DIR_NAME, type SnapshotUnsafe } from './snapshot-store.js';
import { NODE_WAL_FS, type WalFs } from './fs.js';
import { openWal, type WalOptions, type WalUnsafe } from './wal.js';

export interface OpenedStorage {
  readonly storage: NodeStorage;
  readonly boot: BootState;
  /** Repairs and fallbacks made while opening (torn tail, damaged newest snapshot); log them. */
  readonly warnings: readonly string[];
}

/**
 * Rejects (releasing the lock) with WalCorruptError, SnapshotCorruptError (the only snapshot is
 * damaged) or SnapshotMissingError (the WAL was compacted past every valid snapshot). `fs`: node's,
 * or the simulator's file system (sim/wal-disk.ts runs this very function over it).
 */
export async function openStorage(
  dir: string,
  options: WalOptions = {},
  unsafe: WalUnsafe & StorageUnsafe & SnapshotUnsafe = {},
  fs: WalFs = NODE_WAL_FS,
): Promise<OpenedStorage> {
  const wal = await openWal(dir, options, unsafe, fs);
  try {
    const snapshots = await SnapshotStore.open(dir, fs, unsafe);
    const loaded = await snapshots.load();
    const boot = joinSnapshotAndLog(loaded.snapshot, wal.state, {
      snapshot: loaded.file ?? `${join(dir, SNAPSHOT_DIR_NAME)} (empty)`,
      walFirstSegment: wal.firstSegmentFile,
    });
    // A crash between a snapshot's rename and the WAL's log-start record (or a fallback to an
    // older snapshot) leaves a log that does not continue the snapshot: record where it starts, so
    // the next entries (snapshot index + 1 on) continue it.
    if (boot.walNeedsLogStart && loaded.snapshot !== undefined)
      await wal.save(undefined, [], loaded.snapshot.meta);
    const storage = new NodeStorage(wal, snapshots, unsafe);
    return { storage, boot, warnings: [...wal.warnings, ...loaded.warnings, ...boot.warnings] };
  } catch (error) {
    await wal.close();
    throw error;
  }
}
