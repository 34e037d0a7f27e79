// What the WAL knows about each of its segment files, to release old ones after a snapshot: the
// highest entry index written to it, its size, and which segment holds the newest hard state. Pure
// bookkeeping (no I/O), so the release rule is tested on its own.

interface SegmentInfo {
  /** Highest entry index written to the segment; 0 when it holds no entry. */
  maxIndex: number;
  bytes: number;
}

export interface ReleasePlan {
  /** Segments to delete, oldest first (deleting in this order never leaves a gap). */
  readonly segments: readonly number[];
  /** The newest hard state is in one of them: write it again into the active segment first. */
  readonly rewriteHardState: boolean;
}

export class SegmentIndex {
  private readonly segments = new Map<number, SegmentInfo>();
  /** Segment holding the newest hard-state record; 0 when none was ever written. */
  hardStateSegment = 0;

  /** Records that `bytes` more were written to `seq` (entries up to `maxIndex`, 0 if none). */
  wrote(seq: number, bytes: number, maxIndex: number, hardState: boolean): void {
    const info = this.segments.get(seq) ?? { maxIndex: 0, bytes: 0 };
    info.bytes += bytes;
    info.maxIndex = Math.max(info.maxIndex, maxIndex);
    this.segments.set(seq, info);
    if (hardState) this.hardStateSegment = seq;
  }

  /** Total bytes of all segment files. */
  get bytes(): number {
    let total = 0;
    for (const info of this.segments.values()) total += info.bytes;
    return total;
  }

  get count(): number {
    return this.segments.size;
  }

  get oldest(): number {
    return Math.min(...this.segments.keys());
  }

  /**
   * The oldest segments whose entries are all <= throughIndex, stopping at the first that is not
   * (only a prefix may go: replay needs the rest contiguous) and never taking the active segment.
   */
  planRelease(throughIndex: number, active: number): ReleasePlan {
    const seqs = [...this.segments.keys()].sort((a, b) => a - b);
    const segments: number[] = [];
    for (const seq of seqs) {
      if (seq >= active || this.segments.get(seq)!.maxIndex > throughIndex) break;
      segments.push(seq);
    }
    const rewriteHardState = segments.includes(this.hardStateSegment);
    return { segments, rewriteHardState };
  }

  forget(seq: number): void {
    this.segments.delete(seq);
  }
}
