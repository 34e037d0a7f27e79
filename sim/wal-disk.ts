// The disk of --disk wal: the server's own WAL (server/storage/wal.ts) over a simulated file system
// (sim-fs.ts) that loses unsynced writes and tears the last one at a crash. A restart is the real
// openWal on the crashed file system: its torn-tail truncation and its corruption refusal run, and
// what it replays is what the node restarts from. The model disk (disk.ts) stays the record of
// what the driver was promised (the safety checker's view); this store is what is really on disk.
import type { Entry, HardState, Snapshot } from '../server/raft/types.js';
import { openWal, type Wal, type WalOptions, type WalUnsafe } from '../server/storage/wal.js';
import type { WalState } from '../server/storage/replay.js';
import { SimFs, type SimFsLatency } from './sim-fs.js';
import type { SimRng } from './rng.js';

/**
 * Tiny segments, so a seed rolls segments many times (each roll creates a file and syncs the
 * directory: code that 64 MiB segments would never reach in a simulated run).
 */
export const SIM_WAL_OPTIONS: WalOptions = { segmentSizeBytesMax: 4 * 1024, lockWaitMs: 0 };

export interface Reopened {
  readonly state: WalState;
  /** The WAL's repairs (a torn tail cut off), for the trace. */
  readonly warnings: readonly string[];
}

export class WalStore {
  readonly fs: SimFs;
  private wal: Wal | undefined;
  /** Saves and opens started and not yet finished in this life (the drain must bring it to 0). */
  inFlight = 0;
  /** Bumped by a crash: a dead life's calls never complete, and must not count. */
  private life = 0;

  /** `latency`: fsyncs take simulated time from the second open on (the first is before the run). */
  constructor(
    readonly dir: string,
    rng: SimRng,
    private readonly unsafe: WalUnsafe,
    private readonly latency: SimFsLatency,
  ) {
    this.fs = new SimFs([dir], rng);
  }

  /** Opens (replaying) the WAL on what the file system holds; rejects as openWal does. */
  async open(): Promise<Reopened> {
    if (this.wal !== undefined) throw new Error(`invariant: ${this.dir}: WAL opened twice in one life`);
    const life = this.life;
    this.inFlight++;
    const wal = await openWal(this.dir, SIM_WAL_OPTIONS, this.unsafe, this.fs.session()).finally(() => {
      if (life === this.life) this.inFlight--;
    });
    if (life !== this.life) throw new Error(`invariant: ${this.dir}: a dead life's WAL open completed`);
    this.wal = wal;
    this.fs.latency = this.latency;
    return { state: wal.state, warnings: wal.warnings };
  }

  /**
   * The real WAL's save; `acked` runs when it resolves (durable, or under ack-before-fsync
   * written), in the same microtask that ends its count in `inFlight`, so a drain that waits for
   * `busy` to clear has run it. A crashed life's saves never call back. The promise rejects only
   * when a callback threw.
   */
  save(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    acked: () => void,
    failed: (error: unknown) => void,
  ): Promise<void> {
    const wal = this.wal;
    if (wal === undefined) throw new Error(`invariant: ${this.dir}: save before the WAL was opened`);
    const life = this.life;
    this.inFlight++;
    const settled = (then: () => void): void => {
      if (life !== this.life) return;
      this.inFlight--;
      then();
    };
    return wal.save(hardState, entries).then(
      () => settled(acked),
      (error: unknown) => settled(() => failed(error)),
    );
  }

  /** WAL calls or callbacks still to run in this life now (not waiting for an fsync to complete). */
  get busy(): boolean {
    return (this.inFlight > 0 || (this.wal?.flushInProgress ?? false)) && !this.waitingOnDisk;
  }

  /** An fsync is in progress: the WAL resumes when it completes (a later simulation event). */
  get waitingOnDisk(): boolean {
    return this.fs.pendingSyncs > 0;
  }

  /**
   * The server's snapshot storage (snapshot file, the WAL's log-start record, segment release) is
   * not built yet, so WAL-disk seeds run with snapshots off (Simulation, lab sim): a snapshot
   * reaching this disk is a bug in that wiring, and faking it here would pass seeds the real
   * server cannot run.
   */
  saveSnapshot(snapshot: Snapshot): never {
    return this.noSnapshots(`saveSnapshot at index ${snapshot.meta.index}`);
  }

  releaseLog(throughIndex: number): never {
    return this.noSnapshots(`releaseLog through index ${throughIndex}`);
  }

  /** A Ready carrying a received snapshot to install. */
  installSnapshot(snapshot: Snapshot): never {
    return this.noSnapshots(`a received snapshot at index ${snapshot.meta.index}`);
  }

  private noSnapshots(what: string): never {
    throw new Error(`invariant: ${this.dir}: the WAL disk does not run snapshots yet (${what})`);
  }

  /** A power cut: the file system keeps what its model says; this life's WAL is gone. */
  crash(): string[] {
    this.wal = undefined;
    this.life++;
    this.inFlight = 0;
    return this.fs.crash();
  }
}
