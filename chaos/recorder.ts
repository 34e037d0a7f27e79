// Records the run's history: every event goes to disk as it happens (a streaming sink, so a crash
// leaves the history so far) and stays in memory for the check at the end.
import type { HistoryEvent } from '../checker/history-types.js';

export interface HistorySink {
  append(event: HistoryEvent): void;
}

/** Monotonic nanoseconds since the clock was made (the history's time base). */
export type Clock = () => number;

export function monotonicClock(): Clock {
  const origin = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - origin);
}

export class Recorder {
  readonly events: HistoryEvent[] = [];

  constructor(
    private readonly sink: HistorySink,
    readonly clock: Clock,
  ) {}

  record(event: HistoryEvent): void {
    this.events.push(event);
    this.sink.append(event);
  }

  now(): number {
    return this.clock();
  }
}
