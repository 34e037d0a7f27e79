// The data behind one counterexample page: the operations of the failing key (capped), the
// longest partial linearizations, the blocked operations and the fault periods.
import { modelFor, partitions, type KeyResult, type ModelName } from '../check.js';
import type { PartialLinearization } from '../counterexample.js';
import type { HistoryEvent } from '../history-types.js';

/** More boxes than this make a page slow to open; the window around the failure is drawn. */
export const OPERATIONS_DRAWN_MAX = 1500;

export interface ViewOperation {
  id: number;
  process: number;
  description: string;
  /** Positions on the event-order axis; ret -1 when the operation never returned. */
  callAt: number;
  retAt: number;
  callNs: number;
  retNs: number | null;
  /** The node that served it, when the history says (the lab records it; optional in the format). */
  node?: string;
}

export interface ViewPartial {
  /** Operation ids in linearization order, with the state after each. */
  order: number[];
  before: string[];
  after: string[];
  omitted: number;
  state: string;
  blocked: { id: number; why: string; stateBefore: string }[];
}

export interface ViewBand {
  fault: string;
  detail: string;
  startAt: number;
  stopAt: number;
}

export interface ViewData {
  key: string;
  model: string;
  operationsTotal: number;
  operationsDrawn: number;
  linearized: number;
  slots: number;
  operations: ViewOperation[];
  partials: ViewPartial[];
  bands: ViewBand[];
}

export function buildViewData(events: readonly HistoryEvent[], key: KeyResult, model: ModelName): ViewData {
  const cx = key.counterexample!;
  const all = operationsOfKey(events, key.key, model);
  const drawn = windowAround(all, cx.partials[0]);
  const slotOf = slotMap(events, drawn);
  const operations: ViewOperation[] = drawn.map((o) => ({
    id: o.id,
    process: o.process,
    description: o.description,
    callAt: slotOf.get(o.inv)!,
    retAt: o.done >= 0 && o.ret !== null ? slotOf.get(o.done)! : -1,
    callNs: o.call,
    retNs: o.ret,
    ...servedBy(events, o.done),
  }));
  return {
    key: key.key,
    model,
    operationsTotal: cx.operations,
    operationsDrawn: operations.length,
    linearized: cx.linearized,
    slots: slotOf.size,
    operations,
    partials: cx.partials.map(toViewPartial),
    bands: faultBands(events, slotOf),
  };
}

/** The `node` of the operation's completion event, if it has one. */
function servedBy(events: readonly HistoryEvent[], done: number): { node?: string } {
  const completion = done >= 0 ? events[done] : undefined;
  return completion !== undefined && completion.type !== 'nemesis' && completion.node !== undefined
    ? { node: completion.node }
    : {};
}

interface RefLike {
  id: number;
  process: number;
  description: string;
  call: number;
  ret: number | null;
  inv: number;
  done: number;
}

/** Every operation of the key, in call order, with the ids and descriptions the checker used. */
function operationsOfKey(events: readonly HistoryEvent[], key: string, model: ModelName): RefLike[] {
  const describe = modelFor(model).describeOperation;
  const ops = partitions(events, { model, keys: [key] })[0]?.[1] ?? [];
  return ops
    .map((o) => ({
      id: o.id,
      process: o.process,
      description: describe(o.input, o.output),
      call: o.call,
      ret: Number.isFinite(o.ret) ? o.ret : null,
      inv: o.invokeIndex,
      done: o.completeIndex,
    }))
    .sort((a, b) => a.call - b.call || a.inv - b.inv);
}

/** At most OPERATIONS_DRAWN_MAX operations: mostly before the first blocked one, some after. */
function windowAround(all: RefLike[], partial: PartialLinearization | undefined): RefLike[] {
  if (all.length <= OPERATIONS_DRAWN_MAX) return all;
  const focusId = partial?.blocked[0]?.op.id;
  const focus = Math.max(
    0,
    all.findIndex((o) => o.id === focusId),
  );
  const from = Math.max(
    0,
    Math.min(focus - Math.floor(OPERATIONS_DRAWN_MAX * 0.75), all.length - OPERATIONS_DRAWN_MAX),
  );
  return all.slice(from, from + OPERATIONS_DRAWN_MAX);
}

/** The axis is event order: each drawn call or return (and fault edge) gets its own slot. */
function slotMap(events: readonly HistoryEvent[], drawn: RefLike[]): Map<number, number> {
  const indexes = new Set<number>();
  for (const o of drawn) {
    indexes.add(o.inv);
    if (o.done >= 0 && o.ret !== null) indexes.add(o.done);
  }
  const lo = Math.min(...indexes);
  const hi = Math.max(...indexes);
  events.forEach((e, i) => {
    if (e.type === 'nemesis' && i > lo && i < hi) indexes.add(i);
  });
  const slots = new Map<number, number>();
  [...indexes].sort((a, b) => a - b).forEach((index, slot) => slots.set(index, slot));
  return slots;
}

function faultBands(events: readonly HistoryEvent[], slotOf: Map<number, number>): ViewBand[] {
  const open = new Map<string, { detail: string; at: number }>();
  const bands: ViewBand[] = [];
  const last = slotOf.size;
  let first = Infinity;
  for (const index of slotOf.keys()) first = Math.min(first, index);
  events.forEach((e, i) => {
    if (e.type !== 'nemesis') return;
    const at = slotOf.get(i) ?? (i < first ? 0 : last);
    if (e.phase === 'start') open.set(e.fault, { detail: e.detail || e.nodes.join(' '), at });
    else {
      const start = open.get(e.fault);
      if (start !== undefined)
        bands.push({ fault: e.fault, detail: start.detail, startAt: start.at, stopAt: at });
      open.delete(e.fault);
    }
  });
  for (const [fault, start] of open)
    bands.push({ fault, detail: start.detail, startAt: start.at, stopAt: last });
  return bands.filter((b) => b.stopAt > 0 && b.startAt < last);
}

function toViewPartial(p: PartialLinearization): ViewPartial {
  return {
    order: p.steps.map((s) => s.op.id),
    before: p.steps.map((s) => s.stateBefore),
    after: p.steps.map((s) => s.stateAfter),
    omitted: p.stepsOmitted,
    state: p.state,
    blocked: p.blocked.map((b) => ({ id: b.op.id, why: b.why, stateBefore: b.stateBefore })),
  };
}
