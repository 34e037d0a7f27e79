// The disk of --disk wal: the server's own storage (server/storage/open-storage.ts: the WAL, the
// snapshot store, the boot join and NodeStorage's ordering of snapshot, log-start record and
// segment release) over a simulated file system (sim-fs.ts) that loses unsynced writes, names and
// renames and tears the last write at a crash. A restart is the real openStorage on the crashed
// file system: its torn-tail truncation, temp-file cleanup, snapshot fallback and refusals
// (WalCorruptError, SnapshotCorruptError, SnapshotMissingError) run, and what it boots from is what
// the node restarts from. The model disk (disk.ts) stays the record of what the driver was promised
// (the safety checker's view); this store is what is really on disk.
import type { Entry, HardState, Snapshot } from '../server/raft/types.js';
import type { BootState } from '../server/storage/boot.js';
import type { NodeStorage, StorageUnsafe } from '../server/storage/node-storage.js';
import { openStorage } from '../server/storage/open-storage.js';
import type { SnapshotUnsafe } from '../server/storage/snapshot-store.js';
import type { WalOptions, WalUnsafe } from '../server/storage/wal.js';
import { SimFs, type SimFsLatency } from './sim-fs.js';
import type { SimRng } from './rng.js';

/**
 * Tiny segments, so a seed rolls segments many times (each roll creates a file and syncs the
 * directory: code that 64 MiB segments would never reach in a simulated run).
 */
export const SIM_WAL_OPTIONS: WalOptions = { segmentSizeBytesMax: 4 * 1024, lockWaitMs: 0 };

export type StoreUnsafe = WalUnsafe & StorageUnsafe & SnapshotUnsafe;

export interface Reopened {
  /** What the node boots from: the newest valid snapshot joined with the WAL. */
  readonly boot: BootState;
  /** The storage's repairs and fallbacks (a torn tail cut off, a damaged snapshot skipped). */
  readonly warnings: readonly string[];
}

export class WalStore {
  readonly fs: SimFs;
  private storage: NodeStorage | undefined;
  /** Saves and opens started and not yet finished in this life (the drain must bring it to 0). */
  inFlight = 0;
  /** Bumped by a crash: a dead life's calls never complete, and must not count. */
  private life = 0;

  /** `latency`: fsyncs take simulated time from the second open on (the first is before the run). */
  constructor(
    readonly dir: string,
    rng: SimRng,
    private readonly unsafe: StoreUnsafe,
    private readonly latency: SimFsLatency,
  ) {
    this.fs = new SimFs([dir], rng);
  }

  /** Opens (replaying) the storage on what the file system holds; rejects as openStorage does. */
  async open(): Promise<Reopened> {
    if (this.storage !== undefined)
      throw new Error(`invariant: ${this.dir}: storage opened twice in one life`);
    const life = this.life;
    this.inFlight++;
    const opened = await openStorage(this.dir, SIM_WAL_OPTIONS, this.unsafe, this.fs.session()).finally(
      () => {
        if (life === this.life) this.inFlight--;
      },
    );
    if (life !== this.life) throw new Error(`invariant: ${this.dir}: a dead life's storage open completed`);
    this.storage = opened.storage;
    this.fs.latency = this.latency;
    return { boot: opened.boot, warnings: opened.warnings };
  }

  /**
   * The driver's persist (NodeStorage.persist: an installed snapshot first, then the WAL save);
   * `acked` runs when it resolves (durable, or under ack-before-fsync written).
   */
  save(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    snapshot: Snapshot | undefined,
    acked: () => void,
    failed: (error: unknown) => void,
  ): Promise<void> {
    return this.track((storage) => storage.persist(hardState, entries, snapshot), acked, failed);
  }

  /** A snapshot of the node's own state machine (NodeStorage.saveSnapshot). */
  saveSnapshot(snapshot: Snapshot, saved: () => void, failed: (error: unknown) => void): Promise<void> {
    return this.track((storage) => storage.saveSnapshot(snapshot), saved, failed);
  }

  /** Deletes the WAL segments a durable snapshot covers (NodeStorage.releaseLog). */
  releaseLog(throughIndex: number, failed: (error: unknown) => void): Promise<void> {
    return this.track(
      (storage) => storage.releaseLog(throughIndex),
      () => undefined,
      failed,
    );
  }

  /**
   * Runs a storage call of this life, counted in `inFlight`; its callback runs in the same
   * microtask that ends the count, so a drain that waits for `busy` to clear has run it. A crashed
   * life's calls never call back. The promise rejects only when a callback threw.
   */
  private track(
    call: (storage: NodeStorage) => Promise<unknown>,
    done: () => void,
    failed: (error: unknown) => void,
  ): Promise<void> {
    const storage = this.storage;
    if (storage === undefined) throw new Error(`invariant: ${this.dir}: storage used before it was opened`);
    const life = this.life;
    this.inFlight++;
    const settled = (then: () => void): void => {
      if (life !== this.life) return;
      this.inFlight--;
      then();
    };
    return call(storage).then(
      () => settled(done),
      (error: unknown) => settled(() => failed(error)),
    );
  }

  /** Storage calls or callbacks still to run in this life now (not waiting for an fsync to complete). */
  get busy(): boolean {
    return (this.inFlight > 0 || (this.storage?.wal.flushInProgress ?? false)) && !this.waitingOnDisk;
  }

  /** An fsync is in progress: the storage resumes when it completes (a later simulation event). */
  get waitingOnDisk(): boolean {
    return this.fs.pendingSyncs > 0;
  }

  /** A power cut: the file system keeps what its model says; this life's storage is gone. */
  crash(): string[] {
    this.storage = undefined;
    this.life++;
    this.inFlight = 0;
    return this.fs.crash();
  }
}
