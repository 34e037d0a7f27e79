// The clock failpoint: the driver reads time through a FaultClock, which the lab can make run fast
// or slow (rate) or jump (offset) at run time, without touching the host's clock (containers share
// the kernel's). Only the node's ticks see it, so only the timing of elections, heartbeats,
// check-quorum and leases changes: exactly what Raft assumes about clocks.
//
// Control: RAFTLAB_CLOCK_FILE names a JSON file {"rate": 0.2, "offsetMs": 0}; the server polls its
// modification time every CLOCK_FILE_POLL_MS and applies a change at once. A file, not a signal:
// Node keeps SIGUSR1 for its debugger, and SIGUSR2 is the power cut. Refused outside the lab.
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from '../../shared/log.js';
import { FailpointConfigError, LAB_RUN_ENV } from './failpoints.js';

export const CLOCK_FILE_ENV = 'RAFTLAB_CLOCK_FILE';
export const CLOCK_FILE_POLL_MS = 50;

export interface ClockSetting {
  /** Fault-clock milliseconds per real millisecond (1 = true rate; 0.2 = five times slow). */
  readonly rate: number;
  /** A jump applied once when the setting changes (negative = back in time). */
  readonly offsetMs: number;
}

export function checkClockSetting(value: unknown): ClockSetting {
  const v = value as Partial<ClockSetting> | null;
  const rate = v?.rate;
  const offsetMs = v?.offsetMs ?? 0;
  if (typeof rate !== 'number' || !(rate > 0 && rate <= 1000))
    throw new FailpointConfigError(`clock setting: rate must be a number in (0, 1000], got ${String(rate)}`);
  if (typeof offsetMs !== 'number' || !Number.isFinite(offsetMs))
    throw new FailpointConfigError(`clock setting: offsetMs must be a finite number`);
  return { rate, offsetMs };
}

/** Piecewise-linear time: continuous across rate changes, plus the jumps. */
export class FaultClock {
  private realAtChangeMs: number;
  private faultAtChangeMs: number;
  private rate = 1;

  constructor(private readonly realNow: () => number = () => performance.now()) {
    this.realAtChangeMs = realNow();
    this.faultAtChangeMs = this.realAtChangeMs;
  }

  now(): number {
    return this.faultAtChangeMs + (this.realNow() - this.realAtChangeMs) * this.rate;
  }

  set(setting: ClockSetting): void {
    const faultNow = this.now();
    this.realAtChangeMs = this.realNow();
    this.faultAtChangeMs = faultNow + setting.offsetMs;
    this.rate = setting.rate;
  }
}

/**
 * Starts polling the clock file when env names one; returns a stop function. Without the
 * variable the clock is left alone (true time) and nothing polls.
 */
export function watchClockFile(env: NodeJS.ProcessEnv, clock: FaultClock, logger: Logger): () => void {
  const file = env[CLOCK_FILE_ENV] ?? '';
  if (file === '') return () => undefined;
  if ((env[LAB_RUN_ENV] ?? '') === '')
    throw new FailpointConfigError(
      `${CLOCK_FILE_ENV} is set but ${LAB_RUN_ENV} is not: clock faults are for lab runs only`,
    );
  logger.warn(`CLOCK FAULTS enabled (lab only): reading ${file}`);
  let seenMs = -1;
  const poll = (): void => {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return; // no file yet: true time
    }
    if (mtimeMs === seenMs) return;
    seenMs = mtimeMs;
    try {
      const setting = checkClockSetting(JSON.parse(readFileSync(file, 'utf8')));
      clock.set(setting);
      logger.warn(`clock fault: rate ${setting.rate}, jump ${setting.offsetMs} ms`);
    } catch (error) {
      logger.error(`clock fault file ${file} ignored: ${(error as Error).message}`);
    }
  };
  poll();
  const timer = setInterval(poll, CLOCK_FILE_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
