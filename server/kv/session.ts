// Client sessions (Raft thesis §6.3): the table that makes a retried write apply at most once.
//
// Every write carries (clientId, sequence, ackedSequence). A session remembers the result of each
// sequence it applied until the client acknowledges it (ackedSequence), so a retry of the same
// sequence gets the original result instead of applying twice. Once a result is discarded, a
// request with that sequence can no longer be answered truthfully: SESSION_EXPIRED (indeterminate).
//
// The table is bounded (sessionsMax) and expiry is a pure function of the log: a session idle for
// more than sessionIdleEntriesMax log entries expires, and when the table is full the session idle
// for the most entries is evicted. Every replica applies the same entries, so every replica expires
// the same sessions at the same index; no wall clock is involved.

import type { ErrorInfo } from '../../shared/errors.js';
import { digestBytes, digestNumber, digestString } from './digest.js';
import type { ByteReader, ByteWriter } from './snapshot-codec.js';

export type SessionResult =
  { ok: true; found?: boolean; value?: Uint8Array; existed?: boolean } | { ok: false; error: ErrorInfo };

/** Results kept per session beyond the acknowledged ones (a client with several requests in flight). */
export const SESSION_RESULTS_MAX = 64;
/** Recently expired client ids remembered, so a late retry of a first request is refused, not re-applied. */
export const EXPIRED_CLIENTS_REMEMBERED_MAX = 4096;

interface Session {
  readonly clientId: number;
  /** Log index of the last command of this client. */
  lastIndex: number;
  /** Every sequence <= floor has been answered and its result discarded. */
  floor: number;
  /**
   * Results kept, as parallel arrays in the order they were recorded (usually one or two entries:
   * arrays, because a Map that gains and loses a key per write keeps rebuilding its hash table).
   */
  sequences: number[];
  results: SessionResult[];
  /** Neighbours in the idle order (the table's list, least recently used first). */
  older: Session | undefined;
  newer: Session | undefined;
}

export type SessionLookup =
  | { kind: 'new' } // never applied: apply it, then record()
  | { kind: 'duplicate'; result: SessionResult } // applied before: return the original result
  | { kind: 'expired' }; // its result was discarded (or the session expired): SESSION_EXPIRED

// The two answers without data are shared (immutable): lookup() runs for every write on every replica.
const NEW: SessionLookup = Object.freeze({ kind: 'new' });
const EXPIRED: SessionLookup = Object.freeze({ kind: 'expired' });

export class SessionTable {
  private readonly sessions = new Map<number, Session>();
  // The idle order as a doubly linked list through the sessions: touching a session moves it to the
  // newest end, so the oldest end is always the one idle for the most entries. (Deleting and
  // re-inserting into a Map keeps the same order but churns its hash table on every write.)
  private oldest: Session | undefined;
  private newest: Session | undefined;
  private readonly expiredClients = new Set<number>();
  /** Sessions evicted because the table was full, and expired for idleness (this replica's life). */
  readonly counters = { evicted: 0, expired: 0 };

  constructor(
    private readonly sessionsMax: number,
    private readonly sessionIdleEntriesMax: number,
  ) {
    if (sessionsMax < 1) throw new RangeError(`sessionsMax must be >= 1, got ${sessionsMax}`);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** An independent copy (same order, so the same future expiry); results are immutable and shared. */
  clone(): SessionTable {
    const copy = new SessionTable(this.sessionsMax, this.sessionIdleEntriesMax);
    for (let s = this.oldest; s !== undefined; s = s.newer) {
      const c = newSession(s.clientId, s.lastIndex);
      c.floor = s.floor;
      c.sequences = s.sequences.slice();
      c.results = s.results.slice();
      copy.sessions.set(c.clientId, c);
      copy.append(c);
    }
    for (const clientId of this.expiredClients) copy.expiredClients.add(clientId);
    return copy;
  }

  /**
   * Writes the whole table into a snapshot: sessions in idle order (so a restored replica expires
   * and evicts the same sessions as the others), each one's floor and kept results, and the
   * recently expired clients. The counters are this replica's own and stay out.
   */
  writeTo(w: ByteWriter): void {
    w.u32(this.sessions.size);
    for (let s = this.oldest; s !== undefined; s = s.newer) {
      w.f64(s.clientId);
      w.f64(s.lastIndex);
      w.f64(s.floor);
      w.u32(s.sequences.length);
      for (let i = 0; i < s.sequences.length; i++) {
        w.f64(s.sequences[i] as number);
        w.result(s.results[i] as SessionResult);
      }
    }
    w.u32(this.expiredClients.size);
    for (const clientId of this.expiredClients) w.f64(clientId);
  }

  /** A table read back from writeTo()'s bytes. */
  static readFrom(r: ByteReader, sessionsMax: number, sessionIdleEntriesMax: number): SessionTable {
    const table = new SessionTable(sessionsMax, sessionIdleEntriesMax);
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      const session = newSession(r.f64(), r.f64());
      session.floor = r.f64();
      const results = r.u32();
      for (let j = 0; j < results; j++) {
        session.sequences.push(r.f64());
        session.results.push(r.result());
      }
      table.sessions.set(session.clientId, session);
      table.append(session);
    }
    const expired = r.u32();
    for (let i = 0; i < expired; i++) table.expiredClients.add(r.f64());
    return table;
  }

  /** Looks up a write before applying it, and applies its acknowledgement (discarding acked results). */
  lookup(index: number, clientId: number, sequence: number, ackedSequence: number): SessionLookup {
    let session = this.sessions.get(clientId);
    if (session === undefined) {
      // A session is created implicitly by a write with nothing unanswered before it
      // (sequence = ackedSequence + 1). Anything else without a session, or a client whose session
      // expired recently, may be a retry whose result is gone: refuse it as expired rather than
      // risk applying it twice. (Without an explicit registration command a retry that arrives after
      // its session expired AND was forgotten cannot be told apart; docs/kv.md says so.)
      if (this.expiredClients.has(clientId) || sequence !== ackedSequence + 1) return EXPIRED;
      session = newSession(clientId, index);
      this.makeRoom();
      this.sessions.set(clientId, session);
    } else {
      this.unlink(session);
    }
    session.lastIndex = index;
    this.append(session);
    this.acknowledge(session, ackedSequence);
    const at = session.sequences.indexOf(sequence);
    if (at >= 0) return { kind: 'duplicate', result: session.results[at] as SessionResult };
    if (sequence <= session.floor) return EXPIRED;
    return NEW;
  }

  /** Records the result of a write that lookup() called new. */
  record(clientId: number, sequence: number, result: SessionResult): void {
    const session = this.sessions.get(clientId);
    if (session === undefined)
      throw new Error(`invariant: record() for client ${clientId} without a session`);
    session.sequences.push(sequence);
    session.results.push(result);
    while (session.sequences.length > SESSION_RESULTS_MAX) {
      const oldest = Math.min(...session.sequences);
      const at = session.sequences.indexOf(oldest);
      session.sequences.splice(at, 1);
      session.results.splice(at, 1);
      session.floor = Math.max(session.floor, oldest);
    }
  }

  /** Expires sessions idle for more than sessionIdleEntriesMax entries as of `index`. */
  expireIdle(index: number): void {
    while (this.oldest !== undefined && index - this.oldest.lastIndex > this.sessionIdleEntriesMax) {
      this.counters.expired++;
      this.forget(this.oldest);
    }
  }

  /** Folds the whole table into a digest: sessions in idle order, kept results, expired clients. */
  digest(h: number): number {
    for (let s = this.oldest; s !== undefined; s = s.newer) {
      h = digestNumber(digestNumber(digestNumber(h, s.clientId), s.lastIndex), s.floor);
      for (let i = 0; i < s.sequences.length; i++) {
        h = digestNumber(h, s.sequences[i] as number);
        const r = s.results[i] as SessionResult;
        if (!r.ok) h = digestString(h, r.error.code);
        else if (r.value !== undefined) h = digestBytes(h, r.value);
        else h = digestNumber(h, (r.found === true ? 1 : 0) + (r.existed === true ? 2 : 0));
      }
    }
    for (const clientId of this.expiredClients) h = digestNumber(h, clientId);
    return h;
  }

  private acknowledge(session: Session, ackedSequence: number): void {
    if (ackedSequence <= session.floor) return;
    session.floor = ackedSequence;
    const { sequences, results } = session;
    let kept = 0;
    for (let i = 0; i < sequences.length; i++) {
      const sequence = sequences[i] as number;
      if (sequence <= ackedSequence) continue;
      sequences[kept] = sequence;
      results[kept] = results[i] as SessionResult;
      kept++;
    }
    // pop() rather than setting length (a runtime call); usually one or two entries go.
    while (sequences.length > kept) {
      sequences.pop();
      results.pop();
    }
  }

  private makeRoom(): void {
    while (this.sessions.size >= this.sessionsMax && this.oldest !== undefined) {
      this.counters.evicted++;
      this.forget(this.oldest);
    }
  }

  private forget(session: Session): void {
    this.sessions.delete(session.clientId);
    this.unlink(session);
    this.expiredClients.add(session.clientId);
    if (this.expiredClients.size > EXPIRED_CLIENTS_REMEMBERED_MAX) {
      const first = this.expiredClients.keys().next();
      if (first.done !== true) this.expiredClients.delete(first.value);
    }
  }

  /** Adds a session (not in the list) at the newest end. */
  private append(session: Session): void {
    session.older = this.newest;
    session.newer = undefined;
    if (this.newest === undefined) this.oldest = session;
    else this.newest.newer = session;
    this.newest = session;
  }

  private unlink(session: Session): void {
    if (session.older === undefined) this.oldest = session.newer;
    else session.older.newer = session.newer;
    if (session.newer === undefined) this.newest = session.older;
    else session.newer.older = session.older;
    session.older = undefined;
    session.newer = undefined;
  }
}

function newSession(clientId: number, lastIndex: number): Session {
  return {
    clientId,
    lastIndex,
    floor: 0,
    sequences: [],
    results: [],
    older: undefined,
    newer: undefined,
  };
}
