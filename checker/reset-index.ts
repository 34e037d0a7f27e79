// For the append pruning: which resets not yet placed could explain a read. Resets (put, delete, a
// cas that may match) are grouped by the value they write (its length and hashes); each group is
// sorted by call with a pointer to its first unplaced member. A read can follow a reset only if the
// reset was called before the read returned and its value is a prefix of what the read saw, so one
// question per distinct reset length answers it: O(distinct lengths), not O(resets).
import { BASE_A, BASE_B, polyHash } from './masters.js';
import type { Operation } from './model.js';

interface Group {
  ops: Int32Array;
  first: number;
}

/** A number from both hashes; two values sharing it share a group, which only prunes less. */
function groupKey(a: number, b: number): number {
  return (a >>> 0) * 2 ** 21 + (b >>> 11);
}

export class ResetIndex {
  private readonly groups: Group[] = [];
  /** Deletes and writes of an unknown value: they may explain any read. */
  private readonly anyValue: number;
  /** Reset value lengths, ascending, each with its groups by key. */
  readonly lengths: number[];
  private readonly byLength: Map<number, number>[];
  private readonly groupOf: Int32Array;
  private readonly position: Int32Array;
  private readonly placed: Uint8Array;
  private readonly call: Float64Array;

  constructor(operations: readonly Operation[], resets: readonly number[], call: Float64Array) {
    const n = operations.length;
    this.call = call;
    this.groupOf = new Int32Array(n).fill(-1);
    this.position = new Int32Array(n);
    this.placed = new Uint8Array(n);
    const members: number[][] = [[]];
    this.anyValue = 0;
    const byLength = new Map<number, Map<number, number>>();
    for (const op of resets) {
      const o = operations[op]!;
      const value = o.input.f === 'delete' ? null : o.input.value;
      let group = this.anyValue;
      if (value !== null) {
        const keys = byLength.get(value.length) ?? new Map<number, number>();
        byLength.set(value.length, keys);
        const key = groupKey(polyHash(value, BASE_A), polyHash(value, BASE_B));
        group = keys.get(key) ?? members.push([]) - 1;
        keys.set(key, group);
      }
      members[group]!.push(op);
    }
    for (const [g, list] of members.entries()) {
      list.sort((a, b) => call[a]! - call[b]! || a - b);
      list.forEach((op, i) => {
        this.groupOf[op] = g;
        this.position[op] = i;
      });
      this.groups.push({ ops: Int32Array.from(list), first: 0 });
    }
    this.lengths = [...byLength.keys()].sort((a, b) => a - b);
    this.byLength = this.lengths.map((l) => byLength.get(l)!);
  }

  /** Whether a reset of any value, not yet placed and not `op`, was called at or before `time`. */
  anyValueBefore(time: number, op: number): boolean {
    return this.unplacedBefore(this.anyValue, time, op);
  }

  /** The same for resets that wrote the value with these hashes and the i-th length. */
  valueBefore(lengthIndex: number, a: number, b: number, time: number, op: number): boolean {
    const group = this.byLength[lengthIndex]!.get(groupKey(a, b));
    return group !== undefined && this.unplacedBefore(group, time, op);
  }

  private unplacedBefore(g: number, time: number, op: number): boolean {
    const group = this.groups[g]!;
    for (let i = group.first; i < group.ops.length; i++) {
      const r = group.ops[i]!;
      if (this.call[r]! > time) return false;
      if (this.placed[r] === 0 && r !== op) return true;
    }
    return false;
  }

  place(op: number): void {
    const g = this.groupOf[op]!;
    if (g < 0) return;
    this.placed[op] = 1;
    const group = this.groups[g]!;
    if (this.position[op] !== group.first) return;
    while (group.first < group.ops.length && this.placed[group.ops[group.first]!] === 1) group.first++;
  }

  unplace(op: number): void {
    const g = this.groupOf[op]!;
    if (g < 0) return;
    this.placed[op] = 0;
    const group = this.groups[g]!;
    if (this.position[op]! < group.first) group.first = this.position[op]!;
  }
}
