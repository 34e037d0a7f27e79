// The raftlab history format: JSON Lines, one event per line (docs/history-format.md).
// Shared by the simulator, the lab and the checker; the reader and writer live in history.ts.

export type OpName = 'get' | 'put' | 'delete' | 'cas' | 'append';

/** invoke: the call; ok: it happened; fail: it definitely did not; info: it may have, at any time after the call. */
export type ClientEventType = 'invoke' | 'ok' | 'fail' | 'info';

/** A cas value: `expected` null means "succeed only if the key is absent". */
export interface CasValue {
  readonly expected: string | null;
  readonly new: string;
}

/**
 * The value field by operation:
 *  get     invoke: null; ok: the value read, or null when the key was absent
 *  put     the value written
 *  delete  null
 *  cas     a CasValue
 *  append  the suffix appended (on ok, `result` may carry the value after the append)
 */
export type EventValue = string | null | CasValue;

export interface ClientEvent {
  readonly type: ClientEventType;
  /** A process is one logical client thread; after an `info` it never issues again. */
  readonly process: number;
  readonly f: OpName;
  readonly key: string;
  readonly value: EventValue;
  /** Monotonic nanoseconds since the start of the run. */
  readonly time: number;
  /** On fail and info: the stable error code (e.g. "TIMEOUT", "NOT_LEADER"). */
  readonly error?: string;
  /** On append ok: the whole value after the append, when the server reported it. */
  readonly result?: string;
  /** The node the client talked to last, for reports. */
  readonly node?: string;
}

export type FaultPhase = 'start' | 'stop';

export interface NemesisEvent {
  readonly type: 'nemesis';
  readonly phase: FaultPhase;
  /** partition | pause | kill | packet | power | clock | failpoint-crash | heal-all */
  readonly fault: string;
  /** A human description, e.g. "isolate n3" or "ring n1-n2-n3 n2-n3-n4 ...". */
  readonly detail: string;
  readonly nodes: readonly string[];
  readonly time: number;
}

export type HistoryEvent = ClientEvent | NemesisEvent;
