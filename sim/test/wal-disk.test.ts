// --disk wal: the server's real WAL over the simulated file system, under every fault.
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../server/raft/types.js';
import type { UnsafeVariant } from '../../server/raft/unsafe.js';
import { SimDisk } from '../disk.js';
import { defaultSimOptions, type SimOptions } from '../config.js';
import type { SafetyProperty } from '../safety.js';
import { runSimulation, runSimulationAsync, Simulation } from '../simulation.js';
import { parseSeeds, runSweep, runSweepAsync } from '../sweep.js';
import { SimRng } from '../rng.js';
import { WalStore } from '../wal-disk.js';

function walSeeds(overrides: Partial<SimOptions>): Omit<SimOptions, 'seed'> {
  const { seed: _seed, ...base } = defaultSimOptions({ disk: 'wal', ...overrides });
  return base;
}

describe('the WAL disk', () => {
  it('replays a seed exactly: the same seed twice gives a byte-identical trace and history', async () => {
    const options = defaultSimOptions({ seed: 7, nodes: 5, ops: 600, disk: 'wal', trace: true });
    const a = await runSimulationAsync(options);
    const b = await runSimulationAsync(options);
    const c = await runSimulationAsync({ ...options, seed: 8 });
    expect(a.summary.passed).toBe(true);
    expect(a.summary.disk).toBe('wal');
    expect(a.trace.text()).toBe(b.trace.text());
    expect(JSON.stringify(a.history)).toBe(JSON.stringify(b.history));
    expect(c.trace.text()).not.toBe(a.trace.text());
    expect(a.trace.text()).toContain('disk wal');
    expect(a.trace.text()).toMatch(/snapshot \d+ durable/); // the real snapshot store ran, and replays too
  }, 120_000);

  it('runs the real WAL: crashes tear its writes and restarts repair them', async () => {
    const torn: string[] = [];
    for (const seed of [1, 2, 3, 4]) {
      const run = await runSimulationAsync(defaultSimOptions({ seed, nodes: 5, disk: 'wal', trace: true }));
      expect(run.summary.passed).toBe(true);
      torn.push(
        ...run.trace
          .text()
          .split('\n')
          .filter((l) => l.includes('storage: truncated torn tail')),
      );
    }
    expect(torn.length).toBeGreaterThan(0);
  }, 180_000);

  it.each([
    [3, '1..40'],
    [5, '1..25'],
  ])(
    'passes a sweep of the correct server at %i nodes with snapshots on (seeds %s, 300 operations)',
    async (nodes, seeds) => {
      const base = walSeeds({ nodes, ops: 300 });
      expect(base.snapshots).toBe(true);
      const result = await runSweepAsync({ seeds: parseSeeds(seeds), base });
      expect(result.failures.map((f) => `${f.seed}: ${f.violation?.property}`)).toEqual([]);
    },
    300_000,
  );

  it("restarts the model disk from the WAL's replay, keeping its entry objects where equal", () => {
    const entry = (index: number, data: string): Entry => ({
      index,
      term: 1,
      type: 'normal',
      data: Buffer.from(data),
    });
    const disk = new SimDisk();
    const [a, b] = [entry(1, 'a'), entry(2, 'b')];
    disk.write({ term: 1, vote: 'n1', commit: 0 }, [a, b], true);
    disk.replace({ term: 2, vote: '', commit: 1 }, [entry(1, 'a'), entry(2, 'other')], undefined);
    expect(disk.entryAt(1)).toBe(a); // equal: the same object, so a restart resumes from a checkpoint
    expect(disk.entryAt(2)).not.toBe(b);
    expect(disk.read().hardState).toEqual({ term: 2, vote: '', commit: 1 });
    expect(disk.promised).toEqual({ term: 1, vote: 'n1', commit: 0 }); // what the WAL acknowledged stays
    // Booted from a snapshot at 1: the log continues it, and the entry at 2 is still matched by index.
    const snapshot = { meta: { index: 1, term: 1 }, data: new Uint8Array(0) };
    const c = entry(2, 'other');
    disk.replace({ term: 2, vote: '', commit: 2 }, [c], snapshot);
    expect(disk.read().snapshot).toBe(snapshot);
    expect(disk.read().entries).toHaveLength(1);
    expect(disk.entryAt(2)).not.toBe(c); // the same entry as before the restart: kept as that object
    expect(() => disk.replace({ term: 2, vote: '', commit: 2 }, [entry(3, 'gap')], snapshot)).toThrow(
      /invariant: a booted log starts at 3, its snapshot at 1/,
    );
  });

  it('is refused with disk-loss and with the model disk variants', () => {
    expect(() => new Simulation(defaultSimOptions({ disk: 'wal', faults: new Set(['disk-loss']) }))).toThrow(
      /disk-loss/,
    );
    expect(
      () => new Simulation(defaultSimOptions({ disk: 'wal', unsafe: new Set(['hard-state-no-fsync']) })),
    ).toThrow(/hard-state-no-fsync lives in the model disk/);
    expect(() => runSimulation(defaultSimOptions({ disk: 'wal', ops: 10 }))).toThrow(/runAsync/);
    // The snapshot variants live in the shell and the state machine: the WAL disk runs them too.
    const withSnapshotVariant = new Simulation(
      defaultSimOptions({ disk: 'wal', unsafe: new Set(['snapshot-without-sessions']) }),
    );
    expect(withSnapshotVariant.diskMode).toBe('wal');
  });

  it('runs its seeds with the seeded snapshot thresholds, through the real snapshot store', async () => {
    const options = defaultSimOptions({ seed: 5, nodes: 3, ops: 300, disk: 'wal', trace: true });
    const sim = new Simulation(options);
    const model = new Simulation({ ...options, disk: 'model' });
    expect(sim.snapshotSettings).toEqual(model.snapshotSettings); // the same draws as a model seed
    expect(sim.snapshotSettings.snapshotEntries).toBeGreaterThan(0);
    const run = await runSimulationAsync(options);
    expect(run.summary.passed).toBe(true);
    expect(run.trace.text()).toMatch(/snapshot \d+ durable/);
    const off = await runSimulationAsync({ ...options, snapshots: false });
    expect(off.trace.text()).not.toMatch(/snapshot \d+ durable|installed snapshot/);
  }, 60_000);

  it('saves, releases and boots from snapshots with the server code, and a crash undoes what was not synced', async () => {
    const store = new WalStore('/sim/n1', new SimRng(1), {}, { after: (_ns, done) => done() });
    await store.open();
    const entries = Array.from({ length: 200 }, (_, i): Entry => ({
      index: i + 1,
      term: 1,
      type: 'normal',
      data: Buffer.alloc(64, i),
    }));
    const calls: string[] = [];
    const failed = (error: unknown): void => void calls.push(`failed: ${String(error)}`);
    await store.save(
      { term: 1, vote: 'n1', commit: 200 },
      entries,
      undefined,
      () => calls.push('saved'),
      failed,
    );
    const snapshot = { meta: { index: 150, term: 1 }, data: new Uint8Array([1, 2, 3]) };
    await store.saveSnapshot(snapshot, () => calls.push('snapshot'), failed);
    await store.releaseLog(150, failed);
    expect(calls).toEqual(['saved', 'snapshot']);
    const files = await store.fs.session().readdir('/sim/n1/snap');
    expect(files).toEqual(['0000000000000150-0000000000000001.snap']);
    store.crash();
    const { boot } = await store.open();
    expect(boot.snapshot?.meta).toEqual({ index: 150, term: 1 });
    expect(boot.entries[0]?.index).toBe(151);
    expect(boot.entries.at(-1)?.index).toBe(200);
    expect(boot.hardState.commit).toBe(200);
  });
});

describe('--disk mixed', () => {
  it('runs a seeded quarter of the seeds on the WAL, and the others exactly as --disk model', async () => {
    const seeds = parseSeeds('1..40');
    const disks = seeds.map((seed) => new Simulation(defaultSimOptions({ seed, disk: 'mixed' })).diskMode);
    const wal = disks.filter((d) => d === 'wal').length;
    expect(wal).toBeGreaterThan(4);
    expect(wal).toBeLessThan(18);
    const modelSeed = seeds[disks.indexOf('model')] as number;
    const options = defaultSimOptions({ seed: modelSeed, nodes: 3, ops: 200, trace: true });
    const mixed = await runSimulationAsync({ ...options, disk: 'mixed' });
    const model = runSimulation(options);
    expect(mixed.summary.disk).toBe('model');
    expect(JSON.stringify(mixed.history)).toBe(JSON.stringify(model.history));
    // Both disks draw the same snapshot thresholds.
    const walSeed = seeds[disks.indexOf('wal')] as number;
    const settings = (seed: number) =>
      new Simulation(defaultSimOptions({ seed, disk: 'mixed' })).snapshotSettings.snapshotEntries;
    expect(settings(modelSeed)).toBeGreaterThan(0);
    expect(settings(walSeed)).toBeGreaterThan(0);
  }, 60_000);
});

interface UnsafeCase {
  readonly variant: UnsafeVariant;
  readonly expected: readonly SafetyProperty[];
}

// Variants of the real storage: only the WAL disk runs that code, so only it can catch them.
const UNSAFE_CASES: readonly UnsafeCase[] = [
  {
    // The snapshot store's: a snapshot's name over bytes a power cut lost, after the WAL was released.
    variant: 'snapshot-rename-before-fsync',
    expected: [
      'storage: WAL refused to start',
      'storage: WAL lost entries',
      'no regress across restarts',
      'leader completeness',
      'state machine safety',
    ],
  },
  {
    variant: 'wal-skip-dir-sync-on-roll',
    expected: [
      'no regress across restarts',
      'leader completeness',
      'committed entries durable on a majority',
    ],
  },
  {
    variant: 'ack-before-fsync',
    expected: [
      'storage: WAL refused to start',
      'storage: WAL lost entries',
      'no regress across restarts',
      'leader completeness',
    ],
  },
];

describe.each(UNSAFE_CASES)('the unsafe variant $variant', (c) => {
  it('is caught within 300 seeds on the WAL disk (3 nodes, all faults), and not on the model disk', async () => {
    const base = walSeeds({ nodes: 3, ops: 300, unsafe: new Set([c.variant]), checkLinearizability: false });
    const result = await runSweepAsync({ seeds: parseSeeds('1..300'), base, stopAtFirstFailure: true });
    const first = result.failures[0];
    expect(first, `${c.variant} was not caught in ${result.total} seeds`).toBeDefined();
    expect(c.expected).toContain(first?.violation?.property);
    // The model disk runs no WAL code: the same seeds pass with the variant on.
    const model = runSweep({ seeds: parseSeeds(`1..${first?.seed ?? 1}`), base: { ...base, disk: 'model' } });
    expect(model.failures).toEqual([]);
  }, 300_000);
});
