import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from '../raft/types.js';
import { openWal, type Wal } from './index.js';
import { segmentName } from './segment.js';
import { SegmentIndex } from './segment-index.js';

const dirs: string[] = [];
const open: Wal[] = [];
afterEach(async () => {
  for (const wal of open.splice(0)) await wal.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-release-'));
  dirs.push(dir);
  return dir;
}

// ~100-byte entries and 1 KiB segments: about 9 entries per segment.
const SMALL = { segmentSizeBytesMax: 1024 };

async function reopen(dir: string, wal?: Wal): Promise<Wal> {
  if (wal !== undefined) {
    open.splice(open.indexOf(wal), 1);
    await wal.close();
  }
  const next = await openWal(dir, SMALL);
  open.push(next);
  return next;
}

function entries(from: number, to: number, term = 1): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    index: from + i,
    term,
    type: 'normal' as const,
    data: Buffer.from(`value-${from + i}@${term}`.padEnd(80, '.')),
  }));
}

function indexes(wal: Wal): number[] {
  return wal.state.entries.map((e) => e.index);
}

function segmentFiles(dir: string): string[] {
  return readdirSync(join(dir, 'wal')).sort();
}

async function writeOneByOne(wal: Wal, from: number, to: number, term = 1): Promise<void> {
  for (const e of entries(from, to, term)) await wal.save({ term, vote: 'n1', commit: e.index - 1 }, [e]);
}

describe('WAL release after a snapshot', () => {
  it('deletes the oldest segments whose entries are all covered, oldest first, and replays the rest', async () => {
    const dir = tempDir();
    let wal = await reopen(dir);
    await writeOneByOne(wal, 1, 100);
    const before = wal.stats;
    expect(before.segments).toBeGreaterThan(5);
    const deleted = await wal.releaseThrough(50);
    expect(deleted.length).toBeGreaterThan(2);
    expect(deleted[0]).toBe(join(dir, 'wal', segmentName(1)));
    expect(wal.stats.sizeBytes).toBeLessThan(before.sizeBytes);
    expect(wal.stats.segmentsReleased).toBe(deleted.length);
    wal = await reopen(dir, wal);
    const first = indexes(wal)[0]!;
    expect(first).toBeGreaterThan(1);
    expect(first).toBeLessThanOrEqual(51); // nothing after the released index is gone
    expect(indexes(wal)).toEqual(Array.from({ length: 101 - first }, (_, i) => first + i));
    expect(wal.state.hardState.commit).toBe(99);
    await wal.save(undefined, entries(101, 101)); // and the log goes on
  });

  it('never deletes the active segment, even when all its entries are covered', async () => {
    const dir = tempDir();
    let wal = await reopen(dir);
    await writeOneByOne(wal, 1, 30);
    await wal.releaseThrough(1000);
    expect(segmentFiles(dir)).toEqual([segmentName(wal.stats.segment)]);
    wal = await reopen(dir, wal);
    expect(wal.state.hardState).toEqual({ term: 1, vote: 'n1', commit: 29 });
  });

  it('writes the newest hard state again before deleting the segment that holds it', async () => {
    const dir = tempDir();
    let wal = await reopen(dir);
    await wal.save({ term: 7, vote: 'n3', commit: 0 }, entries(1, 5, 7));
    await wal.save(undefined, entries(6, 40, 7)); // entries only: the hard state stays in segment 1
    const deleted = await wal.releaseThrough(40);
    expect(deleted).toContain(join(dir, 'wal', segmentName(1)));
    wal = await reopen(dir, wal);
    expect(wal.state.hardState).toEqual({ term: 7, vote: 'n3', commit: 0 });
  });

  it('replays an overwrite that goes below the first entry left after a release', async () => {
    // Segment 2 holds stale uncommitted entries; a later segment overwrote from below them; the
    // release then deleted only segment 1 (segment 2 still had entries above the released index).
    const dir = tempDir();
    let wal = await reopen(dir);
    await wal.save({ term: 1, vote: '', commit: 0 }, entries(1, 10));
    await wal.save(undefined, entries(11, 30));
    await wal.save({ term: 2, vote: '', commit: 9 }, entries(9, 20, 2));
    await wal.save(undefined, entries(21, 40, 2));
    const deleted = await wal.releaseThrough(10);
    expect(deleted).toEqual([join(dir, 'wal', segmentName(1))]);
    wal = await reopen(dir, wal);
    expect(indexes(wal)).toEqual(Array.from({ length: 32 }, (_, i) => i + 9));
    expect(wal.state.entries.every((e) => e.term === 2)).toBe(true);
  });

  it('plans only a prefix of segments, stopping at the first with an entry past the index', () => {
    const index = new SegmentIndex();
    index.wrote(3, 100, 30, true);
    index.wrote(4, 100, 60, false);
    index.wrote(5, 100, 40, false);
    index.wrote(6, 100, 70, false);
    expect(index.planRelease(50, 6)).toEqual({ segments: [3], rewriteHardState: true });
    expect(index.planRelease(65, 6)).toEqual({ segments: [3, 4, 5], rewriteHardState: true });
    expect(index.planRelease(1000, 6)).toEqual({ segments: [3, 4, 5], rewriteHardState: true });
    expect(index.planRelease(20, 6)).toEqual({ segments: [], rewriteHardState: false });
    index.wrote(6, 10, 0, true); // the newest hard state now lives in the active segment
    expect(index.planRelease(65, 6)).toEqual({ segments: [3, 4, 5], rewriteHardState: false });
    expect(index.bytes).toBe(410);
  });
});

describe('WAL log start (an installed snapshot)', () => {
  it('starts the log after the snapshot: later entries continue from there, older ones are gone', async () => {
    const dir = tempDir();
    let wal = await reopen(dir);
    await wal.save({ term: 1, vote: '', commit: 3 }, entries(1, 5));
    await wal.save({ term: 3, vote: '', commit: 100 }, entries(101, 103, 3), { index: 100, term: 3 });
    expect(wal.lastIndex).toBe(103);
    wal = await reopen(dir, wal);
    expect(indexes(wal)).toEqual([101, 102, 103]);
    expect(wal.state.logStart).toEqual({ index: 100, term: 3 });
  });

  it('keeps the entries after the snapshot when the log holds its last entry (same index and term)', async () => {
    const dir = tempDir();
    let wal = await reopen(dir);
    await wal.save(undefined, entries(1, 8, 2));
    await wal.save(undefined, [], { index: 5, term: 2 });
    wal = await reopen(dir, wal);
    expect(indexes(wal)).toEqual([6, 7, 8]);
  });

  it('drops the whole log when its entry at the snapshot index has another term', async () => {
    const dir = tempDir();
    let wal = await reopen(dir);
    await wal.save(undefined, entries(1, 8, 2));
    await wal.save(undefined, [], { index: 5, term: 3 });
    await wal.save(undefined, entries(6, 6, 3));
    wal = await reopen(dir, wal);
    expect(wal.state.entries.map((e) => `${e.index}@${e.term}`)).toEqual(['6@3']);
  });

  it('asserts entries after a log start continue it', async () => {
    const wal = await reopen(tempDir());
    expect(() => wal.save(undefined, entries(12, 12), { index: 10, term: 1 })).toThrow(
      /after a log start at 10/,
    );
  });
});
