// Hand-made histories with verdicts worked out by hand.
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../check.js';
import { history, nemesis, op } from './build.js';

const verdict = (...groups: Parameters<typeof history>) => checkHistory(history(...groups)).verdict;

describe('each operation type', () => {
  it('a get of an absent key reads null; reading a value never written is illegal', () => {
    expect(verdict(op({ process: 0, f: 'get', value: null, call: 0, ret: 1 }))).toBe('ok');
    expect(verdict(op({ process: 0, f: 'get', value: 'x', call: 0, ret: 1 }))).toBe('illegal');
  });

  it('put then get sees the value; a stale get after the put returned is illegal', () => {
    const put = op({ process: 0, f: 'put', value: 'a', call: 0, ret: 1 });
    expect(verdict(put, op({ process: 1, f: 'get', value: 'a', call: 2, ret: 3 }))).toBe('ok');
    expect(verdict(put, op({ process: 1, f: 'get', value: null, call: 2, ret: 3 }))).toBe('illegal');
    // Concurrent with the put, either value may be read.
    expect(verdict(put, op({ process: 1, f: 'get', value: null, call: 0, ret: 3 }))).toBe('ok');
  });

  it('delete makes the key absent again', () => {
    const put = op({ process: 0, f: 'put', value: 'a', call: 0, ret: 1 });
    const del = op({ process: 0, f: 'delete', call: 2, ret: 3 });
    expect(verdict(put, del, op({ process: 1, f: 'get', value: null, call: 4, ret: 5 }))).toBe('ok');
    expect(verdict(put, del, op({ process: 1, f: 'get', value: 'a', call: 4, ret: 5 }))).toBe('illegal');
  });

  it('append concatenates, and a reported result must match', () => {
    const a = op({ process: 0, f: 'append', value: 'x', call: 0, ret: 1 });
    const b = op({ process: 0, f: 'append', value: 'y', call: 2, ret: 3, result: 'xy' });
    expect(verdict(a, b, op({ process: 1, f: 'get', value: 'xy', call: 4, ret: 5 }))).toBe('ok');
    expect(verdict(a, b, op({ process: 1, f: 'get', value: 'yx', call: 4, ret: 5 }))).toBe('illegal');
    const wrong = op({ process: 0, f: 'append', value: 'y', call: 2, ret: 3, result: 'y' });
    expect(verdict(a, wrong)).toBe('illegal');
  });

  it('cas succeeds only on a match; a CAS_MISMATCH failure is an observation', () => {
    const put = op({ process: 0, f: 'put', value: 'a', call: 0, ret: 1 });
    expect(verdict(put, op({ process: 1, f: 'cas', value: ['a', 'b'], call: 2, ret: 3 }))).toBe('ok');
    expect(verdict(put, op({ process: 1, f: 'cas', value: ['z', 'b'], call: 2, ret: 3 }))).toBe('illegal');
    const mismatch = {
      process: 1,
      f: 'cas' as const,
      value: ['a', 'b'] as [string, string],
      call: 2,
      ret: 3,
      type: 'fail' as const,
    };
    expect(verdict(put, op({ ...mismatch, error: 'CAS_MISMATCH' }))).toBe('illegal');
    expect(verdict(put, op({ ...mismatch, value: ['z', 'b'], error: 'CAS_MISMATCH' }))).toBe('ok');
    // cas with expected null succeeds only on an absent key.
    expect(verdict(op({ process: 1, f: 'cas', value: [null, 'b'], call: 0, ret: 1 }))).toBe('ok');
    expect(verdict(put, op({ process: 1, f: 'cas', value: [null, 'b'], call: 2, ret: 3 }))).toBe('illegal');
  });

  it('an empty history, and one with only faults, are ok', () => {
    expect(checkHistory([])).toMatchObject({ verdict: 'ok', keys: [], operations: 0 });
    expect(verdict(nemesis('start', 0), nemesis('stop', 5))).toBe('ok');
  });
});

describe('indeterminate and failed operations', () => {
  const put = op({ process: 0, f: 'put', value: 'a', call: 0, ret: 1 });

  it('an info write that took effect', () => {
    const info = op({ process: 1, f: 'put', value: 'b', call: 2, ret: 3, type: 'info', error: 'TIMEOUT' });
    expect(verdict(put, info, op({ process: 2, f: 'get', value: 'b', call: 10, ret: 11 }))).toBe('ok');
  });

  it('an info write that did not take effect', () => {
    const info = op({ process: 1, f: 'put', value: 'b', call: 2, ret: 3, type: 'info', error: 'TIMEOUT' });
    expect(verdict(put, info, op({ process: 2, f: 'get', value: 'a', call: 10, ret: 11 }))).toBe('ok');
  });

  it('an info write may take effect long after its timeout, but not before its call', () => {
    const info = op({ process: 1, f: 'put', value: 'b', call: 2, ret: 3, type: 'info' });
    const reads = [
      op({ process: 2, f: 'get', value: 'a', call: 10, ret: 11 }),
      op({ process: 2, f: 'get', value: 'b', call: 12, ret: 13 }),
      op({ process: 2, f: 'get', value: 'b', call: 14, ret: 15 }),
    ];
    expect(verdict(put, info, ...reads)).toBe('ok');
    const early = op({ process: 3, f: 'get', value: 'b', call: 0, ret: 1 });
    expect(verdict(put, info, early)).toBe('illegal');
  });

  it('an info cas that cannot match at first may still take effect once its expected value is written', () => {
    const cas = op({
      process: 1,
      f: 'cas',
      value: ['b', 'c'],
      call: 2,
      ret: 3,
      type: 'info',
      error: 'TIMEOUT',
    });
    const putB = op({ process: 2, f: 'put', value: 'b', call: 5, ret: 6 });
    expect(verdict(put, cas, putB, op({ process: 3, f: 'get', value: 'c', call: 10, ret: 11 }))).toBe('ok');
    expect(verdict(put, cas, op({ process: 3, f: 'get', value: 'c', call: 10, ret: 11 }))).toBe('illegal');
  });

  it('an operation still pending when the history ends is treated like info', () => {
    const pending = op({ process: 1, f: 'put', value: 'b', call: 2 });
    expect(verdict(put, pending, op({ process: 2, f: 'get', value: 'b', call: 10, ret: 11 }))).toBe('ok');
  });

  it('a failed write did not happen, so reading its value is illegal', () => {
    const failed = op({
      process: 1,
      f: 'put',
      value: 'b',
      call: 2,
      ret: 3,
      type: 'fail',
      error: 'NOT_LEADER',
    });
    expect(verdict(put, failed, op({ process: 2, f: 'get', value: 'b', call: 10, ret: 11 }))).toBe('illegal');
  });

  it('a timed-out read constrains nothing, whatever value it carries', () => {
    const read = op({ process: 1, f: 'get', value: 'zzz', call: 2, ret: 3, type: 'info', error: 'TIMEOUT' });
    const failedRead = op({
      process: 2,
      f: 'get',
      value: 'zzz',
      call: 2,
      ret: 3,
      type: 'fail',
      error: 'TIMEOUT',
    });
    expect(verdict(put, read, failedRead)).toBe('ok');
  });
});

describe('concurrency', () => {
  it('concurrent cas: only one of two cas from the same value can succeed', () => {
    const put = op({ process: 0, f: 'put', value: '0', call: 0, ret: 1 });
    const c1 = op({ process: 1, f: 'cas', value: ['0', '1'], call: 2, ret: 5 });
    const c2 = op({ process: 2, f: 'cas', value: ['0', '2'], call: 3, ret: 6 });
    expect(verdict(put, c1, c2)).toBe('illegal');
    const c2fail = op({
      process: 2,
      f: 'cas',
      value: ['0', '2'],
      call: 3,
      ret: 6,
      type: 'fail',
      error: 'CAS_MISMATCH',
    });
    expect(verdict(put, c1, c2fail, op({ process: 3, f: 'get', value: '1', call: 7, ret: 8 }))).toBe('ok');
  });

  it('closed intervals: operations whose times touch are concurrent', () => {
    // The get returns at 5 and the put is called at 5: the get may still come after the put.
    const get = op({ process: 1, f: 'get', value: 'a', call: 0, ret: 5 });
    const put = op({ process: 0, f: 'put', value: 'a', call: 5, ret: 6 });
    expect(verdict(put, get)).toBe('ok');
  });

  it('keys are independent (checked one by one) and each gets its verdict', () => {
    const result = checkHistory(
      history(
        op({ process: 0, f: 'put', key: 'a', value: '1', call: 0, ret: 1 }),
        op({ process: 1, f: 'get', key: 'b', value: '1', call: 2, ret: 3 }),
      ),
    );
    expect(result.verdict).toBe('illegal');
    expect(result.keys.map((k) => [k.key, k.verdict])).toEqual([
      ['a', 'ok'],
      ['b', 'illegal'],
    ]);
  });

  it('reports progress after each key', () => {
    const seen: [string, number, number][] = [];
    checkHistory(
      history(
        op({ process: 0, f: 'put', key: 'a', value: '1', call: 0, ret: 1 }),
        op({ process: 1, f: 'put', key: 'b', value: '1', call: 2, ret: 3 }),
      ),
      { onKey: (key, done, total) => seen.push([key.key, done, total]) },
    );
    expect(seen).toEqual([
      ['a', 1, 2],
      ['b', 2, 2],
    ]);
  });

  it('fault events are ignored by the search', () => {
    const ops = [
      op({ process: 0, f: 'put', value: 'a', call: 0, ret: 10 }),
      op({ process: 1, f: 'get', value: 'a', call: 20, ret: 30 }),
    ];
    expect(verdict(nemesis('start', 5), ...ops, nemesis('stop', 25))).toBe('ok');
    const stale = op({ process: 2, f: 'get', value: null, call: 31, ret: 32 });
    expect(verdict(nemesis('start', 5), ...ops, stale, nemesis('stop', 25))).toBe('illegal');
  });
});

describe('the counterexample', () => {
  it('names the longest partial linearization and the read that cannot follow it', () => {
    const result = checkHistory(
      history(
        op({ process: 0, f: 'put', value: 'a', call: 0, ret: 1 }),
        op({ process: 0, f: 'put', value: 'b', call: 2, ret: 3 }),
        op({ process: 1, f: 'get', value: 'a', call: 4, ret: 5 }),
      ),
    );
    const cx = result.keys[0]!.counterexample!;
    expect(cx.linearized).toBe(2);
    const partial = cx.partials[0]!;
    expect(partial.steps.map((s) => s.op.description)).toEqual(['put "a"', 'put "b"']);
    expect(partial.steps.map((s) => [s.stateBefore, s.stateAfter])).toEqual([
      ['nil', '"a"'],
      ['"a"', '"b"'],
    ]);
    expect(partial.state).toBe('"b"');
    expect(partial.blocked).toEqual([expect.objectContaining({ why: 'rejected', stateBefore: '"b"' })]);
    expect(partial.blocked[0]!.op).toMatchObject({
      process: 1,
      description: 'get -> "a"',
      invokeIndex: 4,
      completeIndex: 5,
    });
  });
});
