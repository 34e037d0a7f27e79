// Client operations waiting for the log: writes by (index, term) once proposed, linearizable reads
// by ReadIndex request id, then by the index the state machine must reach before they are served.
// A request is whatever the host uses to answer a client (a callback in the server, a simulated
// request in the simulator): the table keeps it and hands it back to `answer` exactly once.
import { DEFINITE_BY_DEFAULT, type ErrorCodeName, type ErrorInfo } from '../../shared/errors.js';
import type { KvResult } from '../kv/state-machine.js';

export type Outcome = KvResult;

/** How the host answers one client request (once). */
export type Answer<R> = (request: R, outcome: Outcome) => void;

export interface PendingWrite<R> {
  readonly request: R;
  readonly index: number;
  readonly term: number;
}

export interface PendingRead<R> {
  readonly request: R;
  readonly key: Uint8Array;
  requestId: number; // ReadIndex id, 0 until queued in the core
  index: number; // the read index, 0 until the core confirms it
}

/** A failed outcome, built as plain data (an Error would capture a stack for an expected refusal). */
export function failure(code: ErrorCodeName, message: string, extra: Partial<ErrorInfo> = {}): Outcome {
  return { ok: false, error: { code, message, definite: DEFINITE_BY_DEFAULT[code], ...extra } };
}

export class PendingTable<R> {
  private readonly writes = new Map<number, PendingWrite<R>>();
  private readonly readsById = new Map<number, PendingRead<R>>();
  /** Reads whose index is known, waiting for the state machine; ascending by index in practice. */
  private readsByIndex: PendingRead<R>[] = [];
  private nextReadId = 1;

  constructor(private readonly answer: Answer<R>) {}

  get writeCount(): number {
    return this.writes.size;
  }

  get readCount(): number {
    return this.readsById.size + this.readsByIndex.length;
  }

  addWrite(write: PendingWrite<R>): void {
    // An older proposal at this index was truncated from our log when we lost and regained
    // leadership between two Readies; it was never committed (Leader Completeness), so it failed.
    const older = this.writes.get(write.index);
    if (older)
      this.answer(
        older.request,
        failure('NOT_LEADER', `proposal at index ${write.index} was overwritten by term ${write.term}`),
      );
    this.writes.set(write.index, write);
  }

  takeWrite(index: number): PendingWrite<R> | undefined {
    if (this.writes.size === 0) return undefined;
    const write = this.writes.get(index);
    if (write) this.writes.delete(index);
    return write;
  }

  newReadId(read: PendingRead<R>): number {
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

  /** The core refused read `requestId`: answers it with `outcome`. */
  failRead(requestId: number, outcome: Outcome): void {
    const read = this.readsById.get(requestId);
    if (!read) return;
    this.readsById.delete(requestId);
    this.answer(read.request, outcome);
  }

  /** Answers every confirmed read whose index `applied` has reached, with `serve(key)`. */
  serveReadsUpTo(applied: number, serve: (key: Uint8Array) => Outcome): void {
    if (this.readsByIndex.length === 0) return;
    const waiting: PendingRead<R>[] = [];
    for (const read of this.readsByIndex) {
      if (read.index <= applied) this.answer(read.request, serve(read.key));
      else waiting.push(read);
    }
    this.readsByIndex = waiting;
  }

  /** Answers every write proposed at an index <= `index` with `outcome`; returns how many. */
  failWritesThrough(index: number, outcome: Outcome): number {
    if (this.writes.size === 0) return 0;
    const covered = [...this.writes.values()].filter((w) => w.index <= index);
    for (const write of covered) {
      this.writes.delete(write.index);
      this.answer(write.request, outcome);
    }
    return covered.length;
  }

  /** Answers every waiting write with `writeOutcome` and every read with `readOutcome`. */
  failAll(writeOutcome: Outcome, readOutcome: Outcome): void {
    const writes = [...this.writes.values()];
    const reads = [...this.readsById.values(), ...this.readsByIndex];
    this.writes.clear();
    this.readsById.clear();
    this.readsByIndex = [];
    for (const write of writes) this.answer(write.request, writeOutcome);
    for (const read of reads) this.answer(read.request, readOutcome);
  }
}
