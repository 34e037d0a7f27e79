// The in-memory Raft log. Entries move through three stages:
//   unstable: appended, not yet handed out in a Ready;
//   handed:   in the outstanding Ready, being persisted by the driver;
//   stable:   persisted (the driver called advance() after the Ready that carried them).
// Only stable entries may be promised to others: a promise about an entry a crash can still lose
// lets a majority count it as committed and then forget it.
// Compaction: the log starts after a snapshot at (offset, offsetTerm); entries[i] has index
// offset + i + 1. Entries at or below the offset are gone (their effect lives in the snapshot), so
// term() answers for the offset itself and undefined below it.
import { invariant } from './invariant.js';
import type { Entry, SnapshotMeta } from './types.js';

export class RaftLog {
  private entries: Entry[] = [];
  /** Index of the last entry covered by a snapshot (0: none); the log holds offset + 1 on. */
  offset = 0;
  /** Term of the entry at offset. */
  offsetTerm = 0;
  committed = 0;
  applied = 0;
  /** Last index known durable. */
  stableIndex = 0;
  /** First index not yet handed out in a Ready. */
  private unstableFrom = 1;
  /** Last index handed out in the outstanding Ready (clipped if a conflict truncates it). */
  private handedUpTo = 0;
  /** Last committed index handed out for applying in the outstanding Ready. */
  applyingUpTo = 0;

  constructor(initial: readonly Entry[] = [], committed = 0, applied = 0, start?: SnapshotMeta) {
    this.offset = start?.index ?? 0;
    this.offsetTerm = start?.term ?? 0;
    // Messages are built only on failure (`if`, not eager template strings): these run per entry.
    for (let i = 0; i < initial.length; i++) {
      const e = initial[i] as Entry;
      if (e.index !== this.offset + i + 1)
        invariant(false, `restored log is not contiguous at position ${i} (index ${e.index})`);
      const prevTerm = i === 0 ? this.offsetTerm : (initial[i - 1] as Entry).term;
      if (prevTerm > e.term) invariant(false, `restored log terms decrease at index ${e.index}`);
      this.entries.push(e);
    }
    // A torn write may keep a hard state whose commit covers entries that did not reach the disk.
    // Committing is cluster knowledge, not ours alone: forgetting part of it is safe.
    // The snapshot's entries were committed (only committed state is ever snapshotted).
    const commit = Math.max(this.offset, Math.min(committed, this.lastIndex()));
    invariant(applied <= commit, `restored applied ${applied} beyond commit ${commit}`);
    invariant(applied >= this.offset, `restored applied ${applied} below the snapshot at ${this.offset}`);
    this.committed = commit;
    this.applied = applied;
    this.applyingUpTo = applied;
    this.stableIndex = this.lastIndex();
    this.unstableFrom = this.lastIndex() + 1;
    this.handedUpTo = this.stableIndex;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? this.offsetTerm;
  }

  /** Term at `index`: offsetTerm at the offset (0 for index 0), undefined beyond the log or compacted. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset) return undefined;
    return this.entries[index - 1 - this.offset]?.term;
  }

  /** The entry at `index`; undefined beyond the log and at or below the offset (compacted). */
  entry(index: number): Entry | undefined {
    if (index <= this.offset) return undefined;
    return this.entries[index - 1 - this.offset];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Leader append: only at the end; a leader never overwrites its own log (§5.3 Leader Append-Only). */
  appendAsLeader(entry: Entry): void {
    if (entry.index !== this.lastIndex() + 1)
      invariant(false, `leader appends index ${entry.index} after ${this.lastIndex()}`);
    this.entries.push(entry);
  }

  /**
   * Drops the entries through `throughIndex` (the shell holds a durable snapshot covering them).
   * Only applied, durable entries may go: the state machine and the disk no longer need them.
   */
  compact(throughIndex: number): void {
    if (throughIndex <= this.offset) return;
    invariant(
      throughIndex <= this.applied && throughIndex <= this.stableIndex,
      () => `compact(${throughIndex}) past applied ${this.applied} or durable ${this.stableIndex}`,
    );
    this.offsetTerm = this.term(throughIndex) as number;
    this.entries = this.entries.slice(throughIndex - this.offset);
    this.offset = throughIndex;
  }

  /**
   * Installs a snapshot the log does not match at its index (Raft §7): the whole log is discarded
   * and restarts after the snapshot, which is committed. It is handed out in the next Ready (as
   * its entries would be) and the state machine is applied up to it when that Ready is advanced.
   */
  restore(meta: SnapshotMeta): void {
    this.entries = [];
    this.offset = meta.index;
    this.offsetTerm = meta.term;
    this.committed = meta.index;
    this.applyingUpTo = meta.index;
    this.stableIndex = meta.index;
    this.unstableFrom = meta.index + 1;
    this.handedUpTo = meta.index;
  }

  /**
   * Follower append after a matching prev (§5.3): skips entries we already have, truncates at the
   * first conflict (never at or below commit) and appends the rest. Returns the last new index.
   */
  appendAfter(prevIndex: number, entries: readonly Entry[]): number {
    let i = 0;
    while (i < entries.length) {
      const e = entries[i] as Entry;
      const ours = this.term(e.index);
      if (ours === undefined) break;
      if (ours !== e.term) {
        invariant(
          e.index > this.committed,
          `conflict at committed index ${e.index} (commit ${this.committed})`,
        );
        this.truncateFrom(e.index);
        break;
      }
      i++;
    }
    for (; i < entries.length; i++) this.entries.push(entries[i] as Entry);
    return prevIndex + entries.length;
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - 1 - this.offset;
    if (this.unstableFrom > index) this.unstableFrom = index;
    if (this.stableIndex >= index) this.stableIndex = index - 1;
    if (this.handedUpTo >= index) this.handedUpTo = index - 1;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (etcd findConflictByTerm): every entry
   * above it has a larger term and so cannot match a leader entry of term `term`.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    while (i > this.offset && (this.term(i) ?? 0) > term) i--;
    return Math.max(i, 0);
  }

  /** Entries from `lo` on, at most `countMax` of them and `bytesMax` bytes (at least one entry). */
  slice(lo: number, countMax: number, bytesMax: number): Entry[] {
    if (lo <= this.offset) invariant(false, `slice from ${lo}, compacted through ${this.offset}`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo - this.offset; i <= this.entries.length && out.length < countMax; i++) {
      const e = this.entries[i - 1] as Entry;
      bytes += e.data.length;
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(e);
    }
    return out;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    if (index > this.lastIndex()) invariant(false, `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  hasUnstable(): boolean {
    return this.unstableFrom <= this.lastIndex();
  }

  /** Hands out the unstable entries for persisting; they become stable at acceptPersisted(). */
  takeUnstable(): Entry[] {
    const out = this.entries.slice(this.unstableFrom - 1 - this.offset);
    this.unstableFrom = this.lastIndex() + 1;
    this.handedUpTo = this.lastIndex();
    return out;
  }

  acceptPersisted(): void {
    if (this.handedUpTo > this.stableIndex) this.stableIndex = this.handedUpTo;
  }

  hasCommittedToApply(): boolean {
    return this.committed > this.applyingUpTo;
  }

  takeCommitted(): Entry[] {
    const out = this.entries.slice(this.applyingUpTo - this.offset, this.committed - this.offset);
    this.applyingUpTo = this.committed;
    return out;
  }

  acceptApplied(): void {
    if (this.applyingUpTo > this.committed)
      invariant(false, `applied ${this.applyingUpTo} beyond commit ${this.committed}`);
    this.applied = this.applyingUpTo;
  }
}
