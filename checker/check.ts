// checkHistory: split the history into independent partitions (by key for the KV store:
// P-compositionality), search each one, and combine the verdicts.
import { buildCounterexample, type Counterexample } from './counterexample.js';
import type { HistoryEvent } from './history-types.js';
import type { Model, Operation } from './model.js';
import { kvModel, type KvState } from './models/kv.js';
import { registerModel } from './models/register.js';
import { toOperations } from './operations.js';
import { searchPartition, type Verdict } from './search.js';

export type { Verdict } from './search.js';

export type ModelName = 'kv' | 'kv-absent-empty' | 'register';
export const MODEL_NAMES: readonly ModelName[] = ['kv', 'kv-absent-empty', 'register'];

export interface KeyResult {
  key: string;
  verdict: Verdict;
  operations: number;
  elapsedMs: number;
  /** Why the verdict is unknown (time or memory limit). */
  reason?: string;
  /** Search steps taken (a measure of how hard the key was). */
  steps: number;
  /** For an illegal key: the longest partial linearizations and what could not come next. */
  counterexample?: Counterexample;
}

export interface CheckResult {
  verdict: Verdict;
  keys: KeyResult[];
  elapsedMs: number;
  model: ModelName;
  operations: number;
}

export interface CheckOptions {
  /** The whole check's time budget; keys not finished by then are `unknown`. Default: none. */
  timeLimitMs?: number;
  /** Default 'kv'. 'register' checks the whole history as one register (Jepsen etcd logs). */
  model?: ModelName;
  /** Memory for one key's search (memo table and transitions), else `unknown`. Default 1 GiB. */
  memoryBytesMax?: number;
  /** Distinct longest partial linearizations kept per illegal key. Default 3. */
  partialsMax?: number;
  /** Only check these keys (the parallel checker gives each worker its share). */
  keys?: readonly string[];
  /** Called after each key checked on the calling thread (progress for long checks). */
  onKey?: (result: KeyResult, done: number, total: number) => void;
}

export const MEMORY_BYTES_MAX_DEFAULT = 1 << 30;

export function modelFor(name: ModelName): Model<KvState> {
  if (name === 'register') return registerModel();
  return kvModel({ absentIsEmpty: name === 'kv-absent-empty' });
}

/** Partitions in a stable order: keys sorted numerically when they are numbers, else by text. */
export function partitions(
  events: readonly HistoryEvent[],
  options: CheckOptions = {},
): [string, Operation[]][] {
  const name = options.model ?? 'kv';
  // The register model is one partition whatever the keys; a kv model converts only wanted keys.
  const only = options.keys === undefined || name === 'register' ? undefined : new Set(options.keys);
  const operations = toOperations(events, only);
  if (name === 'register') {
    const other = operations.find((op) => op.input.f === 'delete' || op.input.f === 'append');
    if (other !== undefined) throw new Error(`the register model has no ${other.input.f}; use --model kv`);
  }
  const parts = [...modelFor(name).partition(operations)];
  parts.sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const wanted = options.keys === undefined ? undefined : new Set(options.keys);
  return wanted === undefined ? parts : parts.filter(([key]) => wanted.has(key));
}

export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions = {}): CheckResult {
  const started = performance.now();
  const name = options.model ?? 'kv';
  const model = modelFor(name);
  const deadline = options.timeLimitMs === undefined ? Infinity : started + options.timeLimitMs;
  const keys: KeyResult[] = [];
  let operations = 0;
  const parts = partitions(events, options);
  for (const [key, ops] of parts) {
    operations += ops.length;
    keys.push(checkPartition(model, key, ops, deadline, options));
    options.onKey?.(keys[keys.length - 1]!, keys.length, parts.length);
  }
  return {
    verdict: combine(keys.map((k) => k.verdict)),
    keys,
    elapsedMs: performance.now() - started,
    model: name,
    operations,
  };
}

export function checkPartition<S>(
  model: Model<S>,
  key: string,
  ops: readonly Operation[],
  deadline: number,
  options: CheckOptions,
): KeyResult {
  const started = performance.now();
  const limits = {
    deadline,
    memoryBytesMax: options.memoryBytesMax ?? MEMORY_BYTES_MAX_DEFAULT,
    prefixesMax: options.partialsMax ?? 3,
  };
  const search = searchPartition(model, ops, limits);
  const result: KeyResult = {
    key,
    verdict: search.verdict,
    operations: ops.length,
    elapsedMs: 0,
    steps: search.steps,
  };
  if (search.reason !== undefined) result.reason = search.reason;
  if (search.verdict === 'illegal') {
    result.counterexample = buildCounterexample(model, ops, search.table, search.initial, search.prefixes);
  }
  result.elapsedMs = performance.now() - started;
  return result;
}

/** Illegal if any part is; else unknown if any part is; else ok (an empty history is ok). */
export function combine(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('illegal')) return 'illegal';
  if (verdicts.includes('unknown')) return 'unknown';
  return 'ok';
}
