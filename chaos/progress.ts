// Live progress of a run: elapsed and limit, ops/s, ok/fail/info, the faults in force. One
// refreshed line on a terminal; a plain line every few seconds otherwise (CI logs, pipes).
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

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private lastPlainMs = 0;
  private lastCompleted = 0;
  private lastSampleMs = 0;
  private opsPerSec = 0;

  constructor(
    private readonly log: LabLog,
    private readonly source: ProgressSource,
    private readonly limitMs: number,
    private readonly plainEveryMs = 5000,
  ) {}

  start(): void {
    const startMs = performance.now();
    this.lastSampleMs = startMs;
    this.timer = setInterval(() => this.tick(startMs), 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.log.endStatus();
  }

  private tick(startMs: number): void {
    const nowMs = performance.now();
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
