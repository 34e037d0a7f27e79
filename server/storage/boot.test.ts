import { describe, expect, it } from 'vitest';
import type { Entry, Snapshot } from '../raft/types.js';
import { joinSnapshotAndLog, SnapshotMissingError, type WalState } from './index.js';

const FILES = { snapshot: '/d/snap/S.snap', walFirstSegment: '/d/wal/0000000000000004.log' };

function log(from: number, to: number, term = 1): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    index: from + i,
    term,
    type: 'normal' as const,
    data: new Uint8Array(),
  }));
}

function wal(entries: Entry[], commit = 0, logStart = { index: 0, term: 0 }): WalState {
  return { hardState: { term: 3, vote: 'n1', commit }, entries, logStart };
}

function snapshot(index: number, term = 1): Snapshot {
  return { meta: { index, term }, data: new Uint8Array() };
}

function refusal(run: () => unknown): SnapshotMissingError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotMissingError);
    return error as SnapshotMissingError;
  }
  throw new Error('expected the start to be refused');
}

const ids = (es: readonly Entry[]): number[] => es.map((e) => e.index);

describe('boot: the snapshot joined with the WAL', () => {
  it('without a snapshot, boots from a log that starts at 1', () => {
    const boot = joinSnapshotAndLog(undefined, wal(log(1, 5), 4), FILES);
    expect(ids(boot.entries)).toEqual([1, 2, 3, 4, 5]);
    expect(boot.hardState.commit).toBe(4);
  });

  it('drops the entries the snapshot covers and keeps the rest', () => {
    const boot = joinSnapshotAndLog(snapshot(40), wal(log(31, 60), 55), FILES);
    expect(ids(boot.entries)).toEqual(ids(log(41, 60)));
    expect(boot.warnings).toEqual([]);
  });

  it('boots from the snapshot alone when the WAL ends before it (crash before the log-start record)', () => {
    const boot = joinSnapshotAndLog(snapshot(40), wal(log(1, 12), 10), FILES);
    expect(boot.entries).toEqual([]);
    expect(boot.hardState.commit).toBe(40); // the snapshot holds only committed state
  });

  it('drops entries after the snapshot when the log disagrees with it at its index', () => {
    const boot = joinSnapshotAndLog(snapshot(40, 2), wal(log(1, 50, 1)), FILES);
    expect(boot.entries).toEqual([]);
    expect(boot.warnings[0]).toContain('entry 40 has term 1, the snapshot term 2');
  });

  it('refuses a log compacted past 1 with no snapshot, naming the files', () => {
    const error = refusal(() => joinSnapshotAndLog(undefined, wal(log(31, 60)), FILES));
    expect(error.code).toBe('SNAPSHOT_MISSING');
    expect(error.message).toContain('starts after entry 30 but no valid snapshot exists');
    expect(error.files).toEqual([FILES.snapshot, FILES.walFirstSegment]);
  });

  it('refuses a gap between the snapshot and the log (an older fallback snapshot after a wider release)', () => {
    const error = refusal(() => joinSnapshotAndLog(snapshot(20), wal(log(31, 60)), FILES));
    expect(error.message).toContain('starts after entry 30 but the snapshot ends at entry 20');
  });

  it('refuses a log-start record past every snapshot even with no entries after it', () => {
    refusal(() => joinSnapshotAndLog(undefined, wal([], 0, { index: 100, term: 2 }), FILES));
    refusal(() => joinSnapshotAndLog(snapshot(50), wal([], 0, { index: 100, term: 2 }), FILES));
    expect(joinSnapshotAndLog(snapshot(100, 2), wal([], 0, { index: 100, term: 2 }), FILES).entries).toEqual(
      [],
    );
  });
});
