import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, HardState, SnapshotMeta } from '../raft/types.js';
import { openStorage, type NodeStorage } from './index.js';

// What a node does to its disk, as the Raft driver would: appends (overwriting only above the
// commit index), commit-index changes, snapshots of its own state at the commit index followed by a
// release of the log, snapshots installed from a leader (keeping the log after the snapshot when
// it holds the snapshot's last entry), and restarts.
type Op =
  | { kind: 'append'; back: number; count: number }
  | { kind: 'commit'; by: number }
  | { kind: 'snapshot'; tail: number }
  | { kind: 'install'; ahead: number; sameTerm: boolean }
  | { kind: 'reopen' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append'), back: fc.nat(3), count: fc.nat(5) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit'), by: fc.nat(8) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('snapshot'), tail: fc.nat(3) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('install'), ahead: fc.nat(4), sameTerm: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

const OPTIONS = { segmentSizeBytesMax: 100 }; // nearly every save starts a segment: many to release

class Model {
  start: SnapshotMeta = { index: 0, term: 0 };
  entries: Entry[] = []; // after start.index
  hardState: HardState = { term: 0, vote: '', commit: 0 };

  get last(): number {
    return this.start.index + this.entries.length;
  }

  at(index: number): Entry | undefined {
    return this.entries[index - this.start.index - 1];
  }
}

function makeEntry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: Buffer.from(`${index}@${term}`) };
}

/** Applies one op to the storage and the model alike. */
async function step(storage: NodeStorage, model: Model, o: Op, term: number): Promise<void> {
  const commit = model.hardState.commit;
  if (o.kind === 'append') {
    const first = Math.max(commit + 1, model.last + 1 - o.back);
    const batch = Array.from({ length: o.count }, (_, i) => makeEntry(first + i, term));
    if (batch.length > 0) model.entries.splice(first - model.start.index - 1, model.entries.length, ...batch);
    model.hardState = { term, vote: 'n1', commit };
    await storage.persist(model.hardState, batch);
  } else if (o.kind === 'commit') {
    model.hardState = { ...model.hardState, commit: Math.min(model.last, commit + o.by) };
    await storage.persist(model.hardState, []);
  } else if (o.kind === 'snapshot') {
    if (commit <= model.start.index) return;
    const meta = { index: commit, term: model.at(commit)!.term };
    await storage.saveSnapshot({ meta, data: Buffer.from(`state@${commit}`) });
    model.entries = model.entries.slice(commit - model.start.index);
    model.start = meta;
    await storage.releaseLog(Math.max(0, commit - o.tail));
  } else if (o.kind === 'install') {
    const index = Math.max(commit, model.start.index) + 1 + o.ahead;
    const held = model.at(index);
    const meta = { index, term: o.sameTerm && held !== undefined ? held.term : term };
    model.entries = held?.term === meta.term ? model.entries.slice(index - model.start.index) : [];
    model.start = meta;
    model.hardState = { term, vote: 'n2', commit: index };
    await storage.persist(model.hardState, [], { meta, data: Buffer.from(`state@${index}`) });
  }
}

const show = (es: readonly Entry[]): string[] =>
  es.map((e) => `${e.index}:${e.term}:${Buffer.from(e.data).toString()}`);

describe('storage with snapshots against a model', () => {
  it('boots with the newest snapshot, exactly the model log after it, and the last hard state', async () => {
    let released = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 60 }), async (ops) => {
        const dir = mkdtempSync(join(tmpdir(), 'raftlab-snapmodel-'));
        try {
          const model = new Model();
          let { storage } = await openStorage(dir, OPTIONS);
          for (const [i, o] of ops.entries()) {
            if (o.kind !== 'reopen') {
              await step(storage, model, o, i + 1);
              continue;
            }
            released += storage.stats().walSegmentsReleased;
            await storage.close();
            ({ storage } = await openStorage(dir, OPTIONS));
          }
          released += storage.stats().walSegmentsReleased;
          await storage.close();
          const { storage: reopened, boot, warnings } = await openStorage(dir);
          await reopened.close();
          expect(warnings).toEqual([]);
          expect(boot.snapshot?.meta ?? { index: 0, term: 0 }).toEqual(model.start);
          if (boot.snapshot)
            expect(Buffer.from(boot.snapshot.data).toString()).toBe(`state@${model.start.index}`);
          expect(show(boot.entries)).toEqual(show(model.entries));
          expect(boot.hardState).toEqual(model.hardState);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
    expect(released).toBeGreaterThan(20); // the runs did release segments, not just write
  });
});
