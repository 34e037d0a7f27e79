// Live progress of a run: elapsed and limit, ops/s, ok/fail/info, the faults in force. One
// refreshed line on a terminal; a plain line every few seconds otherwise (CI logs, pipes).
import { realClock, type LabClock, type LabTimer } from './clock.js';
import type { LabLog } from './lab-log.js';
import type { ActiveFault } from './nemesis/nemesis.js';
import type { WorkloadCounters } from './workload/workload.js';

export interface ProgressSource {
  counters: WorkloadCounters;
  faults: () => ActiveFault[];
}

export function progressLine(
  elapsedMs: number,
  limitMs: number,
  opsPerSec: number,
  source: ProgressSource,
): string {
  const { ok, fail, info } = source.counters;
  const faults = source.faults();
  const inForce = faults.length === 0 ? 'none' : faults.map((fault) => fault.detail).join('; ');
  const seconds = (ms: number) => `${Math.floor(ms / 1000)}s`;
  return `${seconds(elapsedMs)}/${seconds(limitMs)}  ${opsPerSec.toFixed(0)} ops/s  ok ${ok} fail ${fail} info ${info}  faults: ${inForce}`;
}

/** How often the line is refreshed. */
export const PROGRESS_REFRESH_MS = 500;

export class Progress {
  private timer: LabTimer | undefined;
  private lastPlainMs = 0;
  private lastCompleted = 0;
  private lastSampleMs = 0;
  private opsPerSec = 0;

  constructor(
    private readonly log: LabLog,
    private readonly source: ProgressSource,
    private readonly limitMs: number,
    private readonly plainEveryMs = 5000,
    private readonly clock: LabClock = realClock,
  ) {}

  start(): void {
    const startMs = this.clock.nowMs();
    this.lastSampleMs = startMs;
    this.refreshFrom(startMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.log.endStatus();
  }

  /** A one-shot timer re-armed after each refresh; unref'd, so it never keeps a finished lab alive. */
  private refreshFrom(startMs: number): void {
    this.timer = this.clock.schedule(PROGRESS_REFRESH_MS, () => {
      this.tick(startMs);
      if (this.timer !== undefined) this.refreshFrom(startMs);
    });
    this.timer.unref();
  }

  private tick(startMs: number): void {
    const nowMs = this.clock.nowMs();
    const { ok, fail, info } = this.source.counters;
    const completed = ok + fail + info;
    if (nowMs - this.lastSampleMs >= 1000) {
      this.opsPerSec = ((completed - this.lastCompleted) * 1000) / (nowMs - this.lastSampleMs);
      this.lastCompleted = completed;
      this.lastSampleMs = nowMs;
    }
    const line = progressLine(
      Math.min(nowMs - startMs, this.limitMs),
      this.limitMs,
      this.opsPerSec,
      this.source,
    );
    if (this.log.isTTY) {
      this.log.setStatus(line);
    } else if (nowMs - this.lastPlainMs >= this.plainEveryMs) {
      this.lastPlainMs = nowMs;
      this.log.say(line);
    }
  }
}
