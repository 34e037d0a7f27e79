// checkHistoryAsync: the same check as checkHistory, giving the event loop a turn between rounds so
// a long check does not freeze the process it runs in (progress lines, signals, timers).
//
// Earlier versions split keys over worker threads. Each worker had its own memory and its own
// clock, which made one budget for the whole check impossible, and on the 2-core machine the
// workers were slower than one thread (BENCHMARKS.md); keys now share one thread in fair slices.
import { setImmediate as turn } from 'node:timers/promises';
import type { CheckOptions, CheckResult } from './check.js';
import type { HistoryEvent } from './history-types.js';
import { CheckRun } from './schedule.js';

/** How long a check runs before it lets the event loop in. */
const TURN_EVERY_MS = 50;

export async function checkHistoryAsync(
  events: readonly HistoryEvent[],
  options: CheckOptions = {},
): Promise<CheckResult> {
  const run = new CheckRun(events, options);
  let since = performance.now();
  while (!run.round()) {
    if (performance.now() - since < TURN_EVERY_MS) continue;
    await turn();
    since = performance.now();
  }
  return run.result();
}
