import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import { LabLog } from './lab-log.js';
import { Progress, type ProgressSource } from './progress.js';

/** A source whose counters grow by `opsPerSec` ok operations per second of fake time. */
function steadySource(clock: FakeClock, opsPerSec: number): ProgressSource {
  return {
    counters: {
      invoked: 0,
      get ok() {
        return Math.floor((clock.nowMs() * opsPerSec) / 1000);
      },
      fail: 0,
      info: 0,
      firstInvokeNs: null,
    },
    faults: () =>
      clock.nowMs() >= 10_000 ? [{ kind: 'kill', detail: 'kill n2 (the leader)', nodes: ['n2'] }] : [],
  };
}

describe('the progress line', () => {
  it('prints a plain line every 5 s off a terminal, with the rate and the faults in force', async () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const log = new LabLog({ write: (text: string) => lines.push(text) });
    const progress = new Progress(log, steadySource(clock, 200), 30_000, 5000, clock);
    progress.start();
    await clock.advance(16_000);
    progress.stop();
    expect(lines).toEqual([
      '5s/30s  200 ops/s  ok 1000 fail 0 info 0  faults: none\n',
      '10s/30s  200 ops/s  ok 2000 fail 0 info 0  faults: kill n2 (the leader)\n',
      '15s/30s  200 ops/s  ok 3000 fail 0 info 0  faults: kill n2 (the leader)\n',
    ]);
    expect(clock.pendingCount()).toBe(0);
  });

  it('redraws the status line on a terminal and stops refreshing once stopped', async () => {
    const clock = new FakeClock();
    let text = '';
    const log = new LabLog({ write: (chunk: string) => (text += chunk), isTTY: true });
    const progress = new Progress(log, steadySource(clock, 50), 60_000, 5000, clock);
    progress.start();
    await clock.advance(2000);
    expect(text).toContain('2s/60s  50 ops/s  ok 100');
    progress.stop();
    const stoppedAt = text.length;
    await clock.advance(10_000);
    expect(text.length).toBe(stoppedAt);
  });
});
