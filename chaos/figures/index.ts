// The figures of a run, computed in one place from its history: `lab run`, `lab analyze` and
// `lab down` store them in results.json (resultsFigures), and the report, `lab show` and `lab
// serve` display the same RunFigures, so no two views can disagree.
import type { HistoryEvent, OpName } from '../../checker/history-types.js';
import type { FaultRecord, LatencyQuantilesMs, OutcomeCounts, RunResults } from '../results-types.js';
import { faultPeriods, historyEndNs, pairOperations, type Operation } from './operations.js';
import {
  availability,
  countOutcomes,
  latencyQuantiles,
  type Availability,
  type CountsByOp,
} from './stats.js';

export interface RunFigures {
  operations: Operation[];
  faults: FaultRecord[];
  /** Time of the last event, nanoseconds since the run's start. */
  endNs: number;
  counts: CountsByOp;
  latency: Map<OpName, LatencyQuantilesMs>;
  availability: Availability;
}

/** `faults`: the periods to split availability by, when the history holds none (only results.json survived). */
export function runFigures(
  events: readonly HistoryEvent[],
  fallbackFaults: readonly FaultRecord[] = [],
): RunFigures {
  const operations = pairOperations(events);
  const endNs = historyEndNs(events);
  const fromHistory = faultPeriods(events);
  const faults = fromHistory.length > 0 ? fromHistory : [...fallbackFaults];
  return {
    operations,
    faults,
    endNs,
    counts: countOutcomes(operations),
    latency: latencyQuantiles(operations),
    availability: availability(operations, faults, endNs),
  };
}

/** results.json's part: counts without pending operations, latencies to the microsecond, shares to 0.01 %. */
export function resultsFigures(
  figures: RunFigures,
): Pick<RunResults, 'counts' | 'latencyMs' | 'availability' | 'faults'> {
  const outcome = ({ ok, fail, info }: OutcomeCounts): OutcomeCounts => ({ ok, fail, info });
  const byOperation: Partial<Record<OpName, OutcomeCounts>> = {};
  for (const [f, counts] of figures.counts.byOperation) byOperation[f] = outcome(counts);
  const latencyMs: Partial<Record<OpName, LatencyQuantilesMs>> = {};
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  for (const [f, q] of figures.latency)
    latencyMs[f] = {
      p50: round(q.p50),
      p95: round(q.p95),
      p99: round(q.p99),
      max: round(q.max),
      count: q.count,
    };
  const share = (value: number | null) => (value === null ? null : Math.round(value * 10_000) / 10_000);
  const { duringFaults, outsideFaults, overall } = figures.availability;
  return {
    counts: { total: outcome(figures.counts.total), byOperation },
    latencyMs,
    availability: {
      duringFaults: share(duringFaults),
      outsideFaults: share(outsideFaults),
      overall: share(overall),
    },
    faults: figures.faults,
  };
}

/** The history-derived part of results.json, straight from the events. */
export function historyFigures(events: readonly HistoryEvent[]): ReturnType<typeof resultsFigures> {
  return resultsFigures(runFigures(events));
}
