// The lab's time: a monotonic millisecond reading and one-shot timers. The nemesis, the workload and
// the progress line take it as a parameter, so their tests run on a fake clock (test-support/
// fake-clock.ts) that jumps from timer to timer instead of waiting: exact, and no fixed sleeps.

export interface LabTimer {
  cancel(): void;
  /** Lets the process exit while only this timer is pending (for the progress line). */
  unref(): void;
}

export interface LabClock {
  /** Monotonic milliseconds (performance.now() on the real clock). */
  nowMs(): number;
  /** Calls `fire` once, `ms` from now (at once for ms <= 0, after the current turn). */
  schedule(ms: number, fire: () => void): LabTimer;
}

export const realClock: LabClock = {
  nowMs: () => performance.now(),
  schedule(ms, fire) {
    const timer = setTimeout(fire, Math.max(0, ms));
    return { cancel: () => clearTimeout(timer), unref: () => void timer.unref() };
  },
};
