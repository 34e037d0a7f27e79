// Keys share time and memory fairly: an illegal key decides the check however hard the others are,
// a time limit gives "unknown" only when nothing is illegal, and one budget bounds every search.
import { describe, expect, it } from 'vitest';
import { disagreeingReads, starvationExample } from '../../bench/hard-histories.js';
import { checkHistory } from '../check.js';
import type { HistoryEvent } from '../history-types.js';
import { NOT_CHECKED } from '../schedule.js';
import { history, op } from './build.js';

/** Key "k": 40 concurrent puts, each read, then two reads that disagree: 2^40 subsets to try. */
const hardKey = () => disagreeingReads(40);
const illegalKey = (key: string) =>
  history(
    op({ process: 900, key, f: 'put', value: '1', call: 0, ret: 10 }),
    op({ process: 901, key, f: 'get', value: '2', call: 20, ret: 30 }),
  );
const together = (...parts: HistoryEvent[][]) => parts.flat().sort((a, b) => a.time - b.time);

describe('scheduling keys', () => {
  it('an illegal key stops the others: the starvation example', () => {
    const result = checkHistory(starvationExample());
    expect(result.verdict).toBe('illegal');
    const [a, b] = result.keys;
    expect(b).toMatchObject({ key: 'b', verdict: 'illegal' });
    expect(a).toMatchObject({ key: 'a', verdict: 'unknown', reason: `${NOT_CHECKED} key b is illegal` });
    // Key a (10! orders in time order) was not searched at all: b, smaller, went first.
    expect(a!.steps).toBe(0);
  });

  it('a hard key cannot starve an illegal one, even when it is smaller', () => {
    // The illegal key has more operations than the hard one, so the hard one goes first.
    const big = Array.from({ length: 400 }, (_, i) =>
      op({ process: 1000 + i, key: 'z', f: 'put', value: String(i), call: 100 * i, ret: 100 * i + 1 }),
    );
    const events = together(hardKey(), illegalKey('z'), ...big);
    const result = checkHistory(events, { timeLimitMs: 20_000 });
    expect(result.keys.map((k) => [k.key, k.verdict])).toEqual([
      ['k', 'unknown'],
      ['z', 'illegal'],
    ]);
    expect(result.verdict).toBe('illegal');
    expect(result.keys[0]!.steps).toBeGreaterThan(0);
  });

  it('--all-keys goes on after an illegal key; a time limit then leaves the hard key unknown, the verdict illegal', () => {
    const result = checkHistory(together(hardKey(), illegalKey('z')), { allKeys: true, timeLimitMs: 300 });
    expect(result.verdict).toBe('illegal');
    expect(result.keys[0]).toMatchObject({ key: 'k', verdict: 'unknown', reason: 'time limit reached' });
  });

  it('a time limit with nothing illegal is unknown', () => {
    const result = checkHistory(hardKey(), { timeLimitMs: 200 });
    expect(result.verdict).toBe('unknown');
  });

  it('one memory budget for all keys: a key that exhausts it gives it back to the others', () => {
    const budget = 8 << 20;
    const ok = history(
      op({ process: 900, key: 'z', f: 'append', value: 'a', call: 0, ret: 10 }),
      op({ process: 901, key: 'z', f: 'get', value: 'a', call: 20, ret: 30 }),
    );
    // Larger configurations (1,000 puts before the concurrent ones), so the memo table fills fast.
    const result = checkHistory(together(disagreeingReads(40, 1000), ok), { memoryBytesMax: budget });
    expect(result.keys[0]).toMatchObject({
      verdict: 'unknown',
      reason: expect.stringMatching(/^memory limit reached/),
    });
    expect(result.keys[1]).toMatchObject({ key: 'z', verdict: 'ok' });
    expect(result.memoryBytesPeak).toBeLessThanOrEqual(budget);
    expect(result.memoryBytesPeak).toBeGreaterThan(budget / 4);
  });
});
