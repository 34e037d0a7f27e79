// A lab clock for tests: time stands still until the test advances it, and then jumps from one due
// timer to the next, letting promise callbacks run between firings. A nemesis or workload test thus
// runs seconds of schedule in milliseconds, with exact times, and no fixed sleep.
import type { LabClock, LabTimer } from '../chaos/clock.js';

interface Pending {
  dueMs: number;
  order: number;
  fire: () => void;
}

/** Lets every callback queued by settled promises (and their follow-ups) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements LabClock {
  private now = 0;
  private order = 0;
  private readonly pending = new Set<Pending>();

  nowMs(): number {
    return this.now;
  }

  schedule(ms: number, fire: () => void): LabTimer {
    const entry = { dueMs: this.now + Math.max(0, ms), order: this.order++, fire };
    this.pending.add(entry);
    return { cancel: () => void this.pending.delete(entry), unref: () => undefined };
  }

  /** Timers not yet fired (a finished component should leave none behind). */
  pendingCount(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in due order. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.now + ms;
    await settle();
    for (let next = this.nextDue(targetMs); next !== undefined; next = this.nextDue(targetMs)) {
      this.pending.delete(next);
      this.now = next.dueMs;
      next.fire();
      await settle();
    }
    this.now = targetMs;
  }

  /** Advances until `promise` settles, `stepMs` at a time, failing after `limitMs` of fake time. */
  async until<T>(promise: Promise<T>, stepMs = 10, limitMs = 3_600_000): Promise<T> {
    let done = false;
    const watched = promise.finally(() => (done = true));
    const startMs = this.now;
    while (!done) {
      if (this.now - startMs > limitMs) throw new Error(`still pending after ${limitMs} ms of fake time`);
      await this.advance(stepMs);
    }
    return watched;
  }

  private nextDue(targetMs: number): Pending | undefined {
    let best: Pending | undefined;
    for (const entry of this.pending) {
      if (entry.dueMs > targetMs) continue;
      if (
        best === undefined ||
        entry.dueMs < best.dueMs ||
        (entry.dueMs === best.dueMs && entry.order < best.order)
      )
        best = entry;
    }
    return best;
  }
}
