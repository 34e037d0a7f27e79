// The discrete-event queue, ordered by simulated time, then by insertion order, so events at the
// same instant run in the order they were scheduled (a total, seed-determined order). The simulator
// pushes and pops millions of events per sweep, nearly all due within a few milliseconds (network
// delays, ticks, client timeouts), so the queue is a calendar: a window of BUCKETS buckets of
// BUCKET_NS each, every bucket kept sorted (latest first, so the next event pops off its end), and
// a binary heap for the few events due past the window, moved into buckets as the window slides.
// Scheduling costs a short insertion into a bucket of a handful of events, and taking the next
// event an array pop, where a heap of all events cost a sift through every level of it (the heap
// was the largest single cost of a simulated event). Since (time, sequence) is a total order, the
// order events come out in is exactly the heap's. Each bucket, like the heap, is three parallel
// arrays (time, sequence, event): scheduling an event allocates nothing beyond the event itself.
// A sequence number may be reserved now and used by a later push (pushReserved): the event then
// runs exactly where it would have run had it been pushed at reservation time. Lazy timers use it
// to keep one queue entry per timer instead of one stale entry per re-arming.

export interface Scheduled<E> {
  readonly time: number;
  readonly seq: number;
  readonly event: E;
}

/** Simulated time one bucket covers (about a millisecond). */
const BUCKET_NS = 1 << 20;
/** Buckets in the window (a power of two): about 134 ms, past every network delay and client timeout. */
const BUCKETS = 128;

/** One bucket's events, latest first (the earliest is at the end). */
class Bucket<E> {
  readonly times: number[] = [];
  readonly seqs: number[] = [];
  readonly events: E[] = [];

  insert(time: number, seq: number, event: E): void {
    const { times, seqs, events } = this;
    let i = events.length;
    for (; i > 0; i--) {
      const t = times[i - 1] as number;
      if (t > time || (t === time && (seqs[i - 1] as number) > seq)) break;
      times[i] = t;
      seqs[i] = seqs[i - 1] as number;
      events[i] = events[i - 1] as E;
    }
    times[i] = time;
    seqs[i] = seq;
    events[i] = event;
  }
}

export class EventQueue<E> {
  private readonly buckets: Bucket<E>[] = Array.from({ length: BUCKETS }, () => new Bucket<E>());
  /** The absolute number (time / BUCKET_NS) of the window's first bucket. */
  private first = 0;
  /** Events in the window's buckets. */
  private inWindow = 0;
  /** Events due at or after the window's end. */
  private readonly far = new Heap<E>();
  private nextSeq = 0;
  /** The time of the event popEvent() returned last. */
  time = 0;
  /** The sequence number of the event popEvent() returned last. */
  seq = 0;

  get size(): number {
    return this.inWindow + this.far.size;
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
    const b = Math.floor(time / BUCKET_NS);
    if (b >= this.first + BUCKETS) return this.far.insert(time, seq, event);
    // The window starts at the bucket of the event popped last: an earlier one would be lost.
    if (b < this.first) throw new RangeError(`event at ${time} is in the past (now ${this.time})`);
    this.inWindow++;
    (this.buckets[b % BUCKETS] as Bucket<E>).insert(time, seq, event);
  }

  /** Removes the earliest event and returns it (its time is then in `time`). */
  popEvent(): E | undefined {
    if (this.inWindow === 0) {
      if (this.far.size === 0) return undefined;
      this.first = Math.floor(this.far.minTime() / BUCKET_NS); // nothing due before it: jump
      this.pullDue();
    }
    let bucket = this.buckets[this.first % BUCKETS] as Bucket<E>;
    while (bucket.events.length === 0) {
      this.first++;
      this.pullDue();
      bucket = this.buckets[this.first % BUCKETS] as Bucket<E>;
    }
    this.inWindow--;
    this.time = bucket.times.pop() as number;
    this.seq = bucket.seqs.pop() as number;
    return bucket.events.pop() as E;
  }

  /** Moves the far events the window now covers into their buckets. */
  private pullDue(): void {
    const end = (this.first + BUCKETS) * BUCKET_NS;
    const far = this.far;
    while (far.size > 0 && far.minTime() < end) {
      const event = far.popEvent() as E;
      this.inWindow++;
      (this.buckets[Math.floor(far.time / BUCKET_NS) % BUCKETS] as Bucket<E>).insert(
        far.time,
        far.seq,
        event,
      );
    }
  }

  /** popEvent() with its time and sequence number (allocates; for tests and tools). */
  pop(): Scheduled<E> | undefined {
    const event = this.popEvent();
    if (event === undefined) return undefined;
    return { time: this.time, seq: this.seq, event };
  }
}

/** A binary min-heap on (time, seq), as three parallel arrays: the events beyond the window. */
class Heap<E> {
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly events: E[] = [];
  /** The time and sequence number of the event popEvent() returned last. */
  time = 0;
  seq = 0;

  get size(): number {
    return this.events.length;
  }

  /** The earliest time in the heap (only when size > 0). */
  minTime(): number {
    return this.times[0] as number;
  }

  insert(time: number, seq: number, event: E): void {
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
}

function before(at: number, as: number, bt: number, bs: number): boolean {
  return at < bt || (at === bt && as < bs);
}
