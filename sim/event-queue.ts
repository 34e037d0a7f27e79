// The discrete-event queue: a binary min-heap ordered by simulated time, then by insertion order,
// so events at the same instant run in the order they were scheduled (a total, seed-determined order).
// The heap is kept as three parallel arrays (time, sequence, event) so scheduling an event allocates
// nothing beyond the event itself: the simulator pushes and pops millions of them per sweep.
// A sequence number may be reserved now and used by a later push (pushReserved): the event then
// runs exactly where it would have run had it been pushed at reservation time. Lazy timers use it
// to keep one queue entry per timer instead of one stale entry per re-arming.

export interface Scheduled<E> {
  readonly time: number;
  readonly seq: number;
  readonly event: E;
}

export class EventQueue<E> {
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly events: E[] = [];
  private nextSeq = 0;
  /** The time of the event popEvent() returned last. */
  time = 0;
  /** The sequence number of the event popEvent() returned last. */
  seq = 0;

  get size(): number {
    return this.events.length;
  }

  push(time: number, event: E): void {
    this.insert(time, this.nextSeq++, event);
  }

  /** Takes the next sequence number without pushing anything (see pushReserved). */
  reserve(): number {
    return this.nextSeq++;
  }

  /** Pushes with a sequence number from reserve(): ordered as if pushed when it was reserved. */
  pushReserved(time: number, seq: number, event: E): void {
    if (seq >= this.nextSeq) throw new RangeError(`sequence ${seq} was never reserved`);
    if (time < this.time || (time === this.time && seq < this.seq))
      throw new RangeError(`event at ${time} #${seq} is in the past (now ${this.time} #${this.seq})`);
    this.insert(time, seq, event);
  }

  private insert(time: number, seq: number, event: E): void {
    const { times, seqs, events } = this;
    let i = events.length;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (time > pt || (time === pt && seq > (seqs[parent] as number))) break;
      times[i] = pt;
      seqs[i] = seqs[parent] as number;
      events[i] = events[parent] as E;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    events[i] = event;
  }

  /** Removes the earliest event and returns it (its time is then in `time`). */
  popEvent(): E | undefined {
    const { times, seqs, events } = this;
    const n = events.length - 1;
    if (n < 0) return undefined;
    const top = events[0] as E;
    this.time = times[0] as number;
    this.seq = seqs[0] as number;
    const lastTime = times.pop() as number;
    const lastSeq = seqs.pop() as number;
    const lastEvent = events.pop() as E;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(times[r] as number, seqs[r] as number, times[l] as number, seqs[l] as number))
        c = r;
      const ct = times[c] as number;
      const cs = seqs[c] as number;
      if (!before(ct, cs, lastTime, lastSeq)) break;
      times[i] = ct;
      seqs[i] = cs;
      events[i] = events[c] as E;
      i = c;
    }
    times[i] = lastTime;
    seqs[i] = lastSeq;
    events[i] = lastEvent;
    return top;
  }

  /** popEvent() with its time and sequence number (allocates; for tests and tools). */
  pop(): Scheduled<E> | undefined {
    const event = this.popEvent();
    if (event === undefined) return undefined;
    return { time: this.time, seq: this.seq, event };
  }
}

function before(at: number, as: number, bt: number, bs: number): boolean {
  return at < bt || (at === bt && as < bs);
}
