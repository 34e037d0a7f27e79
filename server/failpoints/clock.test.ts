import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.js';
import { checkClockSetting, FaultClock, watchClockFile } from './clock.js';
import { LAB_RUN_ENV } from './failpoints.js';

describe('the fault clock', () => {
  it('runs at the set rate from the moment of the change, continuously, and jumps by the offset', () => {
    let real = 1000;
    const clock = new FaultClock(() => real);
    real += 100;
    expect(clock.now()).toBe(1100);
    clock.set({ rate: 0.25, offsetMs: 0 });
    real += 400;
    expect(clock.now()).toBe(1200); // 400 real ms count as 100
    clock.set({ rate: 1, offsetMs: -50 });
    expect(clock.now()).toBe(1150);
    real += 10;
    expect(clock.now()).toBe(1160);
  });

  it('rejects settings that would stop or reverse time', () => {
    expect(() => checkClockSetting({ rate: 0 })).toThrow(/rate/);
    expect(() => checkClockSetting({ rate: -1 })).toThrow(/rate/);
    expect(() => checkClockSetting({ rate: 2, offsetMs: 'x' })).toThrow(/offsetMs/);
    expect(checkClockSetting({ rate: 2 })).toEqual({ rate: 2, offsetMs: 0 });
  });

  it('follows the clock file only in a lab run, and picks up a change within a few polls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftlab-clock-'));
    const file = join(dir, 'clock.json');
    const logger = createLogger({ level: 'info', format: 'text', nodeId: 'n1', write: () => true });
    let real = 0;
    const clock = new FaultClock(() => real);
    expect(() => watchClockFile({ RAFTLAB_CLOCK_FILE: file }, clock, logger)).toThrow(/lab runs only/);
    const stop = watchClockFile({ RAFTLAB_CLOCK_FILE: file, [LAB_RUN_ENV]: 'test' }, clock, logger);
    try {
      writeFileSync(file, JSON.stringify({ rate: 10, offsetMs: 0 }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      real += 5;
      expect(clock.now()).toBe(50);
    } finally {
      stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
