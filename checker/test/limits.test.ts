// The search stops with `unknown` at its time limit or memory bound instead of hanging.
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../check.js';
import { disagreeingReads, manyWriters } from '../../bench/hard-histories.js';
import { history, op } from './build.js';

/** 40 concurrent puts, each read, then two reads that disagree: 2^40 subsets to try. */
const hard = () => disagreeingReads(40, 1000);

/**
 * n concurrent writes of distinct values and a read, concurrent with all of them, of a value none
 * wrote: proving it illegal means trying every subset of the writes in every order that the memo
 * table cannot merge, about n * 2^n configurations.
 */
function pathological(writes: number) {
  const groups = [];
  for (let i = 0; i < writes; i++)
    groups.push(op({ process: i, f: 'put', value: String(i), call: i, ret: 1000 + i }));
  groups.push(op({ process: writes, f: 'get', value: 'nobody', call: 0, ret: 5000 }));
  return history(...groups);
}

describe('limits', () => {
  it('the time limit yields unknown, promptly', () => {
    const started = performance.now();
    const result = checkHistory(hard(), { timeLimitMs: 150 });
    expect(result.verdict).toBe('unknown');
    expect(result.keys[0]).toMatchObject({ verdict: 'unknown', reason: 'time limit reached' });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('the memory bound yields unknown', () => {
    const result = checkHistory(hard(), { memoryBytesMax: 4 << 20 });
    expect(result.keys[0]).toMatchObject({
      verdict: 'unknown',
      reason: expect.stringMatching(/^memory limit reached/),
    });
  });

  it('50 writers on one key with puts among the appends are decided, legal and illegal', () => {
    // Exponential before the dead-value rules (dead-value.ts); a generous limit, no timing.
    for (const [clients, putShare] of [
      [50, 0.02],
      [100, 0.05],
    ] as const) {
      const shape = { seed: 300, clients, keys: 1, operations: 300, putShare };
      expect(checkHistory(manyWriters(shape), { timeLimitMs: 30_000 }).verdict).toBe('ok');
      expect(checkHistory(manyWriters({ ...shape, stale: true }), { timeLimitMs: 30_000 }).verdict).toBe(
        'illegal',
      );
    }
  });

  it('the same shape, small enough, is proven illegal', () => {
    expect(checkHistory(pathological(8)).verdict).toBe('illegal');
  });
});
