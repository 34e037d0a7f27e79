// Rebuilding the log from the WAL's records, with Raft's overwrite rule: an entry whose index is
// already present replaces it and everything after it (a new leader overwrote an uncommitted
// suffix). Anything else that cannot come from a correct writer (a gap, a term going backwards)
// is reported as corruption at the record's file and offset.
//
// A log-start record (written with an installed snapshot) says the log now starts after entry
// (index, term): as in Raft's InstallSnapshot, entries after it are kept when the log holds that
// very entry, and the whole log is dropped otherwise (it is a different, uncommitted history).
import type { Entry, HardState, SnapshotMeta } from '../raft/types.js';
import { WalCorruptError } from './errors.js';
import type { WalRecord } from './record.js';

export interface WalState {
  readonly hardState: HardState;
  readonly entries: readonly Entry[];
  /** The newest log-start record replayed ({0, 0} when none): entries before it were dropped. */
  readonly logStart: SnapshotMeta;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };
export const NO_LOG_START: SnapshotMeta = { index: 0, term: 0 };

export class LogReplay {
  entries: Entry[] = [];
  hardState: HardState = EMPTY_HARD_STATE;
  logStart: SnapshotMeta = NO_LOG_START;

  /**
   * True while the entries before the first one replayed may exist but were released after a
   * snapshot (the first segment on disk is not segment 1). Everything released is covered by a
   * snapshot, hence committed, so records about it are lenient: an overwrite written back then may
   * go below the first entry still on disk (segment 2 held 101..200, segment 3 overwrote from 90,
   * segment 1 was released), and a log start at a released entry kept the entries after it (a
   * committed entry always matches the leader's snapshot).
   */
  private unknownBefore: boolean;

  constructor(released = false) {
    this.unknownBefore = released;
  }

  apply(record: WalRecord, file: string, offset: number): void {
    if (record.type === 'hard-state') return this.applyHardState(record.hardState, file, offset);
    if (record.type === 'log-start') return this.applyLogStart(record.meta, file, offset);
    const { index } = record.entry;
    const known = this.entries.length > 0 || !this.unknownBefore;
    const first =
      this.entries[0]?.index ?? (this.logStart.index > 0 && known ? this.logStart.index + 1 : index);
    const next = first + this.entries.length;
    if (index < first && index > this.logStart.index && this.unknownBefore) {
      this.entries = [record.entry]; // an overwrite from below the first entry left on disk
      return;
    }
    if (index < 1 || index < first || index > next || index <= this.logStart.index) {
      throw new WalCorruptError(
        file,
        offset,
        `entry index ${index} does not follow the log [${first}, ${next - 1}]`,
      );
    }
    if (index < next) this.entries.length = index - first; // overwrite: drop index.. onwards
    this.entries.push(record.entry);
  }

  private applyHardState(hardState: HardState, file: string, offset: number): void {
    if (hardState.term < this.hardState.term) {
      const reason = `hard state term ${hardState.term} is below the previous ${this.hardState.term}`;
      throw new WalCorruptError(file, offset, reason);
    }
    this.hardState = hardState;
  }

  private applyLogStart(meta: SnapshotMeta, file: string, offset: number): void {
    if (meta.index < this.logStart.index) {
      const reason = `log start ${meta.index} is below the previous ${this.logStart.index}`;
      throw new WalCorruptError(file, offset, reason);
    }
    const first = this.entries[0]?.index ?? 0;
    if (this.unknownBefore && (this.entries.length === 0 || meta.index < first)) {
      // The entry at meta.index was released: committed, so it matched and what follows was kept.
      this.logStart = meta;
      return;
    }
    const at = this.entries[meta.index - first];
    const holds = at?.index === meta.index && at.term === meta.term;
    this.entries = holds ? this.entries.slice(meta.index - first + 1) : [];
    this.logStart = meta;
    this.unknownBefore = false;
  }

  state(): WalState {
    return { hardState: this.hardState, entries: this.entries, logStart: this.logStart };
  }
}
