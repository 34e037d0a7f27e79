// Snapshots in the simulator: the simulated disk's snapshot contract, and whole runs that take,
// send, install and crash around snapshots while every safety check holds.
import { describe, expect, it } from 'vitest';
import type { Entry, Snapshot } from '../../server/raft/types.js';
import { defaultSimOptions } from '../config.js';
import { SimDisk } from '../disk.js';
import { SimRng } from '../rng.js';
import { runSimulation } from '../simulation.js';

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'noop',
  data: new Uint8Array(0),
});
const snap = (index: number, term: number): Snapshot => ({
  meta: { index, term },
  data: new Uint8Array([1]),
});
const logOf = (disk: SimDisk) => disk.read().entries.map((e) => e.index);

describe('the simulated disk with snapshots', () => {
  it('boots from the snapshot and the entries after it; released entries are gone', () => {
    const disk = new SimDisk();
    disk.write(
      { term: 1, vote: 'n1', commit: 6 },
      [1, 2, 3, 4, 5, 6].map((i) => entry(i, 1)),
      true,
    );
    disk.snapshotSaved(snap(4, 1));
    expect(logOf(disk)).toEqual([5, 6]); // entries at or below the snapshot are ignored at boot
    disk.releaseLog(2);
    expect(disk.entryAt(2)).toBeUndefined();
    expect(disk.termAt(4)).toBe(1);
    expect(disk.read()).toMatchObject({ snapshot: { meta: { index: 4 } }, hardState: { commit: 6 } });
    expect(logOf(disk)).toEqual([5, 6]);
  });

  it('a log released past its durable snapshot boots with nothing after the snapshot (the entries are lost)', () => {
    const disk = new SimDisk();
    disk.write(
      { term: 1, vote: 'n1', commit: 6 },
      [1, 2, 3, 4, 5, 6].map((i) => entry(i, 1)),
      true,
    );
    disk.releaseLog(5); // compact-unsnapshotted: no durable snapshot yet
    const read = disk.read();
    expect(read.snapshot).toBeUndefined();
    expect(read.entries).toEqual([]);
    expect(read.hardState.commit).toBe(0);
  });

  it('a received snapshot replaces the whole log and is the first record a torn write may keep', () => {
    const disk = new SimDisk();
    disk.write({ term: 1, vote: 'n1', commit: 2 }, [entry(1, 1), entry(2, 1), entry(3, 1)], true);
    disk.write({ term: 2, vote: '', commit: 8 }, [entry(9, 2)], true, snap(8, 2));
    expect(logOf(disk)).toEqual([9]);
    expect(disk.termAt(8)).toBe(2);
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 100; seed++) {
      const torn = new SimDisk();
      torn.write({ term: 1, vote: 'n1', commit: 2 }, [entry(1, 1), entry(2, 1)], true);
      torn.crashDuringWrite({ term: 2, vote: '', commit: 8 }, [entry(9, 2)], new SimRng(seed), snap(8, 2));
      const r = torn.read();
      outcomes.add(
        `${r.snapshot?.meta.index ?? '-'} [${r.entries.map((e) => e.index).join(',')}] ${r.hardState.commit}`,
      );
    }
    expect([...outcomes].sort()).toEqual(['- [1,2] 2', '8 [9] 8', '8 [] 8']);
  });
});

describe('runs with snapshots', () => {
  it('take, send and install snapshots, crash around them, and pass every safety check', () => {
    let taken = 0;
    let installed = 0;
    let aimed = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const run = runSimulation(
        defaultSimOptions({ seed, nodes: 3, ops: 500, trace: true, checkLinearizability: false }),
      );
      expect(run.summary.violation, `seed ${seed}`).toBeUndefined();
      const text = run.trace.text();
      taken += (text.match(/log compacted through/g) ?? []).length;
      installed += (text.match(/installed snapshot at index/g) ?? []).length;
      aimed += (text.match(/CRASH snapshot-/g) ?? []).length;
    }
    expect(taken).toBeGreaterThan(50);
    expect(installed).toBeGreaterThan(0);
    expect(aimed).toBeGreaterThan(0);
  }, 120_000);

  it('with --snapshots off, nothing is taken', () => {
    const run = runSimulation(
      defaultSimOptions({ seed: 3, nodes: 3, ops: 300, trace: true, snapshots: false }),
    );
    expect(run.summary.passed).toBe(true);
    expect(run.trace.text()).not.toMatch(/takes snapshot/);
  });
});
