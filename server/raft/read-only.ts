// The leader's ReadIndex queue (Raft thesis §6.4). Reads wait in `queued` until a heartbeat round
// is started for them; the round records the commit index at its start. Once a majority has
// acknowledged that round (or a later one), the leader was still leader when the round began, so
// every read of the batch may be served at the recorded index.

export interface ReadBatch {
  readonly round: number;
  readonly index: number;
  readonly requestIds: number[];
}

export class ReadOnlyQueue {
  private queued: number[] = [];
  private readonly batches: ReadBatch[] = [];
  private pending = 0;

  constructor(private readonly readsPendingMax: number) {}

  /** Reads queued or waiting for confirmation. */
  size(): number {
    return this.pending;
  }

  full(): boolean {
    return this.pending >= this.readsPendingMax;
  }

  enqueue(requestId: number): void {
    this.queued.push(requestId);
    this.pending++;
  }

  hasUnbatched(): boolean {
    return this.queued.length > 0;
  }

  /** Starts a round for every read queued so far. */
  startRound(round: number, index: number): void {
    this.batches.push({ round, index, requestIds: this.queued });
    this.queued = [];
  }

  /** Pops every batch whose round is <= `round` (confirmed by a majority). */
  confirm(round: number, out: { requestId: number; index: number }[]): void {
    while (this.batches.length > 0 && (this.batches[0] as ReadBatch).round <= round) {
      const batch = this.batches.shift() as ReadBatch;
      for (const requestId of batch.requestIds) out.push({ requestId, index: batch.index });
      this.pending -= batch.requestIds.length;
    }
  }

  /** Empties the queue (leadership lost); returns the request ids to report as dropped. */
  dropAll(out: number[]): void {
    for (const batch of this.batches) out.push(...batch.requestIds);
    out.push(...this.queued);
    this.batches.length = 0;
    this.queued = [];
    this.pending = 0;
  }
}
