// A small, fast, seeded PRNG (sfc32) so elections replay exactly from a seed (rule 8).
import type { Rng } from './types.js';

export interface SeededRng extends Rng {
  /** A uniform float in [0, 1). */
  next(): number;
}

/** sfc32 seeded from one 32-bit number via splitmix32, which spreads nearby seeds apart. */
export function createRng(seed: number): SeededRng {
  if (!Number.isFinite(seed)) throw new RangeError(`rng seed must be a finite number, got ${seed}`);
  let s = Math.trunc(seed) >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32(); // discard the warm-up outputs, as the sfc32 authors advise
  return {
    next: () => next32() / 4294967296,
    int(min: number, max: number): number {
      if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
        throw new RangeError(`rng.int needs integers min <= max, got [${min}, ${max}]`);
      }
      return min + Math.floor((next32() / 4294967296) * (max - min + 1));
    },
  };
}
