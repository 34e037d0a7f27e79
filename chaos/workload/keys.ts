// Jepsen-style independent keys: a few keys are active at a time; each is retired after
// `opsPerKey` operations and a fresh one takes its place, so every key's history stays small
// enough to check while reads still race with writes on the same key.
import type { Random } from '../random.js';

export class KeyPool {
  private readonly active: { key: string; ops: number }[] = [];
  private readonly used: string[] = [];
  private nextKeyNumber = 0;

  constructor(
    readonly keysActive: number,
    readonly opsPerKey: number,
  ) {
    if (keysActive < 1 || opsPerKey < 1)
      throw new RangeError('KeyPool needs at least one key and one op per key');
    for (let i = 0; i < keysActive; i++) this.active.push(this.fresh());
  }

  /** A key for the next operation; counts the operation and retires the key when it is used up. */
  take(random: Random): string {
    const slot = random.int(this.active.length);
    const entry = this.active[slot] as { key: string; ops: number };
    entry.ops += 1;
    if (entry.ops >= this.opsPerKey) this.active[slot] = this.fresh();
    return entry.key;
  }

  /** Every key handed out so far, in order (the final phase reads them all). */
  allKeys(): string[] {
    return [...this.used];
  }

  private fresh(): { key: string; ops: number } {
    const key = `k${this.nextKeyNumber++}`;
    this.used.push(key);
    return { key, ops: 0 };
  }
}
