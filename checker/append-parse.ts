// Which appends an observed value needs. An observed value is the value of the last reset before
// the observation (a put's value, or "" after a delete or at the start) followed by the texts of
// the appends placed since, in order. When a master value (masters.ts) splits into such a start
// and append texts in exactly one way, and an append's text occurs on no other append, then every
// observation on that master whose value reaches past that append's piece needs that very append
// after its last reset. So that append cannot have been overwritten: placing it in a dead value
// (dead-value.ts), before the next reset, leaves such an observation unsatisfiable.
//
// Splits are counted by dynamic programming over the master's positions (capped at two: unique or
// not), trying each distinct append-text length at each reachable position.
import type { Master } from './masters.js';

/** Where an append's piece sits on a uniquely split master: -1 when nowhere known. */
export interface NeededPieces {
  master: Int32Array;
  /** The position in the master where the piece ends: observations at least this long need it. */
  end: Int32Array;
}

export function neededPieces(
  masters: readonly Master[],
  observedLengths: readonly number[][],
  starts: readonly string[],
  appendTexts: readonly (string | undefined)[],
): NeededPieces {
  const n = appendTexts.length;
  const needed = { master: new Int32Array(n).fill(-1), end: new Int32Array(n) };
  const owner = new Map<string, number>();
  for (let op = 0; op < n; op++) {
    const text = appendTexts[op];
    if (text === undefined || text === '') continue;
    owner.set(text, owner.has(text) ? -1 : op); // -1: more than one append wrote it
  }
  const lengths = [...new Set([...owner.keys()].map((t) => t.length))];
  const startSet = [...new Set(['', ...starts])];
  masters.forEach((master, m) => {
    const path = uniqueSplit(master.text, startSet, owner, lengths);
    if (path === undefined) return;
    const points = new Set(path.flat());
    points.add(master.text.length);
    const { ways } = path;
    // Every observation on this master must be on the split, or have no split at all (then it
    // can never be satisfied, and any pruning is sound).
    if (observedLengths[m]!.some((l) => ways[l]! !== 0 && !points.has(l))) return;
    for (const [from, end] of path) {
      const op = owner.get(master.text.slice(from, end));
      if (op === undefined || op < 0 || needed.master[op]! >= 0) continue;
      needed.master[op] = m;
      needed.end[op] = end;
    }
  });
  return needed;
}

type Split = [from: number, end: number][] & { ways: Uint8Array };

/** The pieces of the master's only split, or undefined when it has none or several. */
function uniqueSplit(
  text: string,
  starts: readonly string[],
  pieces: ReadonlyMap<string, number>,
  lengths: readonly number[],
): Split | undefined {
  const ways = new Uint8Array(text.length + 1);
  const parent = new Int32Array(text.length + 1).fill(-1);
  for (const start of starts)
    if (text.startsWith(start)) ways[start.length] = Math.min(2, ways[start.length]! + 1);
  for (let i = 0; i < text.length; i++) {
    if (ways[i] === 0) continue;
    for (const l of lengths) {
      if (i + l > text.length || !pieces.has(text.slice(i, i + l))) continue;
      ways[i + l] = Math.min(2, ways[i + l]! + ways[i]!);
      parent[i + l] = i;
    }
  }
  if (ways[text.length] !== 1) return undefined;
  const path = [] as unknown as Split;
  for (let end = text.length; parent[end]! >= 0; end = parent[end]!) path.push([parent[end]!, end]);
  path.ways = ways;
  return path;
}
