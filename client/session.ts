// The client session (Raft thesis 6.3): a random 53-bit client id, a sequence number per write,
// and the acknowledged sequence: the highest s such that every write up to s is finished (answered
// or given up), so the server may forget those results. A retry reuses its write's sequence, so
// the state machine applies it at most once and answers a duplicate with the original result.
import { randomInt } from 'node:crypto';

export const CLIENT_ID_MAX = 2 ** 53 - 1;

export class Session {
  readonly clientId: number;
  private lastSequence = 0;
  private readonly unfinished = new Set<number>();

  constructor(clientId?: number) {
    // randomInt takes at most 48 bits per call; compose two calls into 53 bits, never 0 (0 = no session).
    this.clientId = clientId ?? randomInt(1, 2 ** 5) * 2 ** 48 + randomInt(0, 2 ** 48 - 1);
    if (!Number.isSafeInteger(this.clientId) || this.clientId < 1)
      throw new Error(`bad clientId ${this.clientId}`);
  }

  begin(): number {
    const sequence = ++this.lastSequence;
    this.unfinished.add(sequence);
    return sequence;
  }

  finish(sequence: number): void {
    this.unfinished.delete(sequence);
  }

  /** Every sequence at or below this one is finished. */
  get ackedSequence(): number {
    let lowest = this.lastSequence + 1;
    for (const s of this.unfinished) if (s < lowest) lowest = s;
    return lowest - 1;
  }
}
