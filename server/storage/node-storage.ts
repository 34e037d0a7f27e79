// A node's durable storage as the node shell's disk sees it (docs/storage.md, "Snapshots"): the WAL
// and the snapshot files together, with the ordering rules between them.
//   - An installed snapshot (received from the leader) is made durable FIRST, then the WAL records
//     that the log starts after it: a crash in between leaves a snapshot the WAL does not need yet,
//     never a WAL that says "the log starts after I" with no snapshot covering I.
//   - A snapshot the node took itself is saved on its own; the caller releases the log only after.
//   - The log is released no further than the oldest kept snapshot, so a newest snapshot found
//     damaged at boot can fall back to the older one and still find every entry after it.
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import type { SavedSnapshot, SnapshotStore } from './snapshot-store.js';
import type { Wal } from './wal.js';

/** Deliberately broken orderings, for testing the testers (the crash tests must catch them). */
export interface StorageUnsafe {
  /** Write an installed snapshot's log-start record to the WAL before the snapshot file is durable. */
  readonly logStartBeforeSnapshot?: boolean;
}

export interface StorageStats {
  readonly walBytes: number;
  readonly walSegments: number;
  readonly walSegmentsReleased: number;
  /** The newest durable snapshot's index and term (0 when none). */
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
}

export class NodeStorage {
  /** A persist with an installed snapshot in progress: later saves wait for it, to stay in order. */
  private installing: Promise<void> | undefined;

  constructor(
    readonly wal: Wal,
    readonly snapshots: SnapshotStore,
    private readonly unsafe: StorageUnsafe = {},
  ) {}

  /**
   * Saves a Ready: the installed snapshot first (when there is one), then the hard state and the
   * entries in one WAL save that starts with the log-start record. Resolves once all of it is durable.
   */
  persist(hardState: HardState | undefined, entries: readonly Entry[], snapshot?: Snapshot): Promise<void> {
    const before = this.installing;
    // Called synchronously when nothing is being installed: the WAL orders saves by call order.
    const run = (): Promise<void> =>
      snapshot === undefined ? this.wal.save(hardState, entries) : this.install(hardState, entries, snapshot);
    const saved = before === undefined ? run() : before.then(run);
    if (snapshot !== undefined) {
      const settled = saved.catch(() => undefined);
      this.installing = settled;
      void settled.then(() => {
        if (this.installing === settled) this.installing = undefined;
      });
    }
    return saved;
  }

  private async install(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    snapshot: Snapshot,
  ): Promise<void> {
    if (this.unsafe.logStartBeforeSnapshot === true) {
      await this.wal.save(hardState, entries, snapshot.meta);
      await this.snapshots.save(snapshot);
      return;
    }
    await this.snapshots.save(snapshot);
    await this.wal.save(hardState, entries, snapshot.meta);
  }

  /** A snapshot this node took of its own state machine; durable when this resolves. */
  saveSnapshot(snapshot: Snapshot): Promise<SavedSnapshot> {
    return this.snapshots.save(snapshot);
  }

  /**
   * Entries <= throughIndex are covered by a durable snapshot: deletes the WAL segments holding only
   * such entries (never past the oldest kept snapshot). Resolves with the files deleted.
   */
  releaseLog(throughIndex: number): Promise<string[]> {
    return this.wal.releaseThrough(this.snapshots.releasableThrough(throughIndex));
  }

  stats(): StorageStats {
    const wal = this.wal.stats;
    const meta = this.snapshots.newestMeta;
    return {
      walBytes: wal.sizeBytes,
      walSegments: wal.segments,
      walSegmentsReleased: wal.segmentsReleased,
      snapshotIndex: meta?.index ?? 0,
      snapshotTerm: meta?.term ?? 0,
    };
  }

  async close(): Promise<void> {
    await this.installing;
    await this.snapshots.settled(); // no snapshot file written after the lock is gone
    await this.wal.close();
  }
}
