// checkHistory: split the history into independent partitions (by key for the KV store:
// P-compositionality), search each one, and combine the verdicts.
import type { Counterexample } from './counterexample.js';
import type { HistoryEvent } from './history-types.js';
import type { Model, Operation } from './model.js';
import { kvModel, type KvState } from './models/kv.js';
import { registerModel } from './models/register.js';
import { toOperations } from './operations.js';
import { CheckRun } from './schedule.js';
import type { SearchVariant, Verdict } from './search.js';

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
  /** The most memory the searches held at once (bytes, as counted against memoryBytesMax). */
  memoryBytesPeak: number;
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
  /**
   * Memory for the whole check: every key's states, memo table and prefix hashes together. A key
   * that needs more ends `unknown` (memory limit) and gives its memory back to the others.
   * Default: a quarter of the machine's memory.
   */
  memoryBytesMax?: number;
  /** Tests and benchmarks only: a search variant (see SearchOptions.variant). */
  searchVariant?: SearchVariant;
  /** Check every key even after one is illegal (to get every key's counterexample). Default false. */
  allKeys?: boolean;
  /** Distinct longest partial linearizations kept per illegal key. Default 3. */
  partialsMax?: number;
  /** Only check these keys (the parallel checker gives each worker its share). */
  keys?: readonly string[];
  /** Called after each key is decided (progress for long checks). */
  onKey?: (result: KeyResult, done: number, total: number) => void;
}

export function modelFor(name: ModelName): Model<KvState> {
  if (name === 'register') return registerModel();
  return kvModel({ absentIsEmpty: name === 'kv-absent-empty' });
}

/**
 * Key order: numbers numerically, else by text. One collator for every check: localeCompare with a
 * locale and options builds one per comparison (a simulator checks a history per seed).
 */
const KEY_ORDER = new Intl.Collator('en', { numeric: true });

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
  parts.sort(([a], [b]) => KEY_ORDER.compare(a, b));
  const wanted = options.keys === undefined ? undefined : new Set(options.keys);
  return wanted === undefined ? parts : parts.filter(([key]) => wanted.has(key));
}

export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions = {}): CheckResult {
  const run = new CheckRun(events, options);
  while (!run.round());
  return run.result();
}

/** Illegal if any part is; else unknown if any part is; else ok (an empty history is ok). */
export function combine(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('illegal')) return 'illegal';
  if (verdicts.includes('unknown')) return 'unknown';
  return 'ok';
}
