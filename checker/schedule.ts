// How the keys of a check share the time and the memory. Keys are searched in rounds, a slice of
// steps each, smallest first, so a key that needs hours cannot starve one that is illegal at a
// glance. An illegal key decides the whole check: the others stop (unless allKeys asks for every
// key's counterexample). One memory budget covers every search held at once.
import {
  modelFor,
  partitions,
  combine,
  type CheckOptions,
  type CheckResult,
  type KeyResult,
} from './check.js';
import { buildCounterexample, type Counterexample } from './counterexample.js';
import type { HistoryEvent } from './history-types.js';
import { defaultMemoryBytesMax, MemoryBudget } from './memory.js';
import type { Model, Operation } from './model.js';
import type { KvState } from './models/kv.js';
import { PartitionSearch, type SearchOptions } from './search.js';

/** The reason of a key left unchecked because another key decided the verdict. */
export const NOT_CHECKED = 'not checked:';

/** Steps a key gets per round: small enough to be fair, large enough that switching is cheap. */
export const SLICE_STEPS = 1 << 14;
/** The search without the append pruning that may give a better counterexample: at most this long. */
const COUNTEREXAMPLE_SEARCH_MS = 250;
const COUNTEREXAMPLE_STEPS_MIN = 1 << 16;

interface Pending {
  key: string;
  ops: Operation[];
  search: PartitionSearch<KvState> | undefined;
  elapsedMs: number;
  result: KeyResult | undefined;
}

export class CheckRun {
  private readonly started = performance.now();
  private readonly deadline: number;
  private readonly model: Model<KvState>;
  private readonly budget: MemoryBudget;
  /** In key order (the result's order). */
  private readonly keys: Pending[];
  /** Not yet decided, smallest first. */
  private queue: Pending[];
  private decided = 0;
  private stopped: string | undefined;

  constructor(
    events: readonly HistoryEvent[],
    private readonly options: CheckOptions,
  ) {
    this.model = modelFor(options.model ?? 'kv');
    this.deadline = options.timeLimitMs === undefined ? Infinity : this.started + options.timeLimitMs;
    this.budget = new MemoryBudget(options.memoryBytesMax ?? defaultMemoryBytesMax());
    this.keys = partitions(events, options).map(([key, ops]) => ({
      key,
      ops,
      search: undefined,
      elapsedMs: 0,
      result: undefined,
    }));
    this.queue = [...this.keys].sort((a, b) => a.ops.length - b.ops.length);
  }

  /** One slice for every undecided key; true when the check is over. */
  round(): boolean {
    for (const pending of this.queue) {
      if (this.stopped !== undefined) break;
      if (performance.now() > this.deadline) {
        this.stopAll('time limit reached');
        break;
      }
      this.slice(pending);
    }
    this.queue = this.queue.filter((p) => p.result === undefined);
    if (this.stopped !== undefined) this.stopAll(this.stopped);
    return this.queue.length === 0;
  }

  private slice(pending: Pending): void {
    const started = performance.now();
    pending.search ??= new PartitionSearch(this.model, pending.ops, this.budget, this.searchOptions());
    const search = pending.search;
    const verdict = search.run(this.deadline, SLICE_STEPS);
    const ran = performance.now();
    pending.elapsedMs += ran - started;
    if (verdict === undefined) return;
    const result: KeyResult = {
      key: pending.key,
      verdict,
      operations: pending.ops.length,
      elapsedMs: 0,
      steps: search.steps,
    };
    if (search.reason !== undefined) result.reason = search.reason;
    if (verdict === 'illegal') {
      const counterexample = this.counterexample(pending.ops, search);
      if (counterexample !== undefined) result.counterexample = counterexample;
      if (this.options.allKeys !== true) this.stopped = `${NOT_CHECKED} key ${pending.key} is illegal`;
    }
    search.dispose();
    if (verdict === 'unknown' && search.reason === 'time limit reached') this.stopped = 'time limit reached';
    pending.elapsedMs += performance.now() - ran;
    this.decide(pending, result);
  }

  /**
   * The append pruning cuts a doomed branch early, so its longest partial linearizations stop
   * before the read that dooms them. When a search without it finishes within a small budget,
   * its partial linearizations are used instead: they end at the read the model rejects.
   */
  private counterexample(ops: Operation[], pruned: PartitionSearch<KvState>): Counterexample | undefined {
    const plain = new PartitionSearch(this.model, ops, this.budget, {
      ...this.searchOptions(),
      variant: 'plain',
    });
    const deadline = Math.min(this.deadline, performance.now() + COUNTEREXAMPLE_SEARCH_MS);
    const steps = Math.max(COUNTEREXAMPLE_STEPS_MIN, 10 * pruned.steps);
    const search = plain.run(deadline, steps) === 'illegal' ? plain : pruned;
    const counterexample = buildCounterexample(this.model, ops, search.states, search.prefixes);
    plain.dispose();
    return counterexample;
  }

  private searchOptions(): SearchOptions {
    return {
      absentIsEmpty: this.options.model === 'kv-absent-empty',
      prefixesMax: this.options.partialsMax ?? 3,
      ...(this.options.searchVariant === undefined ? {} : { variant: this.options.searchVariant }),
    };
  }

  private decide(pending: Pending, result: KeyResult): void {
    result.elapsedMs = pending.elapsedMs;
    pending.result = result;
    pending.search = undefined;
    this.decided++;
    this.options.onKey?.(result, this.decided, this.keys.length);
  }

  /** Every key still undecided ends unknown, with the reason. */
  private stopAll(reason: string): void {
    for (const pending of this.queue) {
      if (pending.result !== undefined) continue;
      const steps = pending.search?.steps ?? 0;
      pending.search?.dispose();
      this.decide(pending, {
        key: pending.key,
        verdict: 'unknown',
        operations: pending.ops.length,
        elapsedMs: 0,
        steps,
        reason,
      });
    }
    this.queue = [];
  }

  result(): CheckResult {
    const keys = this.keys.map((p) => p.result!);
    return {
      verdict: combine(keys.map((k) => k.verdict)),
      keys,
      elapsedMs: performance.now() - this.started,
      model: this.options.model ?? 'kv',
      operations: this.keys.reduce((sum, p) => sum + p.ops.length, 0),
      memoryBytesPeak: this.budget.bytesPeak,
    };
  }
}
