// The smallest window of a failing key's history that shows its violation.
//
// The checker's counterexample view is the full story; the report only wants a few lines a person
// can read at a glance. We find the failing operation ourselves, with a small Wing-Gong search over
// one key (the key histories are short by design: the lab retires a key after --ops-per-key ops):
// the failing op is the ok operation whose completion makes the shortest prefix of the key's history
// non-linearizable. The window is then the key's events from the invoke of the earliest op that is
// concurrent with the failing op or is one of the last `contextWrites` writes completed before it,
// through the failing op's completion, plus the faults that started or stopped in that span.
import type { CasValue, ClientEvent, HistoryEvent } from '../../checker/history-types.js';
import { pairOperations, type Operation } from './operations.js';

type Value = string | null;

interface SearchOp {
  op: Operation;
  /** The ok completion (or null for an op that may or may not have happened). */
  done: ClientEvent | null;
  endNs: number;
  invoke: ClientEvent;
}

export interface ViolationWindow {
  key: string;
  /** The failing op's completion event, when found. */
  failing: ClientEvent | null;
  events: HistoryEvent[];
  /** True when the search gave up (too many states) and the window is the key's first events. */
  approximate: boolean;
}

const SEARCH_STATES_MAX = 200_000;
const WINDOW_EVENTS_MAX = 60;

export function violationWindow(
  events: readonly HistoryEvent[],
  key: string,
  contextWrites = 3,
): ViolationWindow {
  const ops = pairOperations(events).filter((op) => op.key === key);
  const failingOp = findFailingOp(events, ops);
  if (failingOp === undefined) {
    const keyEvents = events.filter((e) => e.type !== 'nemesis' && e.key === key).slice(0, WINDOW_EVENTS_MAX);
    return { key, failing: null, events: keyEvents, approximate: true };
  }
  const endNs = failingOp.completeNs ?? failingOp.invokeNs;
  const earlierWrites = ops
    .filter((o) => o.outcome === 'ok' && o.f !== 'get' && (o.completeNs ?? Infinity) < failingOp.invokeNs)
    .slice(-contextWrites);
  const concurrent = ops.filter(
    (o) => o.invokeNs <= endNs && (o.completeNs ?? Infinity) >= failingOp.invokeNs,
  );
  const startNs = Math.min(failingOp.invokeNs, ...[...earlierWrites, ...concurrent].map((o) => o.invokeNs));
  const window = events.filter(
    (e) => e.time >= startNs && e.time <= endNs && (e.type === 'nemesis' || e.key === key),
  );
  const failing = events.find(
    (e): e is ClientEvent =>
      e.type === 'ok' && e.process === failingOp.process && e.time === failingOp.completeNs,
  );
  return { key, failing: failing ?? null, events: window.slice(-WINDOW_EVENTS_MAX), approximate: false };
}

/** Binary search for the shortest non-linearizable prefix; its last ok completion is the failing op. */
function findFailingOp(events: readonly HistoryEvent[], ops: readonly Operation[]): Operation | undefined {
  const okOps = ops
    .filter((o) => o.outcome === 'ok')
    .sort((a, b) => (a.completeNs ?? 0) - (b.completeNs ?? 0));
  const verdictAt = (count: number): boolean | undefined => {
    const cutNs = okOps[count - 1]?.completeNs ?? 0;
    return linearizable(toSearchOps(events, ops, cutNs));
  };
  if (okOps.length === 0 || verdictAt(okOps.length) !== false) return undefined;
  let [low, high] = [1, okOps.length]; // invariant: prefix of `high` ok ops is illegal
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const verdict = verdictAt(mid);
    if (verdict === undefined) return undefined;
    if (verdict) low = mid + 1;
    else high = mid;
  }
  return okOps[high - 1];
}

/** The ops invoked by `cutNs`; those that completed ok later count as "may have happened". */
function toSearchOps(events: readonly HistoryEvent[], ops: readonly Operation[], cutNs: number): SearchOp[] {
  const result: SearchOp[] = [];
  for (const op of ops) {
    if (op.invokeNs > cutNs || op.outcome === 'fail') continue;
    const invoke = events[op.invokeIndex] as ClientEvent;
    const completedInPrefix = op.outcome === 'ok' && op.completeNs !== null && op.completeNs <= cutNs;
    if (!completedInPrefix && op.f === 'get') continue; // an unfinished read constrains nothing
    const done = completedInPrefix ? completionOf(events, op) : null;
    result.push({ op, done, endNs: done === null ? Infinity : done.time, invoke });
  }
  return result;
}

function completionOf(events: readonly HistoryEvent[], op: Operation): ClientEvent | null {
  for (let i = op.invokeIndex + 1; i < events.length; i += 1) {
    const e = events[i];
    if (e !== undefined && e.type !== 'nemesis' && e.type !== 'invoke' && e.process === op.process) return e;
  }
  return null;
}

/** Wing-Gong search with memoisation; undefined when it gave up. */
function linearizable(ops: readonly SearchOp[]): boolean | undefined {
  const seen = new Set<string>();
  const required = ops.filter((o) => o.done !== null).length;
  let budget = SEARCH_STATES_MAX;
  const search = (taken: boolean[], takenRequired: number, state: Value): boolean | undefined => {
    if (takenRequired === required) return true;
    const memo = `${taken.map((t) => (t ? 1 : 0)).join('')}|${state === null ? '\u0000' : state}`;
    if (seen.has(memo)) return false;
    seen.add(memo);
    if ((budget -= 1) < 0) return undefined;
    let minEnd = Infinity;
    ops.forEach((o, i) => (minEnd = taken[i] ? minEnd : Math.min(minEnd, o.endNs)));
    for (let i = 0; i < ops.length; i += 1) {
      const o = ops[i] as SearchOp;
      if (taken[i] || o.op.invokeNs > minEnd) continue;
      const next = step(state, o);
      if (next === undefined) continue;
      taken[i] = true;
      const found = search(taken, takenRequired + (o.done !== null ? 1 : 0), next.state);
      taken[i] = false;
      if (found !== false) return found;
    }
    return false;
  };
  return search(
    ops.map(() => false),
    0,
    null,
  );
}

/** The single-key model: undefined when the op cannot happen in `state`. */
function step(state: Value, o: SearchOp): { state: Value } | undefined {
  const value = o.invoke.value;
  switch (o.op.f) {
    case 'get':
      return (o.done?.value ?? null) === state ? { state } : undefined;
    case 'put':
      return { state: typeof value === 'string' ? value : null };
    case 'delete':
      return { state: null };
    case 'cas': {
      const cas = value as CasValue;
      return cas.expected === state ? { state: cas.new } : undefined;
    }
    case 'append': {
      const next = (state ?? '') + (typeof value === 'string' ? value : '');
      const result = o.done?.result;
      return result === undefined || result === next ? { state: next } : undefined;
    }
  }
}
