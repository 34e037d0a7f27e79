// The search stops with `unknown` at its time limit or memory bound instead of hanging.
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../check.js';
import { manyWriters } from '../../bench/hard-histories.js';
import { history, op } from './build.js';

/**
 * 50 clients on one key with a few puts among the appends: the puts let reads escape the append
 * pruning, and the appends concurrent with a put are tried in every order (seconds to hours).
 */
const hard = () => manyWriters({ seed: 300, clients: 50, keys: 1, operations: 300, putShare: 0.02 });

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

  it('the same shape, small enough, is proven illegal', () => {
    expect(checkHistory(pathological(8)).verdict).toBe('illegal');
  });
});
