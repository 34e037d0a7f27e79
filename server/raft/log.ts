// The in-memory Raft log. Entries move through three stages:
//   unstable: appended, not yet handed out in a Ready;
//   handed:   in the outstanding Ready, being persisted by the driver;
//   stable:   persisted (the driver called advance() after the Ready that carried them).
// Only stable entries may be promised to others: a promise about an entry a crash can still lose
// lets a majority count it as committed and then forget it. No compaction yet: entries[i] has
// index i + 1 (snapshots would add an offset here).
import { invariant } from './invariant.js';
import type { Entry } from './types.js';

export class RaftLog {
  private readonly entries: Entry[] = [];
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

  constructor(initial: readonly Entry[] = [], committed = 0, applied = 0) {
    // Messages are built only on failure (`if`, not eager template strings): these run per entry.
    for (let i = 0; i < initial.length; i++) {
      const e = initial[i] as Entry;
      if (e.index !== i + 1)
        invariant(false, `restored log is not contiguous at position ${i} (index ${e.index})`);
      const prev = initial[i - 1];
      if (prev !== undefined && prev.term > e.term)
        invariant(false, `restored log terms decrease at index ${e.index}`);
      this.entries.push(e);
    }
    // A torn write may keep a hard state whose commit covers entries that did not reach the disk.
    // Committing is cluster knowledge, not ours alone: forgetting part of it is safe.
    const commit = Math.min(committed, this.lastIndex());
    invariant(applied <= commit, `restored applied ${applied} beyond commit ${commit}`);
    this.committed = commit;
    this.applied = applied;
    this.applyingUpTo = applied;
    this.stableIndex = this.lastIndex();
    this.unstableFrom = this.lastIndex() + 1;
    this.handedUpTo = this.stableIndex;
  }

  lastIndex(): number {
    return this.entries.length;
  }

  lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? 0;
  }

  /** Term at `index`, 0 for index 0, undefined beyond the log. */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    return this.entries[index - 1]?.term;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - 1];
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
    this.entries.length = index - 1;
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
    while (i > 0 && (this.term(i) ?? 0) > term) i--;
    return i;
  }

  /** Entries from `lo` on, at most `countMax` of them and `bytesMax` bytes (at least one entry). */
  slice(lo: number, countMax: number, bytesMax: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i <= this.entries.length && out.length < countMax; i++) {
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
    const out = this.entries.slice(this.unstableFrom - 1);
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
    const out = this.entries.slice(this.applyingUpTo, this.committed);
    this.applyingUpTo = this.committed;
    return out;
  }

  acceptApplied(): void {
    if (this.applyingUpTo > this.committed)
      invariant(false, `applied ${this.applyingUpTo} beyond commit ${this.committed}`);
    this.applied = this.applyingUpTo;
  }
}
