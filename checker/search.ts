// The search for one partition: Wing & Gong's algorithm with Lowe's memoisation, laid out as in
// Porcupine but over typed arrays. Calls and returns form a doubly linked list in time order;
// linearizing an operation lifts its call and return out of the list (dancing links), and
// backtracking puts them back. Nothing is allocated in the loop. The search is resumable: `run`
// takes a number of steps and returns undefined when it needs more, so a check can interleave
// its keys and one hard key cannot starve the others.
import { AppendPrune } from './append-prune.js';
import { LinearizedCache, zobristKeys } from './cache.js';
import { DEAD_KEY, DeadValues } from './dead-value.js';
import { ILLEGAL as ILLEGAL_STATE, KvStates, OUT_OF_MEMORY as OUT_OF_MEMORY_STATE } from './kv-states.js';
import { formatMiB, type MemoryBudget } from './memory.js';
import type { Model, Operation } from './model.js';

// Local copies: a module-level constant inlines, an imported binding may not under every loader
// (under tsx each use was a getter call: a third of etcd_002's time).
const ILLEGAL = -1;
const OUT_OF_MEMORY = -4;
if (ILLEGAL !== ILLEGAL_STATE || OUT_OF_MEMORY !== OUT_OF_MEMORY_STATE)
  throw new Error('internal: state codes differ');

export type Verdict = 'ok' | 'illegal' | 'unknown';
export type SearchVariant =
  | 'plain'
  | 'eager'
  | 'eager-no-dead'
  | 'unsafe-prune-ignores-resets'
  | 'unsafe-dead-forgets-observers'
  | 'unsafe-needed-when-live';

export interface SearchOptions {
  /** Absent keys read as "" (Porcupine's kv histories). */
  absentIsEmpty: boolean;
  /** How many distinct longest partial linearizations to keep for the counterexample. */
  prefixesMax: number;
  /**
   * Tests and benchmarks only. 'plain': without the append pruning (to measure it and to check it
   * changes no verdict). 'eager': with it from the first step instead of after PRUNE_AFTER_STEPS
   * (so that small test histories exercise it). 'unsafe-prune-ignores-resets': eager, with the
   * pruning's most likely bug, forgetting that a put may come before a read; the property tests
   * must catch it. 'eager-no-dead': eager without the dead-value rules (dead-value.ts), to compare
   * them against. 'unsafe-dead-forgets-observers': eager, with the dead-value rules' most likely
   * bug, forcing an unobserved append first whether or not the value is dead.
   * 'unsafe-needed-when-live': eager, refusing an append a later read needs even when the value
   * it makes is not dead (the same bug in the other dead-value rule).
   */
  variant?: SearchVariant;
}

/** stackFlags bit: the level's operation was a forced move. */
const FORCED = 1;

/** Steps between two looks at the clock. */
const CHECK_EVERY_STEPS = 1 << 13;
/**
 * The append pruning starts once a key has taken this many steps: its setup and its checks cost
 * more than they save on the many small keys a simulator history has (30 % of the check of a
 * 2,000-operation put-heavy history), and a hard key does not notice its first 512 steps.
 */
const PRUNE_AFTER_STEPS = 512;
/** What the per-operation arrays of a search cost (lists, stacks, flags, Zobrist keys, bitset). */
const BYTES_PER_OPERATION = 64;

export class PartitionSearch<S> {
  readonly states: KvStates;
  private prune: AppendPrune | undefined;
  private dead: DeadValues | undefined;
  /** The pruning is still to be started (it starts after PRUNE_AFTER_STEPS, or at once if eager). */
  private pruneLater: boolean;
  private readonly operations: readonly Operation[];
  private readonly variant: SearchVariant | undefined;
  private readonly cache: LinearizedCache;
  private readonly n: number;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly hasReturn: Uint8Array;
  private readonly readOnly: Uint8Array;
  private readonly zobrist: Int32Array;
  private readonly bits: Uint32Array;
  private readonly stackEntry: Int32Array;
  private readonly stackState: Int32Array;
  /** Per level: FORCED (a forced move: its failure fails the level below too). */
  private readonly stackFlags: Uint8Array;
  private readonly best: BestPrefixes;
  private definiteLeft: number;
  private depth = 0;
  private state: number;
  private hash = 0;
  private entry: number;
  /** The entry chosen as a forced move at the current level (-1: none). */
  private forced = -1;
  private reservedBytes: number;
  steps = 0;
  verdict: Verdict | undefined;
  /** Why the verdict is unknown. */
  reason: string | undefined;

  constructor(
    model: Model<S>,
    operations: readonly Operation[],
    private readonly budget: MemoryBudget,
    options: SearchOptions,
  ) {
    const n = (this.n = operations.length);
    this.reservedBytes = budget.reserve(n * BYTES_PER_OPERATION) ? n * BYTES_PER_OPERATION : 0;
    const list = buildEntryList(operations);
    ({ next: this.next, prev: this.prev, hasReturn: this.hasReturn } = list);
    this.definiteLeft = list.definite;
    this.states = new KvStates(operations, options.absentIsEmpty, budget);
    this.operations = operations;
    this.variant = options.variant;
    this.pruneLater = options.variant === undefined;
    if (options.variant !== undefined && options.variant !== 'plain') this.startPrune(0);
    this.cache = new LinearizedCache(n, budget);
    this.zobrist = zobristKeys(n);
    this.bits = new Uint32Array(Math.max(1, Math.ceil(n / 32)));
    this.stackEntry = new Int32Array(n);
    this.stackState = new Int32Array(n);
    this.stackFlags = new Uint8Array(n);
    this.best = new BestPrefixes(options.prefixesMax, n);
    this.readOnly = readOnlyFlags(model, operations);
    this.state = this.states.initial;
    this.entry = firstChoice(this.next, 2 * n, this.readOnly, this.states, this.state);
    if (this.reservedBytes === 0 && n > 0) this.outOfMemory();
    else if (this.states.outOfMemory || !this.cache.usable) this.outOfMemory();
  }

  /** Creates the pruning and tells it what the current stack has placed. */
  private startPrune(depth: number): AppendPrune | undefined {
    this.pruneLater = false;
    const unsafe = this.variant === 'unsafe-prune-ignores-resets';
    this.prune = AppendPrune.create(this.states, this.operations, this.budget, unsafe);
    for (let i = 0; i < depth; i++) this.prune?.place(this.stackEntry[i]! >> 1);
    if (this.variant !== 'eager-no-dead') {
      this.dead = DeadValues.create(this.states, this.operations, this.budget);
      for (let i = 0; i < depth; i++) this.dead?.place(this.stackEntry[i]! >> 1);
    }
    return this.prune;
  }

  get bytes(): number {
    return this.reservedBytes + this.states.bytes + this.cache.bytes;
  }

  /** Longest partial linearizations found (partition-local operation indexes, in order). */
  get prefixes(): number[][] {
    return this.best.prefixes;
  }

  /** Gives back the search's memory; the states stay readable (for the counterexample). */
  dispose(): void {
    this.prune?.dispose(this.budget);
    this.dead?.dispose(this.budget);
    this.cache.dispose();
    this.states.dispose();
    this.budget.release(this.reservedBytes);
    this.reservedBytes = 0;
  }

  private outOfMemory(): Verdict {
    this.verdict = 'unknown';
    this.reason = `memory limit reached: the check's budget of ${formatMiB(this.budget.bytesMax)} is used up; this key held ${formatMiB(this.bytes)}`;
    return this.verdict;
  }

  /** The loop keeps its state in locals (a closure capturing them would move them to the heap). */
  private save(
    definiteLeft: number,
    depth: number,
    state: number,
    hash: number,
    entry: number,
    steps: number,
    forced: number,
  ): undefined {
    this.forced = forced;
    this.definiteLeft = definiteLeft;
    this.depth = depth;
    this.state = state;
    this.hash = hash;
    this.entry = entry;
    this.steps = steps;
    return undefined;
  }

  private finish(verdict: Verdict, reason?: string): Verdict {
    this.verdict = verdict;
    this.reason = reason;
    return verdict;
  }

  /**
   * Searches for at most about `stepsMax` steps (or until `deadline`, a performance.now() value).
   * Returns the verdict, or undefined when it needs more steps.
   */
  run(deadline: number, stepsMax: number): Verdict | undefined {
    if (this.verdict !== undefined) return this.verdict;
    if (this.n === 0) return this.finish('ok');
    const {
      next,
      prev,
      hasReturn,
      readOnly,
      zobrist,
      bits,
      stackEntry,
      stackState,
      stackFlags,
      states,
      cache,
    } = this;
    let prune = this.prune;
    let dead = this.dead;
    const unsafeForce = this.variant === 'unsafe-dead-forgets-observers';
    const unsafeNeeded = this.variant === 'unsafe-needed-when-live';
    const best = this.best;
    const HEAD = 2 * this.n;
    let { definiteLeft, depth, state, hash, entry, steps, forced } = this;
    const pruneAt = this.pruneLater ? Math.max(steps + 1, PRUNE_AFTER_STEPS) : -1;
    const stepsEnd = steps + stepsMax;
    // The loop stays in one function on purpose: its state lives in locals (registers), and it is
    // where nearly all of the checker's time goes.
    search: while (definiteLeft > 0) {
      if (++steps === pruneAt) {
        prune = this.startPrune(depth);
        dead = this.dead;
      }
      if (steps % CHECK_EVERY_STEPS === 0) {
        if (performance.now() > deadline) {
          this.save(definiteLeft, depth, state, hash, entry, steps, forced);
          return this.finish('unknown', 'time limit reached');
        }
        if (steps >= stepsEnd) return this.save(definiteLeft, depth, state, hash, entry, steps, forced);
      }
      if ((entry & 1) === 0 && entry < HEAD) {
        // A call: try to linearize its operation now.
        const op = entry >> 1;
        const isForced = entry === forced;
        let after = states.next(state, op);
        if (after === OUT_OF_MEMORY) {
          this.save(definiteLeft, depth, state, hash, entry, steps, forced);
          return this.outOfMemory();
        }
        // The value can only grow from here, and a read still to come cannot see it grown: dead.
        // The counterexample shows the pruned step: the model allows it, only nothing can follow.
        if (after >= 0 && prune !== undefined && prune.check(after, op) === ILLEGAL) {
          if (depth + 1 >= best.length) {
            stackEntry[depth] = entry;
            best.offer(stackEntry, depth + 1);
          }
          after = ILLEGAL;
        }
        // A dead value (dead-value.ts) is overwritten before anyone reads it, so an append that a
        // later read needs cannot make one (append-parse.ts).
        let isDead = false;
        if (after >= 0 && dead !== undefined) {
          isDead = dead.isDead(after, op);
          if ((isDead || unsafeNeeded) && dead.isNeeded(op)) after = ILLEGAL;
        }
        // An info operation that would change nothing here is skipped: leaving it out of a
        // linearization is always allowed, and deleting a step that changes no state keeps every
        // other step valid, so some linearization exists without it if any exists with it.
        if (after !== ILLEGAL && (after !== state || hasReturn[op] === 1)) {
          bits[op >> 5]! ^= 1 << (op & 31);
          // Dead values are one configuration (dead-value.ts): one memo key for all of them.
          const added = cache.insertIfAbsent(bits, hash ^ zobrist[op]!, isDead ? DEAD_KEY : after);
          if (added === 1) {
            hash ^= zobrist[op]!;
            stackEntry[depth] = entry;
            stackState[depth] = state;
            stackFlags[depth] = isForced ? FORCED : 0;
            depth++;
            state = after;
            if (hasReturn[op] === 1) definiteLeft--;
            prune?.place(op);
            dead?.place(op);
            lift(next, prev, entry, hasReturn[op] === 1);
            forced =
              dead !== undefined && (isDead || unsafeForce)
                ? forcedWrite(next, HEAD, dead.unobserved, hasReturn, states, state)
                : -1;
            entry = forced >= 0 ? forced : firstChoice(next, HEAD, readOnly, states, state);
            continue;
          }
          bits[op >> 5]! ^= 1 << (op & 31);
          if (added === -1) {
            this.save(definiteLeft, depth, state, hash, entry, steps, forced);
            return this.outOfMemory();
          }
          // A legal read-only operation or a forced move whose successor configuration already
          // failed: see below.
          if (readOnly[op] === 0 && !isForced) {
            entry = next[entry]!;
            continue;
          }
        } else if (!isForced) {
          entry = next[entry]!;
          continue;
        }
      }
      // A return (or the end): its operation was not linearized in time; undo the last choice.
      // Pruning (partial-order reduction): a read-only operation that is legal now may as well be
      // linearized now. All operations that must precede it are already placed (it is before the
      // first pending return), and moving it earlier changes no state. So once the configuration
      // after it has failed, every other choice at this level fails too: keep backtracking. The
      // same holds for a forced move (dead-value.ts).
      best.offer(stackEntry, depth);
      for (;;) {
        if (depth === 0) {
          this.save(definiteLeft, depth, state, hash, entry, steps, forced);
          return this.finish('illegal');
        }
        depth--;
        entry = stackEntry[depth]!;
        state = stackState[depth]!;
        const op = entry >> 1;
        bits[op >> 5]! ^= 1 << (op & 31);
        hash ^= zobrist[op]!;
        if (hasReturn[op] === 1) definiteLeft++;
        prune?.unplace(op);
        dead?.unplace(op);
        unlift(next, prev, entry, hasReturn[op] === 1);
        if (readOnly[op] === 0 && (stackFlags[depth]! & FORCED) === 0) break;
      }
      forced = -1;
      entry = next[entry]!;
      continue search;
    }
    this.save(definiteLeft, depth, state, hash, entry, steps, forced);
    return this.finish('ok');
  }
}

/** 1 for each operation the model says never changes the state. */
function readOnlyFlags<S>(model: Model<S>, operations: readonly Operation[]): Uint8Array {
  const flags = new Uint8Array(operations.length);
  operations.forEach((o, op) => {
    if (model.readOnly?.(o.input, o.output) === true) flags[op] = 1;
  });
  return flags;
}

/**
 * In a dead value (dead-value.ts): the first candidate write that no observation can show, which
 * may go first; -1 when there is none.
 */
function forcedWrite(
  next: Int32Array,
  head: number,
  unobserved: Uint8Array,
  hasReturn: Uint8Array,
  states: KvStates,
  state: number,
): number {
  for (let e = next[head]!; (e & 1) === 0 && e < head; e = next[e]!) {
    const op = e >> 1;
    if (unobserved[op] === 0) continue;
    // An info write that changes nothing is skipped, not placed (see the loop): not a move.
    if (hasReturn[op] === 0 && states.next(state, op) === state) continue;
    return e;
  }
  return -1;
}

/**
 * Where to start at a new configuration: a read-only operation already known to be legal here
 * if there is one among the candidates (see the pruning note in the loop: it may go first, and
 * then no sibling needs trying), else the first entry.
 */
function firstChoice(
  next: Int32Array,
  head: number,
  readOnly: Uint8Array,
  states: KvStates,
  state: number,
): number {
  for (let e = next[head]!; (e & 1) === 0 && e < head; e = next[e]!) {
    const op = e >> 1;
    if (readOnly[op] === 1 && states.next(state, op) >= 0) return e;
  }
  return next[head]!;
}

export interface EntryList {
  next: Int32Array;
  prev: Int32Array;
  /** 1 when the operation returned (its return entry is 2*op+1); 0 for info operations. */
  hasReturn: Uint8Array;
  /** Operations with a return: the search is done when all of them are linearized. */
  definite: number;
}

/**
 * Entry 2*op is op's call, 2*op+1 its return; 2n is the head and 2n+1 the tail sentinel.
 * Intervals are closed: at equal times a call sorts before a return, so two operations whose
 * times touch count as concurrent. Clocks have finite resolution and equal readings do not prove
 * that one operation ended before the other began; treating them as concurrent only admits more
 * orders, so it can never report a correct history as illegal.
 * Operations that never returned (info) get no return entry: they may be linearized any time
 * after their call, and once every returned operation is placed the rest can go at the end
 * (their outputs are unknown, so the model accepts them), i.e. effectively never.
 */
export function buildEntryList(operations: readonly Operation[]): EntryList {
  const n = operations.length;
  const hasReturn = new Uint8Array(n);
  const order: number[] = [];
  let definite = 0;
  for (let op = 0; op < n; op++) {
    order.push(2 * op);
    if (Number.isFinite(operations[op]!.ret)) {
      hasReturn[op] = 1;
      definite++;
      order.push(2 * op + 1);
    }
  }
  const time = new Float64Array(2 * n);
  for (let op = 0; op < n; op++) {
    time[2 * op] = operations[op]!.call;
    time[2 * op + 1] = operations[op]!.ret;
  }
  order.sort((a, b) => time[a]! - time[b]! || (a & 1) - (b & 1) || a - b);
  const next = new Int32Array(2 * n + 2);
  const prev = new Int32Array(2 * n + 2);
  let last = 2 * n;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = 2 * n + 1;
  prev[2 * n + 1] = last;
  next[2 * n + 1] = 2 * n + 1;
  return { next, prev, hasReturn, definite };
}

export function lift(next: Int32Array, prev: Int32Array, call: number, withReturn: boolean): void {
  next[prev[call]!] = next[call]!;
  prev[next[call]!] = prev[call]!;
  if (!withReturn) return;
  const ret = call + 1;
  next[prev[ret]!] = next[ret]!;
  prev[next[ret]!] = prev[ret]!;
}

export function unlift(next: Int32Array, prev: Int32Array, call: number, withReturn: boolean): void {
  if (withReturn) {
    const ret = call + 1;
    next[prev[ret]!] = ret;
    prev[next[ret]!] = ret;
  }
  next[prev[call]!] = call;
  prev[next[call]!] = call;
}

/**
 * Keeps the longest partial linearizations (as operation indexes), a few with distinct ends.
 * The search offers its stack when it starts backtracking, i.e. at each local peak, so a run
 * that climbs straight to success copies nothing, and copies go into preallocated buffers.
 */
class BestPrefixes {
  /** The length of the longest partial linearization so far. */
  length = 0;
  private readonly buffers: Int32Array[] = [];
  private count = 0;

  constructor(
    private readonly max: number,
    private readonly operations: number,
  ) {}

  offer(stack: Int32Array, depth: number): void {
    if (depth < this.length || depth === 0) return;
    if (depth > this.length) {
      this.length = depth;
      this.count = 0;
    } else if (this.count >= this.max) return;
    const lastOp = stack[depth - 1]! >> 1;
    for (let i = 0; i < this.count; i++) if (this.buffers[i]![depth - 1] === lastOp) return;
    if (this.buffers.length === this.count) this.buffers.push(new Int32Array(this.operations));
    const buffer = this.buffers[this.count++]!;
    for (let i = 0; i < depth; i++) buffer[i] = stack[i]! >> 1;
  }

  /** The prefixes found; the empty one when no operation could be placed at all. */
  get prefixes(): number[][] {
    if (this.count === 0) return [[]];
    return this.buffers.slice(0, this.count).map((b) => Array.from(b.subarray(0, this.length)));
  }
}
