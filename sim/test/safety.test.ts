// Scripted checks of the safety checker: each rule is driven by hand through the exact schedule
// that should (or should not) trip it, so a rule that random search reaches rarely is still pinned.
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../server/raft/types.js';
import { SimDisk } from '../disk.js';
import { SafetyChecker } from '../safety.js';

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array([index]),
});

function world(nodes = 3): { disks: Map<string, SimDisk>; safety: SafetyChecker } {
  const disks = new Map<string, SimDisk>();
  for (let i = 1; i <= nodes; i++) disks.set(`n${i}`, new SimDisk());
  return { disks, safety: new SafetyChecker(disks, Math.floor(nodes / 2) + 1) };
}

/** Writes entries 1..n of the given terms to a node's disk. */
function writeLog(disk: SimDisk | undefined, terms: readonly number[]): void {
  disk?.write(
    undefined,
    terms.map((t, i) => entry(i + 1, t)),
    true,
  );
}

describe('leader completeness', () => {
  // Seed 4984 (3 nodes, before the torn-write change moved its trace): n1, a candidate of term 11
  // paused with its vote grants queued, woke after n3 (leader of term 12) had committed entry 478
  // of term 10, and became leader of term 11 without it. Correct: Raft promises an entry committed
  // in term 12 to leaders of later terms only, and a term-11 leader can no longer commit anything.
  it('does not demand an entry committed in a later term from a late leader of an older term', () => {
    const { disks, safety } = world();
    writeLog(disks.get('n2'), [1, 1]);
    writeLog(disks.get('n3'), [1, 1]);
    writeLog(disks.get('n1'), [1]);
    safety.observe('n3', 'leader', 12, 2, 0);
    safety.applied('n3', disks.get('n3')?.log[0] as Entry);
    safety.applied('n3', disks.get('n3')?.log[1] as Entry);
    safety.observe('n1', 'leader', 11, 0, 0);
    expect(safety.violation).toBeUndefined();
  });

  it('demands it from a leader of a later term (the Figure 8 bug)', () => {
    const { disks, safety } = world();
    writeLog(disks.get('n2'), [1, 1]);
    writeLog(disks.get('n3'), [1, 1]);
    writeLog(disks.get('n1'), [1]);
    safety.observe('n3', 'leader', 12, 2, 0);
    safety.applied('n3', disks.get('n3')?.log[0] as Entry);
    safety.applied('n3', disks.get('n3')?.log[1] as Entry);
    safety.observe('n1', 'leader', 13, 0, 0);
    expect(safety.violation?.property).toBe('leader completeness');
    expect(safety.violation?.detail).toBe(
      'n1 became leader of term 13 without entry 2 (term 1), committed in term 12',
    );
  });
});
