// Pairs a history's invoke events with their completions into operations, and derives the fault
// periods. Every figure of a run (results.json, the report, `lab show`, `lab serve`) is computed
// from these two lists (chaos/figures/index.ts).
import type { ClientEvent, HistoryEvent, NemesisEvent, OpName } from '../../checker/history-types.js';
import type { FaultRecord } from '../results-types.js';

export type Outcome = 'ok' | 'fail' | 'info' | 'pending';

export interface Operation {
  process: number;
  f: OpName;
  key: string;
  /** Nanoseconds since the run's start. */
  invokeNs: number;
  /** Completion time; null while pending (no completion recorded, e.g. a run still in progress). */
  completeNs: number | null;
  outcome: Outcome;
  error?: string;
  node?: string;
  /** Index of the invoke event in the history, to find windows of events later. */
  invokeIndex: number;
}

export function pairOperations(events: readonly HistoryEvent[]): Operation[] {
  const open = new Map<number, Operation>();
  const operations: Operation[] = [];
  events.forEach((event, index) => {
    if (event.type === 'nemesis') return;
    if (event.type === 'invoke') {
      const op: Operation = {
        process: event.process,
        f: event.f,
        key: event.key,
        invokeNs: event.time,
        completeNs: null,
        outcome: 'pending',
        invokeIndex: index,
      };
      open.set(event.process, op);
      operations.push(op);
      return;
    }
    completeOperation(open, event);
  });
  return operations;
}

function completeOperation(open: Map<number, Operation>, event: ClientEvent): void {
  const op = open.get(event.process);
  if (op === undefined) return; // a completion without its invoke: ignore rather than guess
  open.delete(event.process);
  op.completeNs = event.time;
  op.outcome = event.type === 'invoke' ? 'pending' : event.type;
  if (event.error !== undefined) op.error = event.error;
  if (event.node !== undefined) op.node = event.node;
}

export function latencyMs(op: Operation): number | null {
  return op.completeNs === null ? null : (op.completeNs - op.invokeNs) / 1e6;
}

/**
 * Fault periods from the nemesis events: a stop closes the oldest open start of the same fault
 * (and the same detail when there is one), the *end* of `heal-all` closes everything (a fault is in
 * force until it has been undone), and whatever is still open at the end of the history runs to
 * its end (stopTime null).
 */
export function faultPeriods(events: readonly HistoryEvent[]): FaultRecord[] {
  const periods: FaultRecord[] = [];
  const open: FaultRecord[] = [];
  for (const event of events) {
    if (event.type !== 'nemesis') continue;
    if (event.fault === 'heal-all') {
      if (event.phase === 'stop') closePeriods(open, event);
    } else if (event.phase === 'start') {
      const period = toPeriod(event);
      open.push(period);
      periods.push(period);
    } else {
      closePeriods(open, event);
    }
  }
  return periods;
}

function toPeriod(event: NemesisEvent): FaultRecord {
  const period = { fault: event.fault, detail: event.detail, nodes: [...event.nodes] };
  return { ...period, startTime: event.time, stopTime: null };
}

function closePeriods(open: FaultRecord[], event: NemesisEvent): void {
  if (event.fault === 'heal-all') {
    for (const period of open.splice(0)) period.stopTime = event.time;
    return;
  }
  const sameDetail = open.findIndex((p) => p.fault === event.fault && p.detail === event.detail);
  const index = sameDetail >= 0 ? sameDetail : open.findIndex((p) => p.fault === event.fault);
  const period = index >= 0 ? open.splice(index, 1)[0] : undefined;
  if (period !== undefined) period.stopTime = event.time;
}

export function historyEndNs(events: readonly HistoryEvent[]): number {
  let end = 0;
  for (const event of events) end = Math.max(end, event.time);
  return end;
}
