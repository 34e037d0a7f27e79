// A small, fast, seeded PRNG (sfc32) so elections replay exactly from a seed: a
// failure the simulator finds must replay from the seed it printed.
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
  // The state lives in an Int32Array rather than in closure variables: the simulator draws a few
  // numbers per simulated packet, and typed-array slots hold 32-bit integers without boxing.
  const state = new Int32Array(4);
  state[0] = splitmix();
  state[1] = splitmix();
  state[2] = splitmix();
  state[3] = splitmix();
  const next32 = (): number => {
    const a = state[0] as number;
    const b = state[1] as number;
    const c = state[2] as number;
    const d = state[3] as number;
    const t = (((a + b) | 0) + d) | 0;
    state[3] = (d + 1) | 0;
    state[0] = b ^ (b >>> 9);
    state[1] = (c + (c << 3)) | 0;
    state[2] = (((c << 21) | (c >>> 11)) + t) | 0;
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
