// Dead values, for keys that mix puts with appends. A value is dead when no read still to be placed
// can see it: no unplaced operation that observed a value (a get, an append that reported its
// result) observed an extension of it. Appends keep it dead (an extension of an extension is one),
// so nothing can observe the key until a put or delete resets it: what the dead value is, and in
// which order appends built it, no longer matters. Two consequences for the search:
//
// 1. Memo: (placed set, dead value) configurations are all the same configuration, so the memo
//    table records them under one key (DEAD_KEY) instead of one per value. Without this, k
//    appends that a put will overwrite are tried in all k! orders, each a different string.
// 2. Forced move: in a dead value, an append whose text no observation contains at all (written,
//    then overwritten before anyone read it), or a put whose value no observation starts with,
//    may be placed first. Take any linearization from here: nothing observes the key between now
//    and the next reset (the value is dead), nor between that write and the reset after it (its
//    text would show); so moving it to the front changes no observation. When it fails first, the
//    whole configuration fails.
// 3. Needed appends (append-parse.ts): an append that an unplaced observation needs after its
//    last reset cannot make a dead value (the next reset would overwrite it): refused.
//
// Both need every operation's observation to be a plain value: a cas compares for equality, and a
// cas that failed with CAS_MISMATCH observed "not this value", which a shorter value might be; so
// a key with any cas does not use this (the Jepsen register histories have no appends anyway).
// "Extends" is tested on hashes (masters.ts): a mismatch proves a value is not a prefix, a match
// only keeps the value alive, so a collision can cost time but never a wrong verdict.
import { neededPieces, type NeededPieces } from './append-parse.js';
import type { KvStates } from './kv-states.js';
import type { MemoryBudget } from './memory.js';
import type { Operation } from './model.js';

/** The memo key of every dead value (state ids are >= 0). */
export const DEAD_KEY = -2;
/** What the per-operation arrays cost (flags, lengths, needed pieces, observers by master). */
const BYTES_PER_OPERATION = 24;

export class DeadValues {
  /** Per master: the observers whose value is a prefix of it, longest first. */
  private readonly byMaster: Int32Array[];
  private readonly observedLength: Int32Array;
  private readonly placed: Uint8Array;
  /**
   * 1 for an append whose text no observation contains, or a put whose value no observation
   * starts with: in a dead value either may be forced first.
   */
  readonly unobserved: Uint8Array;
  private readonly needed: NeededPieces;
  /** Unplaced observers whose value has no master: while any is left nothing counts as dead. */
  private unmastered = 0;
  private readonly hasMaster: Uint8Array;
  private reservedBytes = 0;

  /**
   * Undefined when the key has a cas, no append, no reset, no master hashes, or the budget has no
   * room.
   */
  static create(
    states: KvStates,
    operations: readonly Operation[],
    budget: MemoryBudget,
  ): DeadValues | undefined {
    if (states.masters === undefined) return undefined;
    if (operations.some((o) => o.input.f === 'cas')) return undefined;
    // Without appends no rule here applies but the memo key, and its test would cost every step.
    if (!operations.some((o) => o.input.f === 'append')) return undefined;
    if (!operations.some((o) => o.input.f === 'put' || o.input.f === 'delete')) return undefined;
    // The per-operation arrays below and in append-parse.ts (the splits' own arrays, 5 bytes per
    // master character, live only while they are computed).
    const bytes = BYTES_PER_OPERATION * operations.length;
    if (!budget.reserve(bytes)) return undefined;
    const dead = new DeadValues(states, operations);
    dead.reservedBytes = bytes;
    return dead;
  }

  private constructor(
    private readonly states: KvStates,
    operations: readonly Operation[],
  ) {
    const n = operations.length;
    const masters = states.masters!.list;
    this.placed = new Uint8Array(n);
    this.observedLength = new Int32Array(n).fill(-1);
    this.hasMaster = new Uint8Array(n);
    const members: number[][] = masters.map(() => []);
    const texts: string[] = [];
    for (let op = 0; op < n; op++) {
      const seen = states.observation(op);
      if (seen === undefined || seen.text === null) continue; // nothing, or "absent": never extended
      texts.push(seen.text);
      this.observedLength[op] = seen.length;
      if (seen.master < 0) this.unmastered++;
      else {
        this.hasMaster[op] = 1;
        members[seen.master]!.push(op);
      }
    }
    this.byMaster = members.map((list) =>
      Int32Array.from(list.sort((a, b) => this.observedLength[b]! - this.observedLength[a]!)),
    );
    // Every observed text is a prefix of its master or stands alone: searching those finds any
    // occurrence of an appended text in any observation.
    const haystacks = [...masters.map((m) => m.text), ...texts.filter((t) => states.masters!.of(t) < 0)];
    this.unobserved = Uint8Array.from(operations, (o) => {
      const text = o.input.value ?? '';
      if (text === '' || o.output.value !== undefined) return 0;
      if (o.input.f === 'append') return haystacks.some((h) => h.includes(text)) ? 0 : 1;
      if (o.input.f === 'put') return haystacks.some((h) => h.startsWith(text)) ? 0 : 1;
      return 0;
    });
    this.needed = neededPieces(
      masters,
      this.byMaster.map((list) => Array.from(list, (op) => this.observedLength[op]!)),
      operations.flatMap((o) => (o.input.f === 'put' && o.input.value !== null ? [o.input.value] : [])),
      operations.map((o) => (o.input.f === 'append' ? (o.input.value ?? '') : undefined)),
    );
  }

  /**
   * Whether an unplaced observation other than its own needs this append after its last reset
   * (append-parse.ts): then the value it makes cannot be dead, since the next reset would
   * overwrite it.
   */
  isNeeded(op: number): boolean {
    const m = this.needed.master[op]!;
    return m >= 0 && this.longestUnplaced(m, op) >= this.needed.end[op]!;
  }

  /** The length of the longest unplaced observer (other than `op`) on master m, -1 if none. */
  private longestUnplaced(m: number, op: number): number {
    const list = this.byMaster[m]!;
    for (let i = 0; i < list.length; i++) {
      const o = list[i]!;
      if (this.placed[o] === 0 && o !== op) return this.observedLength[o]!;
    }
    return -1;
  }

  dispose(budget: MemoryBudget): void {
    budget.release(this.reservedBytes);
    this.reservedBytes = 0;
  }

  /** Whether no unplaced observer other than `op` observed an extension of `state`'s value. */
  isDead(state: number, op: number): boolean {
    const states = this.states;
    const length = states.length[state]!;
    if (length === -1) return false; // absent: any appended value may follow
    if (this.unmastered > (this.isUnmastered(op) ? 1 : 0)) return false;
    const a = states.hashA[state]!;
    const b = states.hashB[state]!;
    const masters = states.masters!.list;
    for (let m = 0; m < masters.length; m++) {
      const master = masters[m]!;
      if (length >= master.prefixA.length) continue;
      if (master.prefixA[length] !== a || master.prefixB[length] !== b) continue;
      // Longest first: the first unplaced observer decides whether any is long enough.
      if (this.longestUnplaced(m, op) >= length) return false;
    }
    return true;
  }

  private isUnmastered(op: number): boolean {
    return this.observedLength[op]! >= 0 && this.hasMaster[op] === 0 && this.placed[op] === 0;
  }

  place(op: number): void {
    if (this.isUnmastered(op)) this.unmastered--;
    this.placed[op] = 1;
  }

  unplace(op: number): void {
    this.placed[op] = 0;
    if (this.isUnmastered(op)) this.unmastered++;
  }
}
