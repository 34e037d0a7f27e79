// Pruning for append-heavy keys. Take a read w not yet placed (a get, or an append that reported
// its result). What w will see is the current value plus some appends, unless a reset (put,
// delete, a cas that may match) not yet placed comes before it, in which case it is that reset's
// value plus some appends. A reset can only come before w if it was called before w returned.
// So if w's value extends neither the current value nor the value of any such reset, no
// linearization continues from here and the search backs off at once, instead of discovering it
// when w's return is reached. Without this, k concurrent appends that no read has pinned yet are
// tried in all k! orders.
//
// The reads tested are the first few not yet placed in order of return (the ones the search will
// be forced to place next). "Prefix of" is an O(1) hash comparison: the distinct values read,
// longest first, are grouped under a "master" string they are a prefix of (in a linearizable
// history, about one per put), and each master keeps the hashes of all its prefixes. A hash
// mismatch proves the strings differ; a match only lets the configuration live, so a collision
// can cost time but never a wrong verdict.
import { ILLEGAL as ILLEGAL_STATE, type KvStates } from './kv-states.js';
import type { Master } from './masters.js';
import type { MemoryBudget } from './memory.js';
import type { Operation } from './model.js';
import { ResetIndex } from './reset-index.js';

// A local copy: an imported binding may be a getter call under some loaders.
const ILLEGAL = -1;
if (ILLEGAL !== ILLEGAL_STATE) throw new Error('internal: state codes differ');
/** Unplaced reads tested per step, and how far the scan for them may go past placed ones. */
const READS_TESTED_MAX = 4;
const READS_SCANNED_MAX = 32;

export class AppendPrune {
  private readonly masters: Master[] = [];
  private readonly masterOf: Int32Array;
  /** Reads (operations that observed a value), in order of return. */
  private readonly reads: Int32Array;
  private readonly readLength: Int32Array;
  private readonly ret: Float64Array;
  private readonly resets: ResetIndex;
  private readonly placed: Uint8Array;
  private readonly position: Int32Array;
  private firstRead = 0;
  private reservedBytes = 0;

  /** Undefined when nothing was read that could prune (or the budget has no room for it). */
  static create(
    states: KvStates,
    operations: readonly Operation[],
    budget: MemoryBudget,
    unsafeIgnoreResets = false,
  ): AppendPrune | undefined {
    const reads: number[] = [];
    const resets: number[] = [];
    operations.forEach((_, op) => {
      if (states.observation(op) !== undefined) reads.push(op);
      if (states.resets(op) && !unsafeIgnoreResets) resets.push(op);
    });
    if (reads.length === 0) return undefined;
    const prune = new AppendPrune(states, operations, reads, resets);
    if (!prune.build(budget)) {
      prune.dispose(budget);
      return undefined;
    }
    return prune;
  }

  private constructor(
    private readonly states: KvStates,
    operations: readonly Operation[],
    reads: number[],
    resets: number[],
  ) {
    const n = operations.length;
    this.masterOf = new Int32Array(n).fill(-1);
    this.readLength = new Int32Array(n);
    // Filled by loops: TypedArray.from with a map function goes through the iterator protocol.
    this.ret = new Float64Array(n);
    const call = new Float64Array(n);
    for (let op = 0; op < n; op++) {
      this.ret[op] = operations[op]!.ret;
      call[op] = operations[op]!.call;
    }
    this.reads = Int32Array.from(reads.sort((a, b) => this.ret[a]! - this.ret[b]! || a - b));
    this.resets = new ResetIndex(operations, resets, call);
    this.placed = new Uint8Array(n);
    this.position = new Int32Array(n);
    this.reads.forEach((op, i) => (this.position[op] = i));
    for (const op of reads) this.readLength[op] = states.observation(op)!.length;
  }

  /** Reads whose value has a master (masters.ts) can prune; the others are skipped. */
  private build(budget: MemoryBudget): boolean {
    const masters = this.states.masters;
    if (masters === undefined) return false;
    this.masters.push(...masters.list);
    for (const op of this.reads) this.masterOf[op] = this.states.observation(op)!.master;
    const bytes = 40 * this.masterOf.length;
    if (!budget.reserve(bytes)) return false;
    this.reservedBytes = bytes;
    return true;
  }

  dispose(budget: MemoryBudget): void {
    budget.release(this.reservedBytes);
    this.reservedBytes = 0;
  }

  /** `after` is the state once `op` is placed: ILLEGAL when no linearization can continue from it. */
  check(after: number, op: number): number {
    const length = this.states.length[after]!;
    const a = this.states.hashA[after]!;
    const b = this.states.hashB[after]!;
    let tested = 0;
    const end = Math.min(this.reads.length, this.firstRead + READS_SCANNED_MAX);
    for (let i = this.firstRead; i < end && tested < READS_TESTED_MAX; i++) {
      const read = this.reads[i]!;
      if (this.placed[read] === 1 || read === op) continue;
      tested++;
      if (this.mayFollowReset(read, op)) continue;
      const readLength = this.readLength[read]!;
      if (readLength === -1) {
        if (length !== -1) return ILLEGAL; // it read "absent", and appends never make a key absent
        continue;
      }
      const m = this.masterOf[read]!;
      if (length === -1 || m < 0) continue;
      if (length > readLength) return ILLEGAL;
      const master = this.masters[m]!;
      if (master.prefixA[length] !== a || master.prefixB[length] !== b) return ILLEGAL;
    }
    return after;
  }

  /** Whether an unplaced reset (other than `op`) may come before `read` and explain its value. */
  private mayFollowReset(read: number, op: number): boolean {
    const ret = this.ret[read]!;
    if (this.resets.anyValueBefore(ret, op)) return true;
    const readLength = this.readLength[read]!;
    const m = this.masterOf[read]!;
    if (readLength === -1) return false; // only a delete makes a key absent
    if (m < 0) return true; // its value has no prefix hashes: assume it may
    const master = this.masters[m]!;
    // Longest first: a read usually saw a written value itself, or that value plus a few appends.
    const lengths = this.resets.lengths;
    for (let i = lengths.length - 1; i >= 0; i--) {
      const l = lengths[i]!;
      if (l > readLength) continue;
      if (this.resets.valueBefore(i, master.prefixA[l]!, master.prefixB[l]!, ret, op)) return true;
    }
    return false;
  }

  place(op: number): void {
    this.placed[op] = 1;
    this.resets.place(op);
    if (this.states.observation(op) === undefined || this.position[op] !== this.firstRead) return;
    while (this.firstRead < this.reads.length && this.placed[this.reads[this.firstRead]!] === 1)
      this.firstRead++;
  }

  unplace(op: number): void {
    this.placed[op] = 0;
    this.resets.unplace(op);
    if (this.states.observation(op) !== undefined && this.position[op]! < this.firstRead)
      this.firstRead = this.position[op]!;
  }
}
