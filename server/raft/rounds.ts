// Heartbeat rounds. Every heartbeat broadcast is a numbered round whose number travels in the
// heartbeat context and comes back in the response. A follower acknowledging round r proves it
// accepted this leader after round r was sent, which is what ReadIndex (all reads batched into
// rounds <= r) and the lease (measured from the send tick of round r) need.

const TICKS_REMEMBERED = 64; // rounds older than this are too old to extend a lease anyway

export class RoundClock {
  current = 0;
  private readonly ids = new Float64Array(TICKS_REMEMBERED);
  private readonly ticks = new Float64Array(TICKS_REMEMBERED);

  start(now: number): number {
    this.current++;
    const slot = this.current % TICKS_REMEMBERED;
    this.ids[slot] = this.current;
    this.ticks[slot] = now;
    return this.current;
  }

  /** The tick at which `round` was sent, if it is recent enough to be remembered. */
  sentTick(round: number): number | undefined {
    const slot = round % TICKS_REMEMBERED;
    return this.ids[slot] === round ? this.ticks[slot] : undefined;
  }
}

/** 8 bytes big-endian; an empty context is round 0 (never confirms anything). No DataView: this runs per heartbeat. */
export function encodeRound(round: number): Uint8Array {
  const out = new Uint8Array(8);
  let hi = Math.floor(round / 0x1_0000_0000);
  let lo = round >>> 0;
  for (let i = 3; i >= 0; i--) {
    out[i] = hi & 0xff;
    out[i + 4] = lo & 0xff;
    hi >>>= 8;
    lo >>>= 8;
  }
  return out;
}

export function decodeRound(context: Uint8Array): number {
  if (context.length !== 8) return 0;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) {
    hi = hi * 256 + (context[i] ?? 0);
    lo = lo * 256 + (context[i + 4] ?? 0);
  }
  return hi * 0x1_0000_0000 + lo;
}
