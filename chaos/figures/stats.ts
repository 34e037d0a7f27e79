// A run's numbers: counts, latency quantiles, availability and throughput, all computed from the
// paired operations, once, for results.json, the report, `lab show` and `lab serve` alike.
import type { OpName } from '../../checker/history-types.js';
import type { FaultRecord, LatencyQuantilesMs, OutcomeCounts } from '../results-types.js';
import { latencyMs, type Operation } from './operations.js';

export interface CountsByOp {
  total: OutcomeCounts & { pending: number };
  byOperation: Map<OpName, OutcomeCounts & { pending: number }>;
}

export function countOutcomes(operations: readonly Operation[]): CountsByOp {
  const zero = (): OutcomeCounts & { pending: number } => ({ ok: 0, fail: 0, info: 0, pending: 0 });
  const total = zero();
  const byOperation = new Map<OpName, OutcomeCounts & { pending: number }>();
  for (const op of operations) {
    const counts = byOperation.get(op.f) ?? zero();
    byOperation.set(op.f, counts);
    counts[op.outcome] += 1;
    total[op.outcome] += 1;
  }
  return { total, byOperation };
}

/** Nearest-rank quantile of sorted values (q in [0, 1]). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Latency quantiles of the operations that completed ok, by operation. */
export function latencyQuantiles(operations: readonly Operation[]): Map<OpName, LatencyQuantilesMs> {
  const samples = new Map<OpName, number[]>();
  for (const op of operations) {
    const latency = latencyMs(op);
    if (op.outcome !== 'ok' || latency === null) continue;
    const list = samples.get(op.f) ?? [];
    samples.set(op.f, list);
    list.push(latency);
  }
  const result = new Map<OpName, LatencyQuantilesMs>();
  for (const [f, list] of [...samples].sort((a, b) => a[0].localeCompare(b[0]))) {
    list.sort((a, b) => a - b);
    const [p50, p95, p99] = [0.5, 0.95, 0.99].map((q) => quantile(list, q)) as [number, number, number];
    result.set(f, { p50, p95, p99, max: list[list.length - 1] ?? Number.NaN, count: list.length });
  }
  return result;
}

export function inAnyFault(timeNs: number, faults: readonly FaultRecord[], endNs: number): boolean {
  return faults.some((f) => timeNs >= f.startTime && timeNs <= (f.stopTime ?? endNs));
}

export interface Availability {
  duringFaults: number | null;
  outsideFaults: number | null;
  overall: number | null;
  /** How many operations each share is over. */
  duringCount: number;
  outsideCount: number;
}

/**
 * Share of operations answered, by whether they were invoked while a fault was in force. A cas
 * that found another value was answered; an operation still pending or given up (info) was not.
 */
export function availability(
  operations: readonly Operation[],
  faults: readonly FaultRecord[],
  endNs: number,
): Availability {
  const during = { answered: 0, all: 0 };
  const outside = { answered: 0, all: 0 };
  for (const op of operations) {
    const bucket = inAnyFault(op.invokeNs, faults, endNs) ? during : outside;
    bucket.all += 1;
    if (op.outcome === 'ok' || op.error === 'CAS_MISMATCH') bucket.answered += 1;
  }
  const share = (b: { answered: number; all: number }): number | null =>
    b.all === 0 ? null : b.answered / b.all;
  return {
    duringFaults: share(during),
    outsideFaults: share(outside),
    overall: share({ answered: during.answered + outside.answered, all: during.all + outside.all }),
    duringCount: during.all,
    outsideCount: outside.all,
  };
}

export interface ThroughputBin {
  startS: number;
  outcome: Exclude<Operation['outcome'], 'pending'>;
  opsPerS: number;
}

/** Completions per second by outcome, in bins sized so a run has at most `binsMax` of them. */
export function throughput(
  operations: readonly Operation[],
  endNs: number,
  binsMax = 120,
): { binS: number; bins: ThroughputBin[] } {
  const endS = Math.max(endNs / 1e9, 1e-3);
  const binS = niceBin(endS / binsMax);
  const counts = new Map<string, number>();
  for (const op of operations) {
    if (op.outcome === 'pending' || op.completeNs === null) continue;
    const bin = Math.floor(op.completeNs / 1e9 / binS);
    const id = `${bin}|${op.outcome}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const bins: ThroughputBin[] = [];
  for (const [id, count] of counts) {
    const [bin, outcome] = id.split('|') as [string, ThroughputBin['outcome']];
    bins.push({ startS: Number(bin) * binS, outcome, opsPerS: count / binS });
  }
  bins.sort((a, b) => a.startS - b.startS || a.outcome.localeCompare(b.outcome));
  return { binS, bins };
}

/** The smallest of 0.1, 0.2, 0.5, 1, 2, 5, 10 ... seconds that is at least `seconds`. */
export function niceBin(seconds: number): number {
  for (let scale = 0.1; ; scale *= 10) {
    for (const step of [1, 2, 5]) if (step * scale >= seconds) return Number((step * scale).toPrecision(3));
  }
}
