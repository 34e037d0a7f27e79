// What the simulated clients ask for: a seeded mix of get, put, cas, append and delete over a few
// keys (few keys, so operations contend), with values unique per run (each a token ending in ",") so that every write can be
// told apart in the history (and an append that lands twice is visible in later reads).
import type { EventValue, OpName } from '../checker/history-types.js';
import type { KvOp } from '../server/kv/command.js';
import type { SimRng } from './rng.js';

export interface PlannedOp {
  readonly f: OpName;
  readonly key: string;
  /** The history's value field for the invoke. */
  readonly value: EventValue;
  readonly op: KvOp;
}

const te = new TextEncoder();

/** UTF-8 bytes of a string; keys and tokens are ASCII, copied directly (TextEncoder's call costs more). */
function utf8(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return te.encode(text);
    out[i] = c;
  }
  return out;
}

/** Cumulative weights: get 35%, append 25%, put 15%, cas 20%, delete 5%. */
const MIX: readonly [OpName, number][] = [
  ['get', 0.35],
  ['append', 0.6],
  ['put', 0.75],
  ['cas', 0.95],
  ['delete', 1],
];

export class Workload {
  private counter = 0;
  /** The last value each key was seen to have, per process view (cas needs plausible expectations). */
  private readonly lastSeen = new Map<string, string | null>();

  constructor(
    private readonly rng: SimRng,
    private readonly keys: number,
  ) {}

  /** Remembers an observed value, so later cas operations have a fair chance to match. */
  observe(key: string, value: string | null): void {
    this.lastSeen.set(key, value);
  }

  next(process: number): PlannedOp {
    const key = `k${this.rng.int(0, this.keys - 1)}`;
    const r = this.rng.next();
    let f: OpName = 'get';
    for (const [name, weight] of MIX) {
      if (r < weight) {
        f = name;
        break;
      }
    }
    const unique = `${process}.${++this.counter},`;
    const k = utf8(key);
    switch (f) {
      case 'get':
        return { f, key, value: null, op: { type: 'get', key: k } };
      case 'put':
        return { f, key, value: unique, op: { type: 'put', key: k, value: utf8(unique) } };
      case 'append': {
        const suffix = unique;
        return { f, key, value: suffix, op: { type: 'append', key: k, value: utf8(suffix) } };
      }
      case 'delete':
        return { f, key, value: null, op: { type: 'delete', key: k } };
      case 'cas': {
        const seen = this.lastSeen.get(key);
        const expected = seen === undefined || this.rng.chance(0.2) ? null : seen;
        return {
          f,
          key,
          value: { expected, new: unique },
          op: {
            type: 'cas',
            key: k,
            expected: expected === null ? null : utf8(expected),
            value: utf8(unique),
          },
        };
      }
    }
  }
}
