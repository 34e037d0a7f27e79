// The KV model's states as small integers, each costing O(1) memory whatever its length: a state
// made by an append is (previous state, appended operation), one made by put, cas or delete is a
// literal string. Equal strings get one id (interned by two 32-bit polynomial hashes of the
// string, with an exact comparison on a match), so the search's memo table keys on the id.
// Nothing here grows with states × operations: the transition (state, op) is recomputed from the
// hashes when the search meets it again, and interning finds the same id.
// The semantics mirror models/kv.ts (stepKv); checker/test/kv-states.test.ts holds them equal.
import type { Operation } from './model.js';
import { BASE_A, BASE_B, Masters, polyHash } from './masters.js';
import type { MemoryBudget } from './memory.js';

export const ILLEGAL = -1;
/** The budget would be exceeded by the structures needed to go on. */
export const OUT_OF_MEMORY = -4;

const NULL_HASH = 0x9e3779b9 | 0;
const NONE = -2;
const MEMO_BITS_MAX = 16;
/** Longest state text in a counterexample: appended values grow to megabytes. */
const DESCRIBED_CHARS_MAX = 1000;

const F_GET = 0;
const F_PUT = 1;
const F_DELETE = 2;
const F_APPEND = 3;
const F_CAS = 4;
const F_CODES = { get: F_GET, put: F_PUT, delete: F_DELETE, append: F_APPEND, cas: F_CAS } as const;

/** Bytes one state costs: seven Int32 columns plus two hash-table slots (load factor 1/2). */
const STATE_BYTES = 7 * 4 + 2 * 4;
/** What a JS string costs beyond its characters (header, map), counted for literals. */
const STRING_OVERHEAD_BYTES = 32;

function power(base: number, exponent: number): number {
  let p = 1;
  for (let i = 0; i < exponent; i++) p = Math.imul(p, base);
  return p;
}

/** What an operation observed (a get's value, an append's reported result, a cas's expected value). */
export interface Observation {
  text: string | null;
  a: number;
  b: number;
  length: number;
  id: number;
  /** The master the value is a prefix of (masters.ts), or -1. */
  master: number;
}

export class KvStates {
  private readonly f: Uint8Array;
  private readonly unknown: Uint8Array;
  private readonly mismatch: Uint8Array;
  private readonly written: string[];
  private readonly pieceA: Int32Array;
  private readonly pieceB: Int32Array;
  private readonly pieceLength: Int32Array;
  private readonly powA: Int32Array;
  private readonly powB: Int32Array;
  private readonly observed: (Observation | undefined)[];
  private readonly target: Int32Array;
  // State columns.
  private parent = new Int32Array(0);
  private piece = new Int32Array(0);
  /** Length of the string, -1 for absent (null). */
  length = new Int32Array(0);
  hashA = new Int32Array(0);
  hashB = new Int32Array(0);
  private verified = new Int32Array(0);
  /** A master the state's value is known to be a prefix of (-1: none known yet). */
  private inMasterOf = new Int32Array(0);
  private readonly path: number[] = [];
  /** Undefined when the budget had no room for the prefix hashes (values are then hashed alone). */
  readonly masters: Masters | undefined;
  private readonly literals: (string | null)[] = [];
  private slots = new Int32Array(0);
  private count = 0;
  private readonly memoState: Int32Array;
  private readonly memoOp: Int32Array;
  private readonly memoNext: Int32Array;
  private readonly memoShift: number;
  private reservedBytes = 0;
  readonly initial: number;
  /** Set when a structure could not grow; `next` then answers OUT_OF_MEMORY. */
  outOfMemory = false;

  constructor(
    private readonly operations: readonly Operation[],
    private readonly absentIsEmpty: boolean,
    private readonly budget: MemoryBudget,
  ) {
    const n = operations.length;
    this.f = new Uint8Array(n);
    this.unknown = new Uint8Array(n);
    this.mismatch = new Uint8Array(n);
    this.written = [];
    this.pieceA = new Int32Array(n);
    this.pieceB = new Int32Array(n);
    this.pieceLength = new Int32Array(n);
    this.powA = new Int32Array(n);
    this.powB = new Int32Array(n);
    this.observed = [];
    this.target = new Int32Array(n).fill(NONE);
    // The memo: 16 slots per operation, at least 256 and at most 65,536 (768 KiB).
    const memoBits = Math.min(MEMO_BITS_MAX, Math.max(8, Math.ceil(Math.log2(Math.max(1, n) * 16))));
    this.memoShift = 32 - memoBits;
    this.reserve(n * 40 + (1 << memoBits) * 12);
    this.memoState = new Int32Array(1 << memoBits).fill(-1);
    this.memoOp = new Int32Array(1 << memoBits);
    this.memoNext = new Int32Array(1 << memoBits);
    const seen = operations.map((o, op) => this.seenValue(o, op));
    this.masters = Masters.build(
      seen.filter((v): v is string => typeof v === 'string'),
      budget,
    );
    if (this.masters !== undefined) this.reservedBytes += this.masters.bytes;
    const texts = new Map<string | null, number>();
    seen.forEach((value, op) => this.observe(value, op, texts));
    this.grow();
    this.slots = new Int32Array(2 * this.parent.length);
    this.initial = this.literalState(this.norm(null));
  }

  get bytes(): number {
    return this.reservedBytes;
  }

  get size(): number {
    return this.count;
  }

  /** Gives everything back to the budget (the search is over). */
  dispose(): void {
    this.budget.release(this.reservedBytes);
    this.reservedBytes = 0;
  }

  norm(value: string | null | undefined): string | null {
    return value === null || value === undefined ? (this.absentIsEmpty ? '' : null) : value;
  }

  private reserve(bytes: number): boolean {
    if (!this.budget.reserve(bytes)) {
      this.outOfMemory = true;
      return false;
    }
    this.reservedBytes += bytes;
    return true;
  }

  /** Records what the operation writes; returns what it observed (undefined: nothing). */
  private seenValue(o: Operation, op: number): string | null | undefined {
    const f = F_CODES[o.input.f];
    this.f[op] = f;
    this.unknown[op] = o.output.unknown ? 1 : 0;
    this.mismatch[op] = o.output.matched === false ? 1 : 0;
    const written = o.input.value ?? '';
    this.written.push(written);
    if (f === F_APPEND) {
      this.pieceA[op] = polyHash(written, BASE_A);
      this.pieceB[op] = polyHash(written, BASE_B);
      this.pieceLength[op] = written.length;
      this.powA[op] = power(BASE_A, written.length);
      this.powB[op] = power(BASE_B, written.length);
    }
    if (f === F_CAS) return this.norm(o.input.expected);
    if (o.output.unknown) return undefined;
    if (f === F_GET) return this.norm(o.output.value);
    if (f === F_APPEND && o.output.value !== undefined) return this.norm(o.output.value);
    return undefined;
  }

  /** The observed value's hashes come from its master's prefix hashes when it has one. */
  private observe(seen: string | null | undefined, op: number, texts: Map<string | null, number>): void {
    if (seen === undefined) return;
    let id = texts.get(seen);
    if (id === undefined) texts.set(seen, (id = texts.size));
    if (seen === null) {
      this.observed[op] = { text: null, a: NULL_HASH, b: NULL_HASH, length: -1, id, master: -1 };
      return;
    }
    const m = this.masters?.of(seen) ?? -1;
    const master = m >= 0 ? this.masters!.list[m]! : undefined;
    const a = master === undefined ? polyHash(seen, BASE_A) : master.prefixA[seen.length]!;
    const b = master === undefined ? polyHash(seen, BASE_B) : master.prefixB[seen.length]!;
    this.observed[op] = { text: seen, a, b, length: seen.length, id, master: m };
  }

  /** The value an operation observed, when it observed one (for the append pruning). */
  observation(op: number): Observation | undefined {
    return this.f[op] === F_CAS ? undefined : this.observed[op];
  }

  /** 1 when the operation may set the key to something unrelated (put, delete, a cas that may match). */
  resets(op: number): boolean {
    const f = this.f[op];
    return f === F_PUT || f === F_DELETE || (f === F_CAS && this.mismatch[op] === 0);
  }

  /**
   * The state after `op` from `state`, ILLEGAL, or OUT_OF_MEMORY. A small direct-mapped memo in
   * front of the computation: its size is fixed (it forgets on collision), unlike a full
   * states × operations table, and on register histories it halves the time of a step.
   */
  next(state: number, op: number): number {
    const slot = (Math.imul(state, 0x9e3779b1) ^ Math.imul(op + 1, 0x85ebca6b)) >>> this.memoShift;
    if (this.memoState[slot] === state && this.memoOp[slot] === op) return this.memoNext[slot]!;
    const after = this.compute(state, op);
    if (after === OUT_OF_MEMORY) return after;
    this.memoState[slot] = state;
    this.memoOp[slot] = op;
    this.memoNext[slot] = after;
    return after;
  }

  private compute(state: number, op: number): number {
    switch (this.f[op]) {
      case F_GET:
        return this.unknown[op] === 1 || this.equals(state, this.observed[op]!) ? state : ILLEGAL;
      case F_PUT:
      case F_DELETE:
        return this.targetState(op);
      case F_APPEND: {
        const after = this.appendState(state, op);
        if (after < 0 || this.unknown[op] === 1) return after;
        const seen = this.observed[op];
        return seen === undefined || this.equals(after, seen) ? after : ILLEGAL;
      }
      default: {
        const matches = this.equals(state, this.observed[op]!);
        if (this.unknown[op] === 1) return matches ? this.targetState(op) : state;
        if (this.mismatch[op] === 1) return matches ? ILLEGAL : state;
        return matches ? this.targetState(op) : ILLEGAL;
      }
    }
  }

  /** The state's string (null: absent); O(its length). */
  materialize(state: number): string | null {
    if (this.length[state] === -1) return null;
    const pieces: string[] = [];
    let s = state;
    while (this.parent[s]! >= 0) {
      pieces.push(this.written[this.piece[s]!]!);
      s = this.parent[s]!;
    }
    pieces.push(this.literals[this.piece[s]!]!);
    return pieces.reverse().join('');
  }

  /**
   * The state as text for people: quoted, or `nil`; a long value shows only its last `charsMax`
   * characters after "…" (where appended values differ), built in O(charsMax), not O(length).
   */
  describe(state: number, charsMax = DESCRIBED_CHARS_MAX): string {
    if (this.length[state] === -1) return 'nil';
    if (this.length[state]! <= charsMax) return JSON.stringify(this.materialize(state));
    const pieces: string[] = [];
    let collected = 0;
    let s = state;
    while (collected < charsMax) {
      const text = this.parent[s]! >= 0 ? this.written[this.piece[s]!]! : this.literals[this.piece[s]!]!;
      pieces.push(text);
      collected += text.length;
      if (this.parent[s]! < 0) break;
      s = this.parent[s]!;
    }
    const tail = pieces.reverse().join('').slice(-charsMax);
    return `…${JSON.stringify(tail)} (${this.length[state]} characters)`;
  }

  private equals(state: number, seen: Observation): boolean {
    if (this.length[state] !== seen.length || this.hashA[state] !== seen.a || this.hashB[state] !== seen.b)
      return false;
    if (seen.length === -1 || this.verified[state] === seen.id) return true;
    // Equal hashes: almost surely equal strings, but a wrong "equal" would be a wrong verdict.
    const equal =
      seen.master >= 0 ? this.inMaster(state, seen.master) : this.materialize(state) === seen.text;
    if (equal) this.verified[state] = seen.id;
    return equal;
  }

  /**
   * Whether the state's value is a prefix of master m (with equal lengths: equal to the value read).
   * Walks up to an ancestor already known to be in m, then checks each appended piece against the
   * master's text at its offset, marking the states on the way: each piece is compared once.
   */
  private inMaster(state: number, m: number): boolean {
    const text = this.masters!.list[m]!.text;
    const path = this.path;
    path.length = 0;
    let s = state;
    while (this.inMasterOf[s] !== m) {
      if (this.parent[s]! < 0) {
        const literal = this.literals[this.piece[s]!];
        if (literal === null || literal === undefined || !text.startsWith(literal)) return false;
        this.inMasterOf[s] = m;
        break;
      }
      path.push(s);
      s = this.parent[s]!;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const t = path[i]!;
      if (!text.startsWith(this.written[this.piece[t]!]!, this.length[this.parent[t]!]!)) return false;
      this.inMasterOf[t] = m;
    }
    return true;
  }

  private targetState(op: number): number {
    const known = this.target[op]!;
    if (known !== NONE) return known;
    const f = this.f[op];
    const id = this.literalState(f === F_DELETE ? this.norm(null) : this.written[op]!);
    if (id >= 0) this.target[op] = id;
    return id;
  }

  private literalState(text: string | null): number {
    const a = text === null ? NULL_HASH : polyHash(text, BASE_A);
    const b = text === null ? NULL_HASH : polyHash(text, BASE_B);
    const length = text === null ? -1 : text.length;
    let slot = this.slotOf(a, b, length);
    for (let found = this.slots[slot]!; found !== 0; found = this.slots[slot]!) {
      const s = found - 1;
      if (this.hashA[s] === a && this.hashB[s] === b && this.length[s] === length) {
        if (this.materialize(s) === text) return s;
      }
      slot = (slot + 1) & (this.slots.length - 1);
    }
    if (!this.reserve(text === null ? 0 : text.length * 2 + STRING_OVERHEAD_BYTES)) return OUT_OF_MEMORY;
    this.literals.push(text);
    return this.add(slot, -1, this.literals.length - 1, length, a, b);
  }

  private appendState(state: number, op: number): number {
    const base = this.length[state] === -1 ? this.literalState('') : state;
    if (base < 0) return base;
    const a = (Math.imul(this.hashA[base]!, this.powA[op]!) + this.pieceA[op]!) | 0;
    const b = (Math.imul(this.hashB[base]!, this.powB[op]!) + this.pieceB[op]!) | 0;
    const length = this.length[base]! + this.pieceLength[op]!;
    let slot = this.slotOf(a, b, length);
    for (let found = this.slots[slot]!; found !== 0; found = this.slots[slot]!) {
      const s = found - 1;
      if (this.hashA[s] === a && this.hashB[s] === b && this.length[s] === length) {
        // The same previous state and the same appended text: the same string, no need to build it.
        if (this.parent[s] === base && this.written[this.piece[s]!] === this.written[op]) return s;
        if (this.materialize(s) === (this.materialize(base) ?? '') + this.written[op]) return s;
      }
      slot = (slot + 1) & (this.slots.length - 1);
    }
    return this.add(slot, base, op, length, a, b);
  }

  private slotOf(a: number, b: number, length: number): number {
    let h = a ^ Math.imul(b, 0x9e3779b1) ^ length;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h & (this.slots.length - 1);
  }

  private add(slot: number, parent: number, piece: number, length: number, a: number, b: number): number {
    if (this.count === this.parent.length && !this.grow()) return OUT_OF_MEMORY;
    const s = this.count++;
    this.parent[s] = parent;
    this.piece[s] = piece;
    this.length[s] = length;
    this.hashA[s] = a;
    this.hashB[s] = b;
    this.verified[s] = -1;
    this.inMasterOf[s] = -1;
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.slots[slot] = s + 1;
    return s;
  }

  /** Doubles the state columns and the slot table, reserving all of it first. */
  private grow(): boolean {
    const capacity = Math.max(256, this.parent.length * 2);
    if (!this.reserve((capacity - this.parent.length) * STATE_BYTES)) return false;
    const grown = (old: Int32Array): Int32Array<ArrayBuffer> => {
      const column = new Int32Array(capacity);
      column.set(old);
      return column;
    };
    this.parent = grown(this.parent);
    this.piece = grown(this.piece);
    this.length = grown(this.length);
    this.hashA = grown(this.hashA);
    this.hashB = grown(this.hashB);
    this.verified = grown(this.verified);
    this.inMasterOf = grown(this.inMasterOf);
    return true;
  }

  /** Keeps the slot table's load at or under one half (its memory is reserved with the columns). */
  private rehash(): void {
    const size = Math.max(512, this.slots.length * 2);
    this.slots = new Int32Array(size);
    for (let s = 0; s < this.count; s++) {
      let slot = this.slotOf(this.hashA[s]!, this.hashB[s]!, this.length[s]!);
      while (this.slots[slot] !== 0) slot = (slot + 1) & (size - 1);
      this.slots[slot] = s + 1;
    }
  }
}
