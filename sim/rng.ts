// The simulator's randomness: one tree of seeded generators grown from the run's seed, so a
// failing run replays exactly from the seed it printed.
// Each component (network, each node's core, each client, the nemesis) gets its own child stream,
// so adding a random draw in one place does not shift the draws of every other component.
import { createRng, type SeededRng } from '../server/raft/rng.js';

/** FNV-1a of a label, to derive a child seed from a parent draw and a name. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class SimRng {
  private readonly source: SeededRng;

  constructor(seed: number) {
    this.source = createRng(seed);
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.source.next();
  }

  /** A uniform integer in [min, max], inclusive. */
  int(min: number, max: number): number {
    return this.source.int(min, max);
  }

  chance(probability: number): boolean {
    return probability > 0 && this.source.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.source.int(0, items.length - 1)] as T;
  }

  /** An exponentially distributed number with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.source.next()) * mean;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.source.int(0, i);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /** A child generator for a named component; deterministic in this generator's state and the name. */
  fork(label: string): SimRng {
    return new SimRng((this.source.int(0, 0xffffffff) ^ hashLabel(label)) >>> 0);
  }
}
