// The values a key's operations observed (reads, reported append results, cas expectations),
// grouped under "master" strings: longest first, each value joins a master it is a prefix of. In a
// linearizable append-heavy history a key has about one master per put, so the hashes of every
// prefix of the masters give, in O(total master length) rather than O(sum of all values read):
// each observed value's hashes, "is state s a prefix of value v" in O(1) (the append pruning), and
// an exact check that a state equals a value in O(appended piece), not O(value length).
import type { MemoryBudget } from './memory.js';

export const BASE_A = 0x01000193;
export const BASE_B = 0x5bd1e995;
/** Values under no master (past this many) are hashed on their own and not used to prune. */
const MASTERS_MAX = 256;

export function polyHash(text: string, base: number): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, base) + text.charCodeAt(i)) | 0;
  return h;
}

export interface Master {
  text: string;
  /** prefixA[l]: the hash of text.slice(0, l). */
  prefixA: Int32Array;
  prefixB: Int32Array;
}

export class Masters {
  readonly list: Master[] = [];
  private readonly byText = new Map<string, number>();
  readonly bytes: number;

  /** Undefined when the prefix hashes do not fit in the budget. */
  static build(texts: Iterable<string>, budget: MemoryBudget): Masters | undefined {
    const sorted = [...new Set(texts)].sort((a, b) => b.length - a.length);
    const groups: string[] = [];
    const groupOf = new Map<string, number>();
    for (const text of sorted) {
      let m = firstStartingWith(groups, text);
      if (m < 0) {
        if (groups.length === MASTERS_MAX) continue;
        m = groups.push(text) - 1;
      }
      groupOf.set(text, m);
    }
    const bytes = groups.reduce((sum, g) => sum + 8 * (g.length + 1), 0);
    if (!budget.reserve(bytes)) return undefined;
    return new Masters(groups, groupOf, bytes);
  }

  private constructor(groups: string[], groupOf: Map<string, number>, bytes: number) {
    this.bytes = bytes;
    this.byText = groupOf;
    // Every master's hashes in two shared arrays, each master a view of its part: a typed array
    // of more than 64 bytes costs 1-2 us to allocate (off the heap), and a key has up to
    // MASTERS_MAX masters.
    const all = groups.reduce((sum, g) => sum + g.length + 1, 0);
    const allA = new Int32Array(all);
    const allB = new Int32Array(all);
    let offset = 0;
    for (const text of groups) {
      const end = offset + text.length + 1;
      this.list.push(prefixHashes(text, allA.subarray(offset, end), allB.subarray(offset, end)));
      offset = end;
    }
  }

  /** The master a value is a prefix of, or -1. */
  of(text: string): number {
    return this.byText.get(text) ?? -1;
  }
}

/**
 * groups.findIndex((g) => g.startsWith(text)), with three characters compared first: a key's values
 * share their first characters, but most masters differ from a value within it (up to MASTERS_MAX
 * masters for each of a few hundred values: the plain search was most of a simulator history's
 * masters).
 */
function firstStartingWith(groups: readonly string[], text: string): number {
  const n = text.length;
  if (n === 0) return groups.length > 0 ? 0 : -1;
  const middle = n >> 1;
  const last = n > 1 ? n - 2 : 0; // the character before a value's final ',' varies most
  const cMiddle = text.charCodeAt(middle);
  const cLast = text.charCodeAt(last);
  const cFirst = text.charCodeAt(0);
  for (let m = 0; m < groups.length; m++) {
    const g = groups[m] as string;
    if (g.charCodeAt(last) !== cLast || g.charCodeAt(middle) !== cMiddle || g.charCodeAt(0) !== cFirst)
      continue;
    if (g.startsWith(text)) return m;
  }
  return -1;
}

/** Fills prefixA and prefixB (text.length + 1 zeroes each). */
function prefixHashes(text: string, prefixA: Int32Array, prefixB: Int32Array): Master {
  for (let i = 0; i < text.length; i++) {
    prefixA[i + 1] = (Math.imul(prefixA[i]!, BASE_A) + text.charCodeAt(i)) | 0;
    prefixB[i + 1] = (Math.imul(prefixB[i]!, BASE_B) + text.charCodeAt(i)) | 0;
  }
  return { text, prefixA, prefixB };
}
