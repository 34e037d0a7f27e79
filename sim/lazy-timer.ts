// A re-armable timer that leaves no stale entries in the event queue. A client arms a timeout for
// every attempt and usually gets its answer long before it fires; pushing an event per arming left
// about half the queue full of timers that fired as no-ops (1.4 per client operation). Here an
// arming whose deadline is later than an entry this timer already has in the queue pushes nothing:
// when that earlier entry pops, it re-pushes the wanted deadline. Each arming reserves its queue
// sequence number at once, so the firing runs exactly where an eagerly pushed event would have run.
import type { EventQueue } from './event-queue.js';

export class LazyTimer<E> {
  private armed = false;
  private wantTime = 0;
  private wantSeq = 0;
  private wantToken = 0;
  /** Time and sequence of this timer's entries in the queue, earliest first: [t0, s0, t1, s1, ...]. */
  private readonly queued: number[] = [];

  /** What the queue holds for this timer (one object for all its entries); its handler calls popped(). */
  private readonly event: E;

  constructor(
    private readonly queue: EventQueue<E>,
    makeEvent: (timer: LazyTimer<E>) => E,
  ) {
    this.event = makeEvent(this);
  }

  /** Fires `token` at `time` (returned by popped()), replacing any earlier arming. */
  arm(time: number, token: number): void {
    const seq = this.queue.reserve();
    this.armed = true;
    this.wantTime = time;
    this.wantSeq = seq;
    this.wantToken = token;
    if (!this.hasEntryBefore(time, seq)) this.enqueue(time, seq);
  }

  /**
   * Handles one of this timer's entries popping off the queue (queue.time/seq are its key). Returns
   * the token to fire, or undefined when the entry was for an earlier, replaced arming.
   */
  popped(): number | undefined {
    const time = this.queue.time;
    const seq = this.queue.seq;
    if (this.queued[0] !== time || this.queued[1] !== seq)
      throw new Error(`invariant: timer entry ${time} #${seq} popped out of order`);
    this.queued.splice(0, 2);
    if (!this.armed) return undefined;
    if (this.wantTime === time && this.wantSeq === seq) {
      this.armed = false;
      return this.wantToken;
    }
    // The wanted deadline is later (an earlier one would have pushed its own entry): move on to it.
    if (!this.hasEntryBefore(this.wantTime, this.wantSeq)) this.enqueue(this.wantTime, this.wantSeq);
    return undefined;
  }

  private hasEntryBefore(time: number, seq: number): boolean {
    const t = this.queued[0];
    const s = this.queued[1];
    return t !== undefined && s !== undefined && (t < time || (t === time && s < seq));
  }

  /** Only ever called with a key before every queued one, so `queued` stays sorted. */
  private enqueue(time: number, seq: number): void {
    this.queue.pushReserved(time, seq, this.event);
    this.queued.unshift(time, seq);
  }
}
