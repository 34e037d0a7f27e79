// What a leader knows about one follower (etcd's tracker.Progress). In `probe` state the leader
// sends one append at a time until it finds where the logs match; in `replicate` state it streams
// appends optimistically, with at most `inflightAppendsMax` unacknowledged ones (a limit, so a
// slow or partitioned follower cannot make the leader queue without bound). In `snapshot` state the
// follower needs entries the leader has compacted: the leader streams its snapshot in chunks, with
// at most `snapshotChunksInflightMax` unacknowledged ones, and resumes from the offset the follower
// last asked for after a heartbeat answer (a lost chunk is re-sent on that timer, never in a loop).

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A ring of the last indexes of unacknowledged appends. */
export class Inflights {
  private readonly ring: Float64Array;
  private start = 0;
  count = 0;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
  }

  full(): boolean {
    return this.count >= this.capacity;
  }

  add(lastIndex: number): void {
    this.ring[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** Frees every append whose last index is <= `index` (they are acknowledged). */
  freeTo(index: number): void {
    while (this.count > 0 && (this.ring[this.start] ?? 0) <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  /** Frees the oldest slot: used when a heartbeat answer shows the follower is alive but a whole window was lost. */
  freeFirst(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Probe state: an append is outstanding, wait for its answer (or a heartbeat answer). */
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** Highest heartbeat round this follower acknowledged (ReadIndex and lease). */
  ackedRound = 0;
  /** Send tick of that round, for the lease (-Infinity: none acknowledged under this leader). */
  ackedTick = Number.NEGATIVE_INFINITY;
  /** Commit index last sent to this follower, to tell it about a newer one promptly. */
  commitSent = 0;
  readonly inflights: Inflights;
  /** Snapshot state: index of the snapshot being sent. */
  snapshotIndex = 0;
  /** Snapshot state: next byte offset to send, and the highest offset the follower asked for. */
  snapshotOffsetNext = 0;
  snapshotOffsetAcked = 0;
  /** Snapshot state: the offset the follower asked for most recently (it may have restarted). */
  snapshotOffsetWanted = 0;
  /** Tick the transfer started (for the log line saying how long it took). */
  snapshotStartTick = 0;

  constructor(next: number, inflightAppendsMax: number) {
    this.next = next;
    this.inflights = new Inflights(inflightAppendsMax);
  }

  isPaused(): boolean {
    return this.state === 'replicate' ? this.inflights.full() : this.probeSent;
  }

  /** Starts sending the snapshot at `index` from offset 0. */
  becomeSnapshot(index: number, now: number): void {
    this.state = 'snapshot';
    this.snapshotIndex = index;
    this.snapshotOffsetNext = 0;
    this.snapshotOffsetAcked = 0;
    this.snapshotOffsetWanted = 0;
    this.snapshotStartTick = now;
    this.probeSent = false;
    this.inflights.reset();
  }

  /** The follower asked for `offset` next of the snapshot being sent. */
  snapshotWanted(offset: number): void {
    this.snapshotOffsetWanted = offset;
    if (offset > this.snapshotOffsetAcked) this.snapshotOffsetAcked = offset;
    if (this.snapshotOffsetNext < this.snapshotOffsetAcked)
      this.snapshotOffsetNext = this.snapshotOffsetAcked;
  }

  /** A heartbeat answer (a timer's worth later): resume from where the follower last asked. */
  snapshotResume(): void {
    this.snapshotOffsetNext = this.snapshotOffsetWanted;
    this.snapshotOffsetAcked = this.snapshotOffsetWanted;
    this.probeSent = false;
  }

  becomeProbe(): void {
    this.state = 'probe';
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.inflights.reset();
  }

  /** An append up to `lastIndex` was sent. */
  sentEntries(lastIndex: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else {
      this.probeSent = true;
    }
  }

  /** A success up to `index` arrived; returns false when it tells nothing new (stale or duplicate). */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.probeSent = false;
    this.match = index;
    if (this.next <= index) this.next = index + 1;
    this.inflights.freeTo(index);
    return true;
  }

  /**
   * A rejection of the append after `rejected`; `nextProbe` is where the hints say to try next.
   * Returns true when `next` moved back, so the next probe may go at once. False for a stale
   * rejection (one about an append we have moved past) and for one that moves nothing: then the
   * next probe waits for a heartbeat answer (probeSent stays set), so no exchange spins.
   */
  maybeDecrTo(rejected: number, nextProbe: number, unsafeReprobe = false): boolean {
    if (this.state === 'snapshot') return false; // a stale rejection: the snapshot decides
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.becomeProbe();
      this.next = Math.max(this.match + 1, Math.min(rejected, nextProbe));
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    const next = Math.max(this.match + 1, Math.min(rejected, nextProbe));
    if (next >= this.next && !unsafeReprobe) return false; // UNSAFE reprobe-at-match: spins
    this.next = next;
    this.probeSent = false;
    return true;
  }

  /**
   * The follower no longer holds what it acknowledged: nothing is known about its log any more.
   * Probe from `next` (the hint), one append at a time.
   */
  restartProbe(next: number): void {
    this.match = 0;
    this.becomeProbe();
    this.next = Math.max(1, next);
  }
}
