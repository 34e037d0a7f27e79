// What a node boots from: the newest valid snapshot joined with the WAL. The log must continue the
// snapshot with no gap (entries after snapshot.meta.index, contiguous); entries the snapshot covers
// are dropped. When the WAL was compacted past what any valid snapshot covers, the state those
// entries built is gone, so the node refuses to start rather than come up with a hole in its history.
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import { SnapshotMissingError } from './errors.js';
import type { WalState } from './replay.js';

export interface BootState {
  readonly snapshot: Snapshot | undefined;
  readonly hardState: HardState;
  /** The WAL's entries after snapshot.meta.index, contiguous from snapshot.meta.index + 1. */
  readonly entries: readonly Entry[];
  readonly warnings: readonly string[];
  /**
   * The WAL's log does not continue the snapshot (it ends before it, or disagrees at its index):
   * a log-start record for the snapshot must be written before the next entries.
   */
  readonly walNeedsLogStart: boolean;
}

/** Names for the refusal message: the snapshot used (or the snapshot folder) and the WAL's first file. */
export interface BootFiles {
  readonly snapshot: string;
  readonly walFirstSegment: string;
}

export function joinSnapshotAndLog(
  snapshot: Snapshot | undefined,
  wal: WalState,
  files: BootFiles,
): BootState {
  const meta = snapshot?.meta ?? { index: 0, term: 0 };
  const warnings: string[] = [];
  let entries = wal.entries;
  const first = entries[0]?.index ?? meta.index + 1;
  const at = entries[meta.index - first];
  const walLast = entries.at(-1)?.index ?? wal.logStart.index;
  let walNeedsLogStart = meta.index > walLast;
  if (meta.index > 0 && at !== undefined && at.term !== meta.term) {
    walNeedsLogStart = true;
    // Written by an older leader and never committed (the snapshot's entry at that index is): a
    // crash came between the installed snapshot's rename and its log-start record.
    warnings.push(
      `dropped ${entries.length} log entries that disagree with snapshot ${files.snapshot} ` +
        `(entry ${meta.index} has term ${at.term}, the snapshot term ${meta.term})`,
    );
    entries = [];
  } else if (meta.index >= first) {
    entries = entries.slice(meta.index - first + 1);
  }
  const walFirst = entries[0]?.index ?? Math.max(wal.logStart.index, meta.index) + 1;
  if (walFirst > meta.index + 1) {
    const covered =
      snapshot === undefined ? 'no valid snapshot exists' : `the snapshot ends at entry ${meta.index}`;
    throw new SnapshotMissingError(`the write-ahead log starts after entry ${walFirst - 1} but ${covered}`, [
      files.snapshot,
      files.walFirstSegment,
    ]);
  }
  const hardState =
    wal.hardState.commit >= meta.index ? wal.hardState : { ...wal.hardState, commit: meta.index }; // a snapshot holds only committed state
  return { snapshot, hardState, entries, warnings, walNeedsLogStart };
}
