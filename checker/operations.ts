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

/**
 * The operations of a history, in completion order. An operation's id is the position of its
 * invocation in `events`, so it stays the same when only some keys are converted.
 */
export function toOperations(events: readonly HistoryEvent[], keys?: ReadonlySet<string>): Operation[] {
  const pending = new Map<number, number>();
  const operations: Operation[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === 'nemesis' || (keys !== undefined && !keys.has(e.key))) continue;
    if (e.type === 'invoke') {
      pending.set(e.process, i);
      continue;
    }
    const invokeIndex = pending.get(e.process);
    if (invokeIndex === undefined) continue; // parseHistory rejects this; tolerate it for hand-built lists
    pending.delete(e.process);
    const op = toOperation(events[invokeIndex] as ClientEvent, invokeIndex, e, i);
    if (op !== undefined) operations.push(op);
  }
  for (const invokeIndex of pending.values()) {
    const op = toOperation(events[invokeIndex] as ClientEvent, invokeIndex, undefined, -1);
    if (op !== undefined) operations.push(op);
  }
  return operations;
}

function toOperation(
  invoke: ClientEvent,
  invokeIndex: number,
  completion: ClientEvent | undefined,
  completeIndex: number,
): Operation | undefined {
  const type = completion?.type ?? 'info';
  let ret: number;
  let output: OpOutput;
  if (type === 'fail') {
    if (invoke.f !== 'cas' || completion?.error !== CAS_MISMATCH) return undefined;
    ret = completion.time;
    output = { unknown: false, matched: false };
  } else if (type === 'info') {
    if (invoke.f === 'get') return undefined;
    ret = Infinity;
    output = { unknown: true };
  } else {
    ret = completion!.time;
    output = toOutput(invoke, completion!);
  }
  const input = toInput(invoke);
  return {
    id: invokeIndex,
    process: invoke.process,
    call: invoke.time,
    ret,
    input,
    output,
    invokeIndex,
    completeIndex,
  };
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
