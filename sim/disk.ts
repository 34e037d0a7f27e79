// A simulated disk for one node. The driver writes a Ready's entries and hard state; with mustSync
// the write is fsynced at once (durable), without it the write sits in the page cache and a crash
// loses it. A crash in the middle of a Ready (before its fsync) may leave any prefix of the write
// on disk: a torn write. Durable state is what a restarted node reads back.
import type { Entry, HardState } from '../server/raft/types.js';
import type { SimRng } from './rng.js';

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

  /** Persists one Ready's writes. Entries replace any entries from their first index on. */
  write(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean): void {
    if (entries.length > 0 && !mustSync) throw new Error('invariant: entries written without mustSync');
    appendEntries(this.durable, entries);
    if (hardState !== undefined) {
      if (mustSync) {
        this.durableHardState = hardState;
        this.pendingHardState = undefined;
      } else {
        this.pendingHardState = hardState;
      }
    }
    if (mustSync) {
      if (this.pendingHardState !== undefined) this.durableHardState = this.pendingHardState;
      this.pendingHardState = undefined;
      this.syncs++;
    }
  }

  /** A crash while a Ready was being written: some prefix of it reached the disk, unsynced data is lost. */
  crashDuringWrite(hardState: HardState | undefined, entries: readonly Entry[], rng: SimRng): string {
    const kept = rng.int(0, entries.length);
    appendEntries(this.durable, entries.slice(0, kept));
    const keptHardState = hardState !== undefined && rng.chance(0.5);
    if (keptHardState) this.durableHardState = hardState;
    this.pendingHardState = undefined;
    return `torn write kept ${kept}/${entries.length} entries${hardState !== undefined ? `, hard state ${keptHardState ? 'kept' : 'lost'}` : ''}`;
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

  /**
   * A lost disk (the disk-loss fault, beyond Raft's model): only the first `keep` entries survive,
   * and the hard state is gone (a cut log loses the hard-state records written after the cut).
   */
  lose(keep: number): void {
    if (this.durable.length > keep) this.durable.length = keep;
    this.durableHardState = EMPTY_HARD_STATE;
    this.pendingHardState = undefined;
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
