// The replicated key-value state machine: keys and values are bytes; get, put, delete, cas, append.
// apply() is deterministic: the same entries in the same order give the same state and results on
// every replica, including which client sessions exist (see session.ts).

import type { ErrorCodeName, ErrorInfo } from '../../shared/errors.js';
import { DEFINITE_BY_DEFAULT } from '../../shared/errors.js';
import type { UnsafeVariant } from '../raft/unsafe.js';
import type { KvCommand, KvOp } from './command.js';
import { decodeCommand, KvCommandError } from './command.js';
import { DIGEST_SEED, digestBytes, digestNumber, digestString } from './digest.js';
import { SessionTable } from './session.js';
import { ByteReader, ByteWriter } from './snapshot-codec.js';

export type KvResult =
  { ok: true; found?: boolean; value?: Uint8Array; existed?: boolean } | { ok: false; error: ErrorInfo };

export interface KvLimits {
  keyBytesMax: number;
  valueBytesMax: number;
  sessionsMax: number;
  sessionIdleEntriesMax: number;
}

export const DEFAULT_KV_LIMITS: Readonly<KvLimits> = {
  keyBytesMax: 1024,
  valueBytesMax: 1024 * 1024,
  sessionsMax: 10_000,
  sessionIdleEntriesMax: 1_000_000,
};

function kvError(code: ErrorCodeName, message: string): { ok: false; error: ErrorInfo } {
  return { ok: false, error: { code, message, definite: DEFINITE_BY_DEFAULT[code] } };
}

/** Keys are compared as bytes; latin1 maps each byte to one UTF-16 unit, so it is a lossless map key. */
function keyString(key: Uint8Array): string {
  // One spread call is fast for short keys; long ones (read() of an unvalidated key) go in chunks,
  // since a spread has an argument-count limit.
  // The shortest keys (the common case) go byte by byte, which avoids the spread's argument list.
  const SHORT = 16;
  if (key.length <= SHORT) {
    let short = '';
    for (let i = 0; i < key.length; i++) short += String.fromCharCode(key[i] as number);
    return short;
  }
  const CHUNK = 4096;
  if (key.length <= CHUNK) return String.fromCharCode(...key);
  let s = '';
  for (let i = 0; i < key.length; i += CHUNK) s += String.fromCharCode(...key.subarray(i, i + CHUNK));
  return s;
}

/** The key's bytes back from its latin1 map key (each UTF-16 unit is one byte). */
function latin1Bytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class KvStateMachine {
  private readonly data = new Map<string, Uint8Array>();
  private sessions: SessionTable;
  private readonly limits: KvLimits;
  private readonly dedup: boolean;
  private applied = 0;
  /** UNSAFE (local-session-expiry): idle expiry counts commands this object applied, not log indexes. */
  private readonly localExpiry: boolean;
  private appliedHere = 0;

  constructor(
    limits: Partial<KvLimits> = {},
    private readonly unsafe: ReadonlySet<UnsafeVariant> = new Set(),
  ) {
    this.limits = { ...DEFAULT_KV_LIMITS, ...limits };
    this.sessions = new SessionTable(this.limits.sessionsMax, this.limits.sessionIdleEntriesMax);
    // Unsafe variants for testing the testers: a retried write applies again; session expiry
    // follows a process-local count, so a replica resumed from a copy expires sessions elsewhere.
    this.dedup = !unsafe.has('no-session-dedup');
    this.localExpiry = unsafe.has('local-session-expiry');
  }

  /** Sessions evicted (table full) and expired (idle) by this replica, to show both paths run. */
  get sessionCounters(): { readonly evicted: number; readonly expired: number } {
    return this.sessions.counters;
  }

  /**
   * A digest of the whole state (applied index, keys and values, the session table). Replicas at
   * the same applied index must have the same digest; a difference means they diverged.
   */
  digest(): number {
    let h = digestNumber(DIGEST_SEED, this.applied);
    for (const key of [...this.data.keys()].sort())
      h = digestBytes(digestString(h, key), this.data.get(key) as Uint8Array);
    return this.sessions.digest(h);
  }

  get appliedIndex(): number {
    return this.applied;
  }

  /** Number of keys present (for status and tests). */
  get size(): number {
    return this.data.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * An independent copy in the same state: applying the same entries to both gives the same
   * results. Values are never mutated in place (put and cas store copies, append builds a new
   * array), so the copy shares them. A driver restarting from its log can resume from a copy
   * taken earlier instead of replaying every committed entry.
   */
  clone(): KvStateMachine {
    const copy = new KvStateMachine(this.limits, this.unsafe);
    for (const [key, value] of this.data) copy.data.set(key, value);
    copy.sessions = this.sessions.clone();
    copy.applied = this.applied;
    return copy;
  }

  /**
   * The whole state as bytes (keys in sorted order, so every replica at the same index writes the
   * same image): applied index, every key and value, and the client-session table with each
   * session's kept results and expiry order, so a write retried after a restore still applies once.
   */
  snapshot(): Uint8Array {
    const w = new ByteWriter();
    w.header();
    w.f64(this.applied);
    const keys = [...this.data.keys()].sort();
    w.u32(keys.length);
    for (const key of keys) {
      w.bytes(latin1Bytes(key));
      w.bytes(this.data.get(key) as Uint8Array);
    }
    // UNSAFE snapshot-without-sessions: the image leaves the session table out.
    if (this.unsafe.has('snapshot-without-sessions')) new SessionTable(1, 1).writeTo(w);
    else this.sessions.writeTo(w);
    return w.finish();
  }

  /**
   * Replaces the whole state with a snapshot's (taken at log index `appliedIndex`). Throws
   * SnapshotFormatError on bytes that are not a complete image, leaving the state untouched.
   */
  restore(data: Uint8Array, appliedIndex: number): void {
    const r = new ByteReader(data);
    r.header();
    // The image's own index is that of the last command it applied: no-op and configuration
    // entries after it (up to the snapshot's log index) leave the key-value state as it is.
    const applied = r.f64();
    if (applied > appliedIndex)
      throw new Error(`invariant: snapshot image at index ${applied} restored as index ${appliedIndex}`);
    const entries: [string, Uint8Array][] = [];
    const count = r.u32();
    for (let i = 0; i < count; i++) entries.push([keyString(r.bytes()), r.bytes()]);
    const sessions = SessionTable.readFrom(r, this.limits.sessionsMax, this.limits.sessionIdleEntriesMax);
    r.end();
    this.data.clear();
    for (const [key, value] of entries) this.data.set(key, value);
    this.sessions = sessions;
    this.applied = applied;
  }

  /** Applies the command committed at `index`; indexes must increase (gaps are entries of other types). */
  apply(index: number, bytes: Uint8Array): KvResult {
    let command;
    try {
      command = decodeCommand(bytes);
    } catch (error) {
      if (error instanceof KvCommandError) {
        this.advanceTo(index);
        return kvError('BAD_REQUEST', error.message);
      }
      throw error;
    }
    return this.applyCommand(index, command);
  }

  /**
   * apply() of a command the caller already decoded from the entry's bytes (a simulator running
   * every replica in one process decodes each entry once; the command is only read, never kept).
   */
  applyCommand(index: number, command: KvCommand): KvResult {
    this.advanceTo(index);
    const { clientId, sequence, ackedSequence, op } = command;
    if (!this.dedup || clientId === 0 || sequence === 0) return this.execute(op);
    const lookup = this.sessions.lookup(index, clientId, sequence, ackedSequence);
    if (lookup.kind === 'duplicate') return lookup.result;
    if (lookup.kind === 'expired') {
      return kvError(
        'SESSION_EXPIRED',
        `client ${clientId} sequence ${sequence}: its session result was discarded`,
      );
    }
    const result = this.execute(op);
    this.sessions.record(clientId, sequence, result);
    return result;
  }

  private advanceTo(index: number): void {
    if (!(index > this.applied))
      throw new Error(`invariant: apply(${index}) after applied index ${this.applied}`);
    this.applied = index;
    this.appliedHere++;
    this.sessions.expireIdle(this.localExpiry ? this.appliedHere : index);
  }

  /** A local read; linearizable only when the driver calls it after a ReadIndex was applied. */
  read(key: Uint8Array): KvResult {
    const value = this.data.get(keyString(key));
    return value === undefined ? { ok: true, found: false } : { ok: true, found: true, value };
  }

  /** Checks an op against the limits before it is proposed: TOO_LARGE or BAD_REQUEST. */
  validate(op: KvOp): ErrorInfo | undefined {
    if (op.key.length === 0) return kvError('BAD_REQUEST', 'empty key').error;
    if (op.key.length > this.limits.keyBytesMax) {
      return kvError(
        'TOO_LARGE',
        `key of ${op.key.length} bytes exceeds keyBytesMax ${this.limits.keyBytesMax}`,
      ).error;
    }
    // Checked in this order: value, then cas's expected (no arrays: this runs on every apply).
    if (op.type === 'get' || op.type === 'delete') return undefined;
    return (
      this.checkValueSize(op.value) ?? (op.type === 'cas' ? this.checkValueSize(op.expected) : undefined)
    );
  }

  private checkValueSize(value: Uint8Array | null): ErrorInfo | undefined {
    if (value === null || value.length <= this.limits.valueBytesMax) return undefined;
    return kvError(
      'TOO_LARGE',
      `value of ${value.length} bytes exceeds valueBytesMax ${this.limits.valueBytesMax}`,
    ).error;
  }

  private execute(op: KvOp): KvResult {
    const invalid = this.validate(op);
    if (invalid !== undefined) return { ok: false, error: invalid };
    const key = keyString(op.key);
    const current = this.data.get(key);
    switch (op.type) {
      case 'get':
        return current === undefined ? { ok: true, found: false } : { ok: true, found: true, value: current };
      case 'put':
        this.data.set(key, op.value.slice());
        return { ok: true, existed: current !== undefined };
      case 'delete':
        this.data.delete(key);
        return { ok: true, existed: current !== undefined };
      case 'cas':
        return this.cas(key, current, op.expected, op.value);
      case 'append':
        return this.append(key, current, op.value);
    }
  }

  private cas(
    key: string,
    current: Uint8Array | undefined,
    expected: Uint8Array | null,
    value: Uint8Array,
  ): KvResult {
    const matches =
      expected === null ? current === undefined : current !== undefined && bytesEqual(current, expected);
    if (!matches) return kvError('CAS_MISMATCH', 'the current value is not the expected one');
    this.data.set(key, value.slice());
    return { ok: true, existed: current !== undefined };
  }

  private append(key: string, current: Uint8Array | undefined, suffix: Uint8Array): KvResult {
    const length = (current?.length ?? 0) + suffix.length;
    if (length > this.limits.valueBytesMax) {
      return kvError(
        'TOO_LARGE',
        `append would make a value of ${length} bytes (valueBytesMax ${this.limits.valueBytesMax})`,
      );
    }
    const next = new Uint8Array(length);
    if (current !== undefined) next.set(current);
    next.set(suffix, current?.length ?? 0);
    this.data.set(key, next);
    return { ok: true, existed: current !== undefined, value: next };
  }
}
