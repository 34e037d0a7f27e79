// From events to operations: pairs each invocation with its completion and decides what each
// outcome tells the checker (Jepsen's semantics).
//  ok    the operation happened between its call and its return.
//  fail  it definitely did not happen, so it is dropped; except a cas that failed because the
//        compare did not match (error CAS_MISMATCH): that observed the value, like a read.
//  info  it may have happened at any time after its call, or never: its return is "at infinity"
//        and its output unknown. A read whose result is unknown constrains nothing: dropped.
//  (no completion) the same as info: the run ended while it was in flight.
import type { CasValue, ClientEvent, HistoryEvent } from './history-types.js';
import type { OpInput, OpOutput, Operation } from './model.js';

export const CAS_MISMATCH = 'CAS_MISMATCH';

export function toOperations(events: readonly HistoryEvent[]): Operation[] {
  const pending = new Map<number, { event: ClientEvent; index: number }>();
  const operations: Operation[] = [];
  const add = (
    invoke: { event: ClientEvent; index: number },
    completion: ClientEvent | undefined,
    at: number,
  ) => {
    const op = toOperation(operations.length, invoke.event, invoke.index, completion, at);
    if (op !== undefined) operations.push(op);
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === 'nemesis') continue;
    if (e.type === 'invoke') {
      pending.set(e.process, { event: e, index: i });
      continue;
    }
    const invoke = pending.get(e.process);
    if (invoke === undefined) continue; // parseHistory rejects this; tolerate it for hand-built lists
    pending.delete(e.process);
    add(invoke, e, i);
  }
  for (const invoke of pending.values()) add(invoke, undefined, -1);
  return operations;
}

function toOperation(
  id: number,
  invoke: ClientEvent,
  invokeIndex: number,
  completion: ClientEvent | undefined,
  completeIndex: number,
): Operation | undefined {
  const input = toInput(invoke);
  const type = completion?.type ?? 'info';
  const base = { id, process: invoke.process, call: invoke.time, input, invokeIndex };
  if (type === 'fail') {
    if (invoke.f !== 'cas' || completion?.error !== CAS_MISMATCH) return undefined;
    return { ...base, ret: completion.time, output: { unknown: false, matched: false }, completeIndex };
  }
  if (type === 'info') {
    if (invoke.f === 'get') return undefined;
    return { ...base, ret: Infinity, output: { unknown: true }, completeIndex };
  }
  return { ...base, ret: completion!.time, output: toOutput(invoke, completion!), completeIndex };
}

function toInput(e: ClientEvent): OpInput {
  if (e.f === 'cas') {
    const cas = e.value as CasValue;
    return { f: 'cas', key: e.key, value: cas.new, expected: cas.expected };
  }
  const value = e.f === 'put' || e.f === 'append' ? (e.value as string) : null;
  return { f: e.f, key: e.key, value, expected: null };
}

function toOutput(invoke: ClientEvent, ok: ClientEvent): OpOutput {
  switch (invoke.f) {
    case 'get':
      return { unknown: false, value: typeof ok.value === 'string' ? ok.value : null };
    case 'append':
      return ok.result === undefined ? { unknown: false } : { unknown: false, value: ok.result };
    case 'cas':
      return { unknown: false, matched: true };
    default:
      return { unknown: false };
  }
}
