// A simulated disk for one node. The driver writes a Ready's entries and hard state; with mustSync
// the write is fsynced at once (durable), without it the write sits in the page cache and a crash
// loses it. A crash in the middle of a Ready (before its fsync) may leave any prefix of the write
// on disk: a torn write. Durable state is what a restarted node reads back.
// Snapshots: one durable snapshot at most (a newer one replaces it, as the real snapshot file is
// renamed over the old one). A snapshot the node took is durable only when saveSnapshotDone() is
// called (a crash before loses it); a received one is saved first in its Ready's write. The log
// starts after `offset`: releaseLog() drops entries through an index, installing a received
// snapshot drops the whole log.
import type { Entry, HardState, Snapshot } from '../server/raft/types.js';
import type { SimRng } from './rng.js';
import { sameEntry } from './safety.js';

const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

export interface DurableState {
  hardState: HardState;
  /** The contiguous entries after the snapshot (or from index 1 without one). */
  entries: Entry[];
  snapshot: Snapshot | undefined;
}

export class SimDisk {
  /** Durable log; entries[i] has index offset + i + 1. */
  private durable: Entry[] = [];
  /** Entries through this index were released (or never written here: a snapshot covers them). */
  private offset = 0;
  /** The durable snapshot (undefined: none). */
  snapshot: Snapshot | undefined;
  private durableHardState: HardState = EMPTY_HARD_STATE;
  /** Written but not fsynced: only a hard state can be pending (entries always come with mustSync). */
  private pendingHardState: HardState | undefined;
  syncs = 0;
  /**
   * The last hard state the driver was told is durable (written with mustSync): what a restart must
   * read back at least (term, commit). Kept apart from what really is durable, so a disk or driver
   * bug that loses a promised write shows up as the difference.
   */
  promised: HardState = EMPTY_HARD_STATE;
  /** Called with every hard state that becomes durable (the one-vote-per-term check reads them all). */
  onDurable: ((hardState: HardState) => void) | undefined;
  /** UNSAFE (hard-state-no-fsync): a Ready without entries is not fsynced, even when it must be. */
  unsafeSyncOnlyEntries = false;

  /** Persists one Ready's writes. Entries replace any entries from their first index on. */
  write(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    mustSync: boolean,
    snapshot?: Snapshot,
  ): void {
    if (entries.length > 0 && !mustSync) throw new Error('invariant: entries written without mustSync');
    if (snapshot !== undefined) this.installSnapshot(snapshot);
    this.append(entries);
    if (hardState !== undefined) this.pendingHardState = hardState;
    if (!mustSync) return;
    if (this.pendingHardState !== undefined) this.promised = this.pendingHardState;
    if (this.unsafeSyncOnlyEntries && entries.length === 0) return;
    if (this.pendingHardState !== undefined) this.makeDurable(this.pendingHardState);
    this.pendingHardState = undefined;
    this.syncs++;
  }

  private makeDurable(hardState: HardState): void {
    this.durableHardState = hardState;
    this.onDurable?.(hardState);
  }

  /** UNSAFE (forget-vote-on-restart): the durable vote is lost, as if the driver never stored it. */
  forgetVote(): void {
    this.durableHardState = { ...this.durableHardState, vote: '' };
  }

  /**
   * A crash while a Ready was being written, before its fsync. The real WAL (server/storage/wal.ts)
   * appends one save as records in order: an earlier unsynced hard state, then this save's entries,
   * then its hard state; a torn tail keeps a prefix of those records. So a hard state survives only
   * with every entry written before it, and never a commit index past entries that were lost.
   */
  crashDuringWrite(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    rng: SimRng,
    snapshot?: Snapshot,
  ): string {
    const pending = this.pendingHardState;
    const records =
      (snapshot !== undefined ? 1 : 0) +
      (pending !== undefined ? 1 : 0) +
      entries.length +
      (hardState !== undefined ? 1 : 0);
    let kept = rng.int(0, records);
    // A received snapshot is saved before anything else of its Ready (its file, then the WAL).
    const keptSnapshot = snapshot !== undefined && kept > 0;
    if (snapshot !== undefined) {
      if (keptSnapshot) this.installSnapshot(snapshot);
      else entries = []; // entries after a snapshot that did not make it cannot be kept either
      if (kept > 0) kept--;
    }
    const keptPending = pending !== undefined && kept > 0;
    if (keptPending) {
      this.makeDurable(pending);
      kept--;
    }
    const keptEntries = Math.min(kept, entries.length);
    this.append(entries.slice(0, keptEntries));
    const keptHardState = hardState !== undefined && kept > entries.length;
    if (keptHardState) this.makeDurable(hardState);
    this.pendingHardState = undefined;
    const parts = [`torn write kept ${keptEntries}/${entries.length} entries`];
    if (hardState !== undefined) parts.push(`hard state ${keptHardState ? 'kept' : 'lost'}`);
    if (pending !== undefined) parts.push(`earlier unsynced hard state ${keptPending ? 'kept' : 'lost'}`);
    if (snapshot !== undefined)
      parts.push(`snapshot ${snapshot.meta.index} ${keptSnapshot ? 'kept' : 'lost'}`);
    return parts.join(', ');
  }

  /**
   * What a restart found on the real disk (--disk wal: the WAL replayed on the crashed file
   * system) replaces this model's durable state; `promised` stays, so the restart check compares
   * what the WAL acknowledged with what it gave back.
   */
  replace(hardState: HardState, entries: readonly Entry[], snapshot: Snapshot | undefined): void {
    const start = snapshot?.meta.index ?? 0;
    if (entries.length > 0 && entries[0]?.index !== start + 1)
      throw new Error(`invariant: a booted log starts at ${entries[0]?.index}, its snapshot at ${start}`);
    // The same entry as before the crash is kept as the same object: the restart resumes the state
    // machine from a checkpoint only over identical objects (host.ts), and a replayed copy is equal.
    const before = this.durable;
    const beforeOffset = this.offset;
    this.durable = entries.map((e) => {
      const old = before[e.index - beforeOffset - 1];
      return old !== undefined && sameEntry(old, e) ? old : e;
    });
    // The snapshot the storage booted from (an older one when the newest was found damaged).
    this.snapshot = snapshot;
    this.offset = start;
    this.pendingHardState = undefined;
    this.makeDurable(hardState);
  }

  /** A received snapshot replaces the whole log (the core installs only one its log does not match). */
  private installSnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.durable = [];
    this.offset = snapshot.meta.index;
  }

  /** A snapshot this node took became durable (its save completed). */
  snapshotSaved(snapshot: Snapshot): void {
    if (this.snapshot !== undefined && snapshot.meta.index <= this.snapshot.meta.index) return;
    this.snapshot = snapshot;
  }

  /** Drops the entries through `throughIndex` (a durable snapshot covers them, unless a driver bug). */
  releaseLog(throughIndex: number): void {
    if (throughIndex <= this.offset) return;
    this.durable = this.durable.slice(Math.min(throughIndex - this.offset, this.durable.length));
    this.offset = throughIndex;
  }

  /** A crash between writes: whatever was not fsynced is lost. */
  crash(): void {
    this.pendingHardState = undefined;
  }

  /**
   * What a restarted node reads back: the snapshot, and the contiguous entries after it (older
   * retained entries are dropped; after a gap, nothing: a log released past its snapshot lost
   * them). The hard state's commit is capped at the durable log.
   */
  read(): DurableState {
    const hs = this.durableHardState;
    const start = this.snapshot?.meta.index ?? 0;
    const entries = this.offset <= start ? this.durable.slice(start - this.offset) : [];
    const commit = Math.max(start, Math.min(hs.commit, start + entries.length));
    return { hardState: commit === hs.commit ? hs : { ...hs, commit }, entries, snapshot: this.snapshot };
  }

  /** The hard state last written (synced or not): the node's term and vote as it last recorded them. */
  get lastHardState(): HardState {
    return this.pendingHardState ?? this.durableHardState;
  }

  /**
   * A lost disk (the disk-loss fault, beyond Raft's model): only the first `keep` entries survive,
   * and the hard state is gone (a cut log loses the hard-state records written after the cut).
   */
  lose(keep: number): void {
    if (this.snapshot !== undefined && keep < this.snapshot.meta.index) {
      this.snapshot = undefined; // cut before the snapshot: a wiped data directory
      keep = 0;
    }
    if (keep < this.offset) {
      this.durable = [];
      this.offset = keep;
    } else if (this.lastIndex > keep) this.durable.length = keep - this.offset;
    this.durableHardState = EMPTY_HARD_STATE;
    this.pendingHardState = undefined;
    // What it had promised is gone with it: the restart check compares against the lost disk.
    this.promised = EMPTY_HARD_STATE;
  }

  /** Index of the last durable entry (the snapshot's when the log after it is empty). */
  get lastIndex(): number {
    return this.offset + this.durable.length;
  }

  /** The durable entry at `index`; undefined if released, covered by the snapshot, or beyond the log. */
  entryAt(index: number): Entry | undefined {
    return index > this.offset ? this.durable[index - 1 - this.offset] : undefined;
  }

  /** Term at `index`: the entry's, the snapshot's at its index, 0 at 0; undefined otherwise. */
  termAt(index: number): number | undefined {
    if (index === 0) return 0;
    const entry = this.entryAt(index);
    if (entry !== undefined) return entry.term;
    return this.snapshot?.meta.index === index ? this.snapshot.meta.term : undefined;
  }

  /** The durable snapshot covers `index` (its state holds that entry's effect). */
  covers(index: number): boolean {
    return this.snapshot !== undefined && index <= this.snapshot.meta.index;
  }

  private append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const log = this.durable;
    const at = first.index - 1 - this.offset;
    if (at < 0)
      throw new Error(`invariant: entries from index ${first.index} before the log start ${this.offset + 1}`);
    if (at > log.length) {
      throw new Error(`invariant: entries from index ${first.index} leave a gap after ${this.lastIndex}`);
    }
    if (at !== log.length) log.length = at; // a rewrite; setting length is slow
    for (const e of entries) log.push(e);
  }
}
