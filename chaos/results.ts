// Computes results.json's figures from a history: outcome counts, latency quantiles, availability
// during and outside faults, and the faults injected. Pure functions of the events.
import type { ClientEvent, HistoryEvent, NemesisEvent, OpName } from '../checker/history-types.js';
import type { FaultRecord, LatencyQuantilesMs, OutcomeCounts, RunResults } from './results-types.js';

interface CompletedOp {
  invoke: ClientEvent;
  completion: ClientEvent | null;
}

/** Pairs each invocation with its process's next completion (processes are sequential). */
export function pairOperations(events: readonly HistoryEvent[]): CompletedOp[] {
  const open = new Map<number, CompletedOp>();
  const ops: CompletedOp[] = [];
  for (const event of events) {
    if (event.type === 'nemesis') continue;
    if (event.type === 'invoke') {
      const op = { invoke: event, completion: null };
      open.set(event.process, op);
      ops.push(op);
    } else {
      const op = open.get(event.process);
      if (op !== undefined) op.completion = event;
      open.delete(event.process);
    }
  }
  return ops;
}

export function countOutcomes(events: readonly HistoryEvent[]): RunResults['counts'] {
  const total: OutcomeCounts = { ok: 0, fail: 0, info: 0 };
  const byOperation: Partial<Record<OpName, OutcomeCounts>> = {};
  for (const event of events) {
    if (event.type === 'nemesis' || event.type === 'invoke') continue;
    const counts = (byOperation[event.f] ??= { ok: 0, fail: 0, info: 0 });
    counts[event.type] += 1;
    total[event.type] += 1;
  }
  return { total, byOperation };
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Latency of operations that completed ok, per operation, in milliseconds. */
export function latencyQuantiles(
  events: readonly HistoryEvent[],
): Partial<Record<OpName, LatencyQuantilesMs>> {
  const samples = new Map<OpName, number[]>();
  for (const { invoke, completion } of pairOperations(events)) {
    if (completion?.type !== 'ok') continue;
    const list = samples.get(invoke.f) ?? [];
    list.push((completion.time - invoke.time) / 1e6);
    samples.set(invoke.f, list);
  }
  const out: Partial<Record<OpName, LatencyQuantilesMs>> = {};
  for (const [f, list] of samples) {
    list.sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    out[f] = {
      p50: round(quantile(list, 0.5)),
      p95: round(quantile(list, 0.95)),
      p99: round(quantile(list, 0.99)),
      max: round(list[list.length - 1] as number),
      count: list.length,
    };
  }
  return out;
}

/**
 * Pairs fault starts with stops. At most one fault per kind is in force, so a stop closes the
 * open fault of its kind; heal-all closes whatever is still open.
 */
export function faultRecords(events: readonly HistoryEvent[]): FaultRecord[] {
  const records: FaultRecord[] = [];
  const open = new Map<string, FaultRecord[]>();
  for (const event of events) {
    if (event.type !== 'nemesis') continue;
    if (event.fault === 'heal-all') {
      if (event.phase === 'stop') closeAll(open, event.time);
      continue;
    }
    const list = open.get(event.fault) ?? [];
    if (event.phase === 'start') {
      const record = {
        fault: event.fault,
        detail: event.detail,
        nodes: [...event.nodes],
        startTime: event.time,
        stopTime: null,
      };
      records.push(record);
      list.push(record);
      open.set(event.fault, list);
    } else {
      const index = list.findIndex((record) => record.detail === event.detail);
      const [record] = list.splice(index >= 0 ? index : 0, 1);
      if (record !== undefined) record.stopTime = event.time;
    }
  }
  return records;
}

function closeAll(open: Map<string, FaultRecord[]>, time: number): void {
  for (const list of open.values()) for (const record of list.splice(0)) record.stopTime = time;
}

/**
 * Share of operations answered, by whether they were invoked while a fault was in force. A CAS
 * that found a different value was answered correctly, so it counts as available.
 */
export function availability(
  events: readonly HistoryEvent[],
  faults: readonly FaultRecord[],
): RunResults['availability'] {
  const during = { answered: 0, total: 0 };
  const outside = { answered: 0, total: 0 };
  for (const { invoke, completion } of pairOperations(events)) {
    const inFault = faults.some((f) => invoke.time >= f.startTime && invoke.time <= (f.stopTime ?? Infinity));
    const bucket = inFault ? during : outside;
    bucket.total += 1;
    if (completion?.type === 'ok' || completion?.error === 'CAS_MISMATCH') bucket.answered += 1;
  }
  const share = (b: { answered: number; total: number }) =>
    b.total === 0 ? null : Math.round((b.answered / b.total) * 10_000) / 10_000;
  return {
    duringFaults: share(during),
    outsideFaults: share(outside),
    overall: share({ answered: during.answered + outside.answered, total: during.total + outside.total }),
  };
}

export function nemesisEvents(events: readonly HistoryEvent[]): NemesisEvent[] {
  return events.filter((event): event is NemesisEvent => event.type === 'nemesis');
}

/** The history-derived part of results.json. */
export function historyFigures(
  events: readonly HistoryEvent[],
): Pick<RunResults, 'counts' | 'latencyMs' | 'availability' | 'faults'> {
  const faults = faultRecords(events);
  return {
    counts: countOutcomes(events),
    latencyMs: latencyQuantiles(events),
    availability: availability(events, faults),
    faults,
  };
}
