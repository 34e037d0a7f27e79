// A compact way to write histories in tests: op(process, 'put', 'k', 'v', call, ret) gives the
// invocation and completion; history(...) sorts the events into time order.
import type {
  CasValue,
  ClientEvent,
  ClientEventType,
  HistoryEvent,
  NemesisEvent,
  OpName,
} from '../history-types.js';

export interface OpSpec {
  process: number;
  f: OpName;
  key?: string;
  /** put/append: the value written; get: the value read; cas: [expected, new]. */
  value?: string | null | [string | null, string];
  call: number;
  /** Omit for an operation that never completed. */
  ret?: number;
  type?: Exclude<ClientEventType, 'invoke'>;
  error?: string;
  result?: string;
}

export function op(s: OpSpec): ClientEvent[] {
  const key = s.key ?? 'k';
  const cas: CasValue | undefined = Array.isArray(s.value)
    ? { expected: s.value[0], new: s.value[1] }
    : undefined;
  const written = s.f === 'put' || s.f === 'append' ? ((s.value as string | undefined) ?? '') : null;
  const invokeValue = cas ?? written;
  const invoke: ClientEvent = {
    type: 'invoke',
    process: s.process,
    f: s.f,
    key,
    value: invokeValue,
    time: s.call,
  };
  if (s.ret === undefined) return [invoke];
  const type = s.type ?? 'ok';
  const doneValue = s.f === 'get' ? ((s.value as string | null | undefined) ?? null) : invokeValue;
  const done: ClientEvent = {
    type,
    process: s.process,
    f: s.f,
    key,
    value: type === 'ok' ? doneValue : invokeValue,
    time: s.ret,
    ...(s.error === undefined ? {} : { error: s.error }),
    ...(s.result === undefined ? {} : { result: s.result }),
  };
  return [invoke, done];
}

export function nemesis(
  phase: 'start' | 'stop',
  time: number,
  fault = 'partition',
  nodes = ['n1'],
): NemesisEvent {
  return { type: 'nemesis', phase, fault, detail: `isolate ${nodes.join(' ')}`, nodes, time };
}

/** Events in time order; at equal times the order given is kept. */
export function history(...groups: (HistoryEvent | HistoryEvent[])[]): HistoryEvent[] {
  const events = groups.flat();
  return events
    .map((e, i) => [e, i] as const)
    .sort((a, b) => a[0].time - b[0].time || a[1] - b[1])
    .map(([e]) => e);
}
