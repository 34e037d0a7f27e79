// The discrete-event queue: a binary min-heap ordered by simulated time, then by insertion order,
// so events at the same instant run in the order they were scheduled (a total, seed-determined order).
// The heap is kept as three parallel arrays (time, sequence, event) so scheduling an event allocates
// nothing beyond the event itself: the simulator pushes and pops millions of them per sweep.

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

  get size(): number {
    return this.events.length;
  }

  push(time: number, event: E): void {
    const { times, seqs, events } = this;
    const seq = this.nextSeq++;
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
    const seq = this.seqs[0];
    const event = this.popEvent();
    if (event === undefined || seq === undefined) return undefined;
    return { time: this.time, seq, event };
  }
}

function before(at: number, as: number, bt: number, bs: number): boolean {
  return at < bt || (at === bt && as < bs);
}
