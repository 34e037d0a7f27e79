// A simulated disk for one node. The driver writes a Ready's entries and hard state; with mustSync
// the write is fsynced at once (durable), without it the write sits in the page cache and a crash
// loses it. A crash in the middle of a Ready (before its fsync) may leave any prefix of the write
// on disk: a torn write. Durable state is what a restarted node reads back.
import type { Entry, HardState } from '../server/raft/types.js';
import type { SimRng } from './rng.js';
import { sameEntry } from './safety.js';

const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

export interface DurableState {
  hardState: HardState;
  entries: Entry[];
}

export class SimDisk {
  /** Durable log; entries[i] has index i + 1 (no compaction yet). */
  private durable: Entry[] = [];
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
  write(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean): void {
    if (entries.length > 0 && !mustSync) throw new Error('invariant: entries written without mustSync');
    appendEntries(this.durable, entries);
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
  crashDuringWrite(hardState: HardState | undefined, entries: readonly Entry[], rng: SimRng): string {
    const pending = this.pendingHardState;
    const records = (pending !== undefined ? 1 : 0) + entries.length + (hardState !== undefined ? 1 : 0);
    let kept = rng.int(0, records);
    const keptPending = pending !== undefined && kept > 0;
    if (keptPending) {
      this.makeDurable(pending);
      kept--;
    }
    const keptEntries = Math.min(kept, entries.length);
    appendEntries(this.durable, entries.slice(0, keptEntries));
    const keptHardState = hardState !== undefined && kept > entries.length;
    if (keptHardState) this.makeDurable(hardState);
    this.pendingHardState = undefined;
    const parts = [`torn write kept ${keptEntries}/${entries.length} entries`];
    if (hardState !== undefined) parts.push(`hard state ${keptHardState ? 'kept' : 'lost'}`);
    if (pending !== undefined) parts.push(`earlier unsynced hard state ${keptPending ? 'kept' : 'lost'}`);
    return parts.join(', ');
  }

  /**
   * What a restart found on the real disk (--disk wal: the WAL replayed on the crashed file
   * system) replaces this model's durable state; `promised` stays, so the restart check compares
   * what the WAL acknowledged with what it gave back.
   */
  replace(hardState: HardState, entries: readonly Entry[]): void {
    // The same entry as before the crash is kept as the same object: the restart resumes the state
    // machine from a checkpoint only over identical objects (host.ts), and a replayed copy is equal.
    const before = this.durable;
    this.durable = entries.map((e, i) => {
      const old = before[i];
      return old !== undefined && sameEntry(old, e) ? old : e;
    });
    this.pendingHardState = undefined;
    this.makeDurable(hardState);
  }

  /** A crash between writes: whatever was not fsynced is lost. */
  crash(): void {
    this.pendingHardState = undefined;
  }

  /** What a restarted node reads back. The hard state's commit is capped at the durable log. */
  read(): DurableState {
    const hs = this.durableHardState;
    const commit = Math.min(hs.commit, this.durable.length);
    return { hardState: commit === hs.commit ? hs : { ...hs, commit }, entries: this.durable.slice() };
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
    if (this.durable.length > keep) this.durable.length = keep;
    this.durableHardState = EMPTY_HARD_STATE;
    this.pendingHardState = undefined;
    // What it had promised is gone with it: the restart check compares against the lost disk.
    this.promised = EMPTY_HARD_STATE;
  }

  /** The log as written (durable; there are no pending entries). */
  get log(): readonly Entry[] {
    return this.durable;
  }
}

function appendEntries(log: Entry[], entries: readonly Entry[]): void {
  const first = entries[0];
  if (first === undefined) return;
  if (first.index > log.length + 1) {
    throw new Error(`invariant: entries from index ${first.index} leave a gap after ${log.length}`);
  }
  if (first.index - 1 !== log.length) log.length = first.index - 1; // a rewrite; setting length is slow
  for (const e of entries) log.push(e);
}
