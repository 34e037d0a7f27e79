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

import type { ErrorInfo } from '../../proto/errors.js';

export type SessionResult =
  { ok: true; found?: boolean; value?: Uint8Array; existed?: boolean } | { ok: false; error: ErrorInfo };

/** Results kept per session beyond the acknowledged ones (a client with several requests in flight). */
export const SESSION_RESULTS_MAX = 64;
/** Recently expired client ids remembered, so a late retry of a first request is refused, not re-applied. */
export const EXPIRED_CLIENTS_REMEMBERED_MAX = 4096;

interface Session {
  /** Log index of the last command of this client. */
  lastIndex: number;
  /** Every sequence <= floor has been answered and its result discarded. */
  floor: number;
  results: Map<number, SessionResult>;
}

export type SessionLookup =
  | { kind: 'new' } // never applied: apply it, then record()
  | { kind: 'duplicate'; result: SessionResult } // applied before: return the original result
  | { kind: 'expired' }; // its result was discarded (or the session expired): SESSION_EXPIRED

// The two answers without data are shared (immutable): lookup() runs for every write on every replica.
const NEW: SessionLookup = Object.freeze({ kind: 'new' });
const EXPIRED: SessionLookup = Object.freeze({ kind: 'expired' });

export class SessionTable {
  // Map iteration order is insertion order; touching a session re-inserts it, so the first entry
  // is always the one idle for the most entries.
  private readonly sessions = new Map<number, Session>();
  private readonly expiredClients = new Set<number>();

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
    for (const [clientId, s] of this.sessions) {
      copy.sessions.set(clientId, { lastIndex: s.lastIndex, floor: s.floor, results: new Map(s.results) });
    }
    for (const clientId of this.expiredClients) copy.expiredClients.add(clientId);
    return copy;
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
      session = { lastIndex: index, floor: 0, results: new Map() };
      this.makeRoom();
    } else {
      this.sessions.delete(clientId);
    }
    session.lastIndex = index;
    this.sessions.set(clientId, session);
    this.acknowledge(session, ackedSequence);
    const earlier = session.results.get(sequence);
    if (earlier !== undefined) return { kind: 'duplicate', result: earlier };
    if (sequence <= session.floor) return EXPIRED;
    return NEW;
  }

  /** Records the result of a write that lookup() called new. */
  record(clientId: number, sequence: number, result: SessionResult): void {
    const session = this.sessions.get(clientId);
    if (session === undefined)
      throw new Error(`invariant: record() for client ${clientId} without a session`);
    session.results.set(sequence, result);
    while (session.results.size > SESSION_RESULTS_MAX) {
      const oldest = Math.min(...session.results.keys());
      session.results.delete(oldest);
      session.floor = Math.max(session.floor, oldest);
    }
  }

  /** Expires sessions idle for more than sessionIdleEntriesMax entries as of `index`. */
  expireIdle(index: number): void {
    for (const [clientId, session] of this.sessions) {
      if (index - session.lastIndex <= this.sessionIdleEntriesMax) break;
      this.forget(clientId);
    }
  }

  private acknowledge(session: Session, ackedSequence: number): void {
    if (ackedSequence <= session.floor) return;
    session.floor = ackedSequence;
    for (const sequence of session.results.keys()) {
      if (sequence <= ackedSequence) session.results.delete(sequence);
    }
  }

  private makeRoom(): void {
    while (this.sessions.size >= this.sessionsMax) {
      const first = this.sessions.keys().next();
      if (first.done === true) return;
      this.forget(first.value);
    }
  }

  private forget(clientId: number): void {
    this.sessions.delete(clientId);
    this.expiredClients.add(clientId);
    if (this.expiredClients.size > EXPIRED_CLIENTS_REMEMBERED_MAX) {
      const first = this.expiredClients.keys().next();
      if (first.done !== true) this.expiredClients.delete(first.value);
    }
  }
}
