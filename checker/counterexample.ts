// The counterexample for an illegal partition, computed once after the search: the search only
// remembers its longest partial linearizations (cheap); here each is replayed to get the model
// states and the operations that could not come next. This costs one pass over the partition,
// unlike Porcupine's verbose mode, which re-runs the search per operation.
import type { Model, Operation } from './model.js';
import { ILLEGAL, type KvStates } from './kv-states.js';
import { buildEntryList, lift } from './search.js';

export interface OperationRef {
  id: number;
  process: number;
  description: string;
  /** Nanoseconds; ret null when the operation never returned (info). */
  call: number;
  ret: number | null;
  invokeIndex: number;
  completeIndex: number;
}

export interface LinearizationStep {
  op: OperationRef;
  stateBefore: string;
  stateAfter: string;
}

export interface BlockedOperation {
  op: OperationRef;
  stateBefore: string;
  /** 'rejected': the model forbids it in that state; 'dead-end': allowed, but nothing continues from it. */
  why: 'rejected' | 'dead-end';
}

export interface PartialLinearization {
  /** The linearized operations in order (the last STEPS_KEPT_MAX when longer). */
  steps: LinearizationStep[];
  stepsOmitted: number;
  /** The state after the last step. */
  state: string;
  /** The operations that could have come next (called before the earliest pending return). */
  blocked: BlockedOperation[];
  blockedOmitted: number;
}

export interface Counterexample {
  /** Operations in the partition, and how many the longest partial linearization places. */
  operations: number;
  linearized: number;
  partials: PartialLinearization[];
}

const STEPS_KEPT_MAX = 400;
const BLOCKED_KEPT_MAX = 40;

export function describeRef<S>(model: Model<S>, op: Operation): OperationRef {
  return {
    id: op.id,
    process: op.process,
    description: model.describeOperation(op.input, op.output),
    call: op.call,
    ret: Number.isFinite(op.ret) ? op.ret : null,
    invokeIndex: op.invokeIndex,
    completeIndex: op.completeIndex,
  };
}

/**
 * Undefined when the states needed to replay it do not fit in the memory budget (the verdict
 * stands; only the explanation is missing).
 */
export function buildCounterexample<S>(
  model: Model<S>,
  operations: readonly Operation[],
  states: KvStates,
  prefixes: readonly (readonly number[])[],
): Counterexample | undefined {
  const partials: PartialLinearization[] = [];
  for (const prefix of prefixes) {
    const partial = replay(model, operations, states, prefix);
    if (partial === undefined) return undefined;
    partials.push(partial);
  }
  return { operations: operations.length, linearized: prefixes[0]?.length ?? 0, partials };
}

function replay<S>(
  model: Model<S>,
  operations: readonly Operation[],
  states: KvStates,
  prefix: readonly number[],
): PartialLinearization | undefined {
  const { next, prev, hasReturn } = buildEntryList(operations);
  // The KV states describe themselves as the model would (quoted, nil), clipped when long.
  const describe = (id: number) => states.describe(id);
  const steps: LinearizationStep[] = [];
  let state = states.initial;
  for (const [i, op] of prefix.entries()) {
    const after = states.next(state, op);
    if (after === ILLEGAL) throw new Error('internal: a recorded linearization does not replay');
    if (after < 0) return undefined;
    if (i >= prefix.length - STEPS_KEPT_MAX) {
      steps.push({
        op: describeRef(model, operations[op]!),
        stateBefore: describe(state),
        stateAfter: describe(after),
      });
    }
    lift(next, prev, 2 * op, hasReturn[op] === 1);
    state = after;
  }
  const blocked: BlockedOperation[] = [];
  let blockedOmitted = 0;
  const HEAD = 2 * operations.length;
  for (let e = next[HEAD]!; e < HEAD && (e & 1) === 0; e = next[e]!) {
    const op = e >> 1;
    if (blocked.length >= BLOCKED_KEPT_MAX) {
      blockedOmitted++;
      continue;
    }
    const why = states.next(state, op) === ILLEGAL ? 'rejected' : 'dead-end';
    blocked.push({ op: describeRef(model, operations[op]!), stateBefore: describe(state), why });
  }
  return {
    steps,
    stepsOmitted: Math.max(0, prefix.length - STEPS_KEPT_MAX),
    state: describe(state),
    blocked,
    blockedOmitted,
  };
}
