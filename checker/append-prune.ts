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
import { ILLEGAL, polyHash, type KvStates } from './kv-states.js';
import type { MemoryBudget } from './memory.js';
import type { Operation } from './model.js';

const BASE_A = 0x01000193;
const BASE_B = 0x5bd1e995;
/** Masters kept: reads of values under no master are simply not used to prune. */
const MASTERS_MAX = 64;
/** Unplaced reads tested per step, and how far the scan for them may go past placed ones. */
const READS_TESTED_MAX = 4;
const READS_SCANNED_MAX = 32;
/** Resets looked at per read; past this the read is assumed resettable (no pruning). */
const RESETS_SCANNED_MAX = 32;
/** A reset whose value is unknown or absent (delete): any later value may extend it. */
const ANY_VALUE = -2;

interface Master {
  prefixA: Int32Array;
  prefixB: Int32Array;
}

export class AppendPrune {
  private readonly masters: Master[] = [];
  private readonly masterOf: Int32Array;
  /** Reads (operations that observed a value), in order of return. */
  private readonly reads: Int32Array;
  private readonly readLength: Int32Array;
  private readonly ret: Float64Array;
  /** Resets in order of call. */
  private readonly resets: Int32Array;
  private readonly call: Float64Array;
  private readonly isReset: Uint8Array;
  private readonly resetLength: Int32Array;
  private readonly resetA: Int32Array;
  private readonly resetB: Int32Array;
  private readonly placed: Uint8Array;
  private readonly position: Int32Array;
  private firstRead = 0;
  private firstReset = 0;
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
    this.ret = Float64Array.from(operations, (o) => o.ret);
    this.call = Float64Array.from(operations, (o) => o.call);
    this.reads = Int32Array.from(reads.sort((a, b) => this.ret[a]! - this.ret[b]! || a - b));
    this.resets = Int32Array.from(resets.sort((a, b) => this.call[a]! - this.call[b]! || a - b));
    this.isReset = new Uint8Array(n);
    this.placed = new Uint8Array(n);
    this.position = new Int32Array(n);
    this.reads.forEach((op, i) => (this.position[op] = i));
    this.resets.forEach((op, i) => {
      this.position[op] = i;
      this.isReset[op] = 1;
    });
    for (const op of reads) this.readLength[op] = states.observation(op)!.length;
    this.resetLength = new Int32Array(n).fill(ANY_VALUE);
    this.resetA = new Int32Array(n);
    this.resetB = new Int32Array(n);
    for (const op of resets) {
      const o = operations[op]!;
      if (o.input.f === 'delete' || o.input.value === null) continue;
      this.resetLength[op] = o.input.value.length;
      this.resetA[op] = polyHash(o.input.value, BASE_A);
      this.resetB[op] = polyHash(o.input.value, BASE_B);
    }
  }

  private build(budget: MemoryBudget): boolean {
    const byText = new Map<string, number[]>();
    for (const op of this.reads) {
      const text = this.states.observation(op)!.text;
      if (text === null) continue;
      const list = byText.get(text);
      if (list === undefined) byText.set(text, [op]);
      else list.push(op);
    }
    const texts = [...byText.keys()].sort((a, b) => b.length - a.length);
    const groups: string[] = [];
    for (const text of texts) {
      let m = groups.findIndex((g) => g.startsWith(text));
      if (m < 0) {
        if (groups.length === MASTERS_MAX) continue;
        m = groups.push(text) - 1;
      }
      for (const op of byText.get(text)!) this.masterOf[op] = m;
    }
    const bytes = groups.reduce((sum, g) => sum + 8 * (g.length + 1), 0) + 40 * this.masterOf.length;
    if (!budget.reserve(bytes)) return false;
    this.reservedBytes = bytes;
    for (const text of groups) this.masters.push(master(text));
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
    const end = Math.min(this.resets.length, this.firstReset + RESETS_SCANNED_MAX);
    for (let i = this.firstReset; i < end; i++) {
      const r = this.resets[i]!;
      // Called after the read returned: it comes after the read in every linearization.
      if (this.call[r]! > this.ret[read]!) return false;
      if (this.placed[r] === 1 || r === op) continue;
      if (this.readExtends(read, r)) return true;
    }
    return end < this.resets.length;
  }

  /** Whether the read's value may extend the reset's (false only when it surely does not). */
  private readExtends(read: number, reset: number): boolean {
    const resetLength = this.resetLength[reset]!;
    if (resetLength === ANY_VALUE) return true;
    const readLength = this.readLength[read]!;
    if (readLength === -1 || resetLength > readLength) return false;
    const m = this.masterOf[read]!;
    if (m < 0) return true;
    const master = this.masters[m]!;
    return (
      master.prefixA[resetLength] === this.resetA[reset] && master.prefixB[resetLength] === this.resetB[reset]
    );
  }

  place(op: number): void {
    this.placed[op] = 1;
    const list = this.isReset[op] === 1 ? this.resets : this.reads;
    if (this.isReset[op] === 0 && this.states.observation(op) === undefined) return;
    let first = this.isReset[op] === 1 ? this.firstReset : this.firstRead;
    if (this.position[op] !== first) return;
    while (first < list.length && this.placed[list[first]!] === 1) first++;
    if (this.isReset[op] === 1) this.firstReset = first;
    else this.firstRead = first;
  }

  unplace(op: number): void {
    this.placed[op] = 0;
    if (this.isReset[op] === 1) this.firstReset = Math.min(this.firstReset, this.position[op]!);
    else if (this.states.observation(op) !== undefined)
      this.firstRead = Math.min(this.firstRead, this.position[op]!);
  }
}

function master(text: string): Master {
  const prefixA = new Int32Array(text.length + 1);
  const prefixB = new Int32Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    prefixA[i + 1] = (Math.imul(prefixA[i]!, BASE_A) + text.charCodeAt(i)) | 0;
    prefixB[i + 1] = (Math.imul(prefixB[i]!, BASE_B) + text.charCodeAt(i)) | 0;
  }
  if (prefixA[text.length] !== polyHash(text, BASE_A)) throw new Error('internal: prefix hashes disagree');
  return { prefixA, prefixB };
}
