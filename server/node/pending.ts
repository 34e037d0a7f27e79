// Client operations waiting for the log: writes by (index, term) once proposed, linearizable reads
// by ReadIndex request id, then by the index the state machine must reach before they are served.
import { RaftlabError, type ErrorInfo } from '../../proto/errors.js';
import type { KvResult } from '../kv/state-machine.js';

export type Outcome = KvResult;

export interface PendingWrite {
  readonly done: (outcome: Outcome) => void;
  index: number; // 0 until proposed
  term: number;
}

export interface PendingRead {
  readonly key: Uint8Array;
  readonly done: (outcome: Outcome) => void;
  requestId: number; // ReadIndex id, 0 until queued in the core
  index: number; // the read index, 0 until the core confirms it
}

export function failure(
  code: RaftlabError['code'],
  message: string,
  extra: Partial<ErrorInfo> = {},
): Outcome {
  const error = new RaftlabError(code, message, extra);
  return { ok: false, error: { ...error.toInfo(), message } };
}

export class PendingTable {
  private readonly writes = new Map<number, PendingWrite>();
  private readonly readsById = new Map<number, PendingRead>();
  /** Reads whose index is known, waiting for the state machine; ascending by index in practice. */
  private readsByIndex: PendingRead[] = [];
  private nextReadId = 1;

  get writeCount(): number {
    return this.writes.size;
  }

  get readCount(): number {
    return this.readsById.size + this.readsByIndex.length;
  }

  addWrite(write: PendingWrite): void {
    // An older proposal at this index was truncated from our log when we lost and regained
    // leadership between two Readies; it was never committed (Leader Completeness), so it failed.
    const older = this.writes.get(write.index);
    if (older)
      older.done(
        failure('NOT_LEADER', `proposal at index ${write.index} was overwritten by term ${write.term}`),
      );
    this.writes.set(write.index, write);
  }

  takeWrite(index: number): PendingWrite | undefined {
    const write = this.writes.get(index);
    if (write) this.writes.delete(index);
    return write;
  }

  newReadId(read: PendingRead): number {
    read.requestId = this.nextReadId++;
    this.readsById.set(read.requestId, read);
    return read.requestId;
  }

  /** The core confirmed read `requestId` at `index`: serve it once applied reaches the index. */
  readConfirmed(requestId: number, index: number): void {
    const read = this.readsById.get(requestId);
    if (!read) return;
    this.readsById.delete(requestId);
    read.index = index;
    this.readsByIndex.push(read);
  }

  takeRead(requestId: number): PendingRead | undefined {
    const read = this.readsById.get(requestId);
    if (read) this.readsById.delete(requestId);
    return read;
  }

  /** Reads that may be served now that `applied` is reached. */
  takeReadsUpTo(applied: number): PendingRead[] {
    if (this.readsByIndex.length === 0) return [];
    const ready = this.readsByIndex.filter((r) => r.index <= applied);
    if (ready.length > 0) this.readsByIndex = this.readsByIndex.filter((r) => r.index > applied);
    return ready;
  }

  /** Fails every waiting write with `writeOutcome` and every read with `readOutcome`. */
  failAll(writeOutcome: Outcome, readOutcome: Outcome): void {
    for (const write of this.writes.values()) write.done(writeOutcome);
    this.writes.clear();
    for (const read of this.readsById.values()) read.done(readOutcome);
    this.readsById.clear();
    for (const read of this.readsByIndex) read.done(readOutcome);
    this.readsByIndex = [];
  }
}
