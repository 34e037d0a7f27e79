import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../raft/types.js';
import { openWal } from './index.js';

// A save as the Raft driver would issue it: entries starting at or before the end of the log
// (overwriting from there), and sometimes a new hard state.
interface Save {
  readonly back: number; // how many entries before the end the batch starts (0 = append)
  readonly count: number;
  readonly hardState: boolean;
}

const save: fc.Arbitrary<Save> = fc.record({
  back: fc.oneof(fc.constant(0), fc.nat(4)),
  count: fc.nat(4),
  hardState: fc.boolean(),
});

describe('WAL replay against a model', () => {
  it('reopening yields exactly the model log and the last hard state, across reopens and segment rolls', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(save, { minLength: 1, maxLength: 25 }),
        fc.nat(24),
        async (saves, reopenAt) => {
          const dir = mkdtempSync(join(tmpdir(), 'raftlab-model-'));
          try {
            const model: Entry[] = [];
            let hardState: HardState = { term: 0, vote: '', commit: 0 };
            let wal = await openWal(dir, { segmentSizeBytesMax: 150 });
            for (const [step, s] of saves.entries()) {
              const term = step + 1;
              const first = Math.max(1, model.length + 1 - s.back);
              const batch = Array.from({ length: s.count }, (_, i): Entry => {
                const index = first + i;
                return { index, term, type: 'normal', data: Buffer.from(`${index}@${term}`) };
              });
              if (batch.length > 0) model.splice(first - 1, model.length, ...batch);
              const hs = s.hardState
                ? { term, vote: `n${step % 3}`, commit: Math.min(model.length, step) }
                : undefined;
              if (hs) hardState = hs;
              await wal.save(hs, batch);
              if (step === reopenAt) {
                await wal.close();
                wal = await openWal(dir, { segmentSizeBytesMax: 150 });
              }
            }
            await wal.close();
            const reopened = await openWal(dir);
            await reopened.close();
            expect(reopened.warnings).toEqual([]);
            expect(reopened.state.hardState).toEqual(hardState);
            const show = (es: readonly Entry[]): string[] =>
              es.map((e) => `${e.index}:${e.term}:${Buffer.from(e.data).toString()}`);
            expect(show(reopened.state.entries)).toEqual(show(model));
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 20 },
    );
  });
});
