// Rebuilding the log from the WAL's records, with Raft's overwrite rule: an entry whose index is
// already present replaces it and everything after it (a new leader overwrote an uncommitted
// suffix). Anything else that cannot come from a correct writer (a gap, a term going backwards)
// is reported as corruption at the record's file and offset.
import type { Entry, HardState } from '../raft/types.js';
import { WalCorruptError } from './errors.js';
import type { WalRecord } from './record.js';

export interface WalState {
  readonly hardState: HardState;
  readonly entries: readonly Entry[];
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

export class LogReplay {
  readonly entries: Entry[] = [];
  hardState: HardState = EMPTY_HARD_STATE;

  apply(record: WalRecord, file: string, offset: number): void {
    if (record.type === 'hard-state') {
      if (record.hardState.term < this.hardState.term) {
        const { term } = record.hardState;
        throw new WalCorruptError(
          file,
          offset,
          `hard state term ${term} is below the previous ${this.hardState.term}`,
        );
      }
      this.hardState = record.hardState;
      return;
    }
    const { index } = record.entry;
    const first = this.entries[0]?.index ?? index;
    const next = first + this.entries.length;
    if (index < 1 || index < first || index > next) {
      throw new WalCorruptError(
        file,
        offset,
        `entry index ${index} does not follow the log [${first}, ${next - 1}]`,
      );
    }
    if (index < next) this.entries.length = index - first; // overwrite: drop index.. onwards
    this.entries.push(record.entry);
  }

  state(): WalState {
    return { hardState: this.hardState, entries: this.entries };
  }
}
