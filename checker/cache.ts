// Lowe's memoisation table: the set of (linearized operations, model state) pairs already explored.
// Sets are bitsets kept in one flat Uint32Array pool; the table is open addressing over typed
// arrays, keyed by an incrementally maintained Zobrist hash of the bitset mixed with the state id,
// with a full equality check on a hash match. No object is allocated per entry. Every growth is
// reserved from the check's memory budget first.
import type { MemoryBudget } from './memory.js';

export class LinearizedCache {
  private readonly words: number;
  private pool: Uint32Array;
  private entryState: Int32Array;
  private entryHash: Int32Array;
  private slots: Int32Array; // 0 = empty, else entry index + 1
  private mask: number;
  private count = 0;
  private reservedBytes = 0;
  /** False when even the first tables did not fit in the budget. */
  readonly usable: boolean;

  constructor(
    operations: number,
    private readonly budget: MemoryBudget,
  ) {
    this.words = Math.max(1, Math.ceil(operations / 32));
    const initial = 1024;
    this.usable = this.reserve(initial * (this.words * 4 + 8) + initial * 2 * 4);
    this.pool = new Uint32Array(initial * this.words);
    this.entryState = new Int32Array(initial);
    this.entryHash = new Int32Array(initial);
    this.slots = new Int32Array(initial * 2);
    this.mask = initial * 2 - 1;
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.reservedBytes;
  }

  private reserve(bytes: number): boolean {
    if (!this.budget.reserve(bytes)) return false;
    this.reservedBytes += bytes;
    return true;
  }

  private release(bytes: number): void {
    this.budget.release(bytes);
    this.reservedBytes -= bytes;
  }

  /** Gives everything back to the budget (the search is over). */
  dispose(): void {
    this.release(this.reservedBytes);
  }

  /**
   * Adds (bits, state) unless present. Returns 1 when added, 0 when already there, -1 when the
   * table would grow past its byte limit (the caller gives up with `unknown`).
   */
  insertIfAbsent(bits: Uint32Array, zobrist: number, state: number): number {
    const hash = mix(zobrist, state);
    const words = this.words;
    const pool = this.pool;
    let slot = hash & this.mask;
    for (;;) {
      const found = this.slots[slot]!;
      if (found === 0) break;
      const entry = found - 1;
      if (this.entryHash[entry] === hash && this.entryState[entry] === state) {
        const base = entry * words;
        let same = true;
        for (let w = 0; w < words; w++) {
          if (pool[base + w] !== bits[w]) {
            same = false;
            break;
          }
        }
        if (same) return 0;
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.count === this.entryState.length && !this.grow()) return -1;
    const entry = this.count++;
    this.pool.set(bits.subarray(0, words), entry * words);
    this.entryState[entry] = state;
    this.entryHash[entry] = hash;
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.slots[slot] = entry + 1;
    return 1;
  }

  /**
   * Doubles the entries and the slot table. While the new arrays are filled the old ones are still
   * alive, so both are reserved; the old ones are released once replaced.
   */
  private grow(): boolean {
    const old = this.entryState.length;
    const capacity = old * 2;
    const perEntry = this.words * 4 + 8 + 2 * 4;
    if (!this.reserve(capacity * perEntry)) return false;
    const pool = new Uint32Array(capacity * this.words);
    pool.set(this.pool);
    this.pool = pool;
    const state = new Int32Array(capacity);
    state.set(this.entryState);
    this.entryState = state;
    const hash = new Int32Array(capacity);
    hash.set(this.entryHash);
    this.entryHash = hash;
    this.release(old * perEntry);
    return true;
  }

  /** Keeps the load factor at or under one half; re-inserts every entry. */
  private rehash(): void {
    const size = this.slots.length * 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = this.entryHash[entry]! & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = entry + 1;
    }
  }
}

function mix(zobrist: number, state: number): number {
  let h = zobrist ^ Math.imul(state + 1, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** Deterministic 32-bit random values, one per operation, for Zobrist hashing of bitsets. */
export function zobristKeys(count: number, seed = 0x2545f491): Int32Array {
  const keys = new Int32Array(count);
  let x = seed | 0;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    keys[i] = x;
  }
  return keys;
}
