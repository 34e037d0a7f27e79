// Timers the lab can cancel: a stop (time limit, Ctrl-C) must not wait out a long gap. Both take the
// lab's clock, so a test on a fake clock controls when they fire.
import { realClock, type LabClock } from './clock.js';

/** Resolves after `ms`, or at once when the signal aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal, clock: LabClock = realClock): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = clock.schedule(ms, done);
    function done(): void {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Rejects with `onTimeout()` if the promise has not settled within `ms`. */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  clock: LabClock = realClock,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.schedule(ms, () => reject(onTimeout()));
    promise.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (error: unknown) => {
        timer.cancel();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
