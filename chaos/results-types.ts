// The shape of results.json in each run folder (histories/<name>/<timestamp>/), written by `lab run`
// and `lab analyze`, read by the reports, `lab serve` and `lab show`.
import type { OpName } from '../checker/history-types.js';

export type RunVerdict = 'valid' | 'invalid' | 'unknown' | 'incomplete';

export interface OutcomeCounts {
  ok: number;
  fail: number;
  info: number;
}

export interface LatencyQuantilesMs {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

export interface KeyVerdict {
  key: string;
  verdict: 'ok' | 'illegal' | 'unknown';
  operations: number;
  /** Path of the counterexample view, relative to the run folder, for an illegal key. */
  view?: string;
}

export interface FaultRecord {
  fault: string;
  detail: string;
  nodes: string[];
  /** Nanoseconds since the run's start, as in the history. */
  startTime: number;
  stopTime: number | null;
}

/** Snapshot events the node logs report (chaos/snapshot-events.ts). */
export interface SnapshotCounts {
  taken: number;
  sent: number;
  installed: number;
}
export interface SnapshotEvents extends SnapshotCounts {
  byNode: Record<string, SnapshotCounts>;
}

export interface RunResults {
  name: string;
  /** ISO time the run started. */
  startedAt: string;
  finishedAt: string | null;
  verdict: RunVerdict;
  /** The command that replays this run (same options and seed). */
  replayCommand: string;
  seed: number;
  runtime: 'docker' | 'local';
  options: Record<string, unknown>;
  nodes: string[];
  nemesis: string[];
  counts: { total: OutcomeCounts; byOperation: Partial<Record<OpName, OutcomeCounts>> };
  latencyMs: Partial<Record<OpName, LatencyQuantilesMs>>;
  /** Share of operations that completed ok, during faults and outside them. */
  availability: { duringFaults: number | null; outsideFaults: number | null; overall: number | null };
  faults: FaultRecord[];
  checker: { verdict: 'ok' | 'illegal' | 'unknown'; elapsedMs: number; keys: KeyVerdict[] };
  /** Relative paths of the node logs in the run folder. */
  nodeLogs: Record<string, string>;
  /**
   * True when the run did not finish (Ctrl-C, the lab failed, or the lab died): the figures and the
   * verdict cover the history recorded so far, and `error` says why it stopped.
   */
  partial?: boolean;
  error?: string;
  /**
   * Nodes that stopped on a broken Raft invariant, from their logs (chaos/invariant-violations.ts);
   * any makes the verdict invalid.
   */
  invariantViolations?: { node: string; message: string }[];
  /** Snapshots taken, sent and installed, from the node logs; absent when no log was read. */
  snapshots?: SnapshotEvents;
}
