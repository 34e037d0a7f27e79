// A follower's buffer for one incoming InstallSnapshot transfer. Chunks must arrive in order: a
// chunk at any other offset (lost, duplicated or reordered on the network) is not buffered, and the
// follower answers with the offset it wants next, so the leader resumes from there. At most one
// transfer is buffered (a newer one starting at offset 0 replaces it), and an image larger than
// snapshotBytesMax is refused, so a leader cannot make a follower allocate without bound.
import type { NodeId, Snapshot, SnapshotMessage } from './types.js';

export type ChunkOutcome =
  | { readonly kind: 'want'; readonly nextOffset: number } // buffered or not: ask for this offset next
  | { readonly kind: 'complete'; readonly snapshot: Snapshot; readonly startTick: number }
  | { readonly kind: 'too-large' };

interface Transfer {
  readonly from: NodeId;
  readonly term: number;
  readonly index: number;
  readonly metaTerm: number;
  readonly buffer: Uint8Array;
  received: number;
  readonly startTick: number;
}

export class SnapshotReceiver {
  private transfer: Transfer | undefined;

  constructor(private readonly snapshotBytesMax: number) {}

  /** Bytes buffered for the transfer in progress (0: none). */
  get bufferedBytes(): number {
    return this.transfer?.received ?? 0;
  }

  /** Takes one chunk at tick `now`; says what to answer. */
  receive(m: SnapshotMessage, now: number): ChunkOutcome {
    if (m.totalBytes > this.snapshotBytesMax) return { kind: 'too-large' };
    let t = this.transfer;
    if (t === undefined || !sameTransfer(t, m)) {
      // Another image (a newer snapshot, another leader): only its first chunk starts a transfer.
      if (m.offset !== 0) return { kind: 'want', nextOffset: 0 };
      t = {
        from: m.from,
        term: m.term,
        index: m.metaIndex,
        metaTerm: m.metaTerm,
        buffer: new Uint8Array(m.totalBytes),
        received: 0,
        startTick: now,
      };
      this.transfer = t;
    }
    if (m.offset !== t.received || t.received + m.data.length > t.buffer.length) {
      return { kind: 'want', nextOffset: t.received };
    }
    t.buffer.set(m.data, t.received);
    t.received += m.data.length;
    if (!m.done) return { kind: 'want', nextOffset: t.received };
    if (t.received !== t.buffer.length) return { kind: 'want', nextOffset: t.received };
    this.transfer = undefined;
    const snapshot = { meta: { index: t.index, term: t.metaTerm }, data: t.buffer };
    return { kind: 'complete', snapshot, startTick: t.startTick };
  }

  /** Forgets a partial transfer of a snapshot at or below `index` (the node moved past it). */
  discardThrough(index: number): void {
    if (this.transfer !== undefined && this.transfer.index <= index) this.transfer = undefined;
  }
}

function sameTransfer(t: Transfer, m: SnapshotMessage): boolean {
  return (
    t.from === m.from &&
    t.term === m.term &&
    t.index === m.metaIndex &&
    t.metaTerm === m.metaTerm &&
    t.buffer.length === m.totalBytes
  );
}
