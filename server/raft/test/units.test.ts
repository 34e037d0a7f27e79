// Unit tests of the small pure pieces: rng, quorum arithmetic, round contexts, the log.
import { describe, expect, it } from 'vitest';
import { RaftLog } from '../log.js';
import { quorumSize, quorumValue, voteResult } from '../quorum.js';
import { createRng } from '../rng.js';
import { decodeRound, encodeRound } from '../rounds.js';
import { logOf } from './harness.js';

describe('rng', () => {
  it('is deterministic per seed and covers [min, max] inclusive', () => {
    const a = createRng(42);
    const b = createRng(42);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = a.int(10, 20);
      expect(b.int(10, 20)).toBe(x);
      seen.add(x);
    }
    expect([...seen].sort((x, y) => x - y)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(createRng(43).int(0, 1_000_000)).not.toBe(createRng(42).int(0, 1_000_000));
    expect(() => a.int(3, 2)).toThrow(RangeError);
  });
});

describe('quorum', () => {
  it('takes the value a majority has reached', () => {
    expect(quorumSize(3)).toBe(2);
    expect(quorumSize(4)).toBe(3);
    expect(quorumValue([5, 1, 3], 3)).toBe(3);
    expect(quorumValue([5, 1, 3, 4, 2], 5)).toBe(3);
    expect(quorumValue([7, 7, 0, 0], 4)).toBe(0);
    expect(voteResult(2, 0, 3)).toBe('won');
    expect(voteResult(1, 2, 3)).toBe('lost');
    expect(voteResult(2, 2, 4)).toBe('lost');
    expect(voteResult(2, 1, 4)).toBe('pending');
  });
});

describe('round contexts', () => {
  it('round-trip through 8 bytes, including beyond 2^32', () => {
    for (const r of [0, 1, 255, 65_536, 2 ** 32 - 1, 2 ** 32 + 5, 2 ** 53 - 1])
      expect(decodeRound(encodeRound(r))).toBe(r);
    expect(decodeRound(new Uint8Array(0))).toBe(0);
  });
});

describe('log', () => {
  it('findConflictByTerm skips every entry of a larger term (Figure 7 f against leader term 6)', () => {
    const log = new RaftLog(logOf([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]));
    expect(log.findConflictByTerm(10, 6)).toBe(10);
    expect(log.findConflictByTerm(10, 2)).toBe(6);
    expect(log.findConflictByTerm(10, 1)).toBe(3);
    expect(log.findConflictByTerm(10, 0)).toBe(0);
  });

  it('entries become stable only after the Ready carrying them is accepted; a truncation pulls stability back', () => {
    const log = new RaftLog(logOf([1, 1]));
    expect(log.stableIndex).toBe(2);
    log.appendAfter(2, logOf([1, 1, 1]).slice(2));
    expect(log.takeUnstable().map((e) => e.index)).toEqual([3]);
    expect(log.stableIndex).toBe(2);
    log.appendAfter(1, logOf([1, 2, 2]).slice(1)); // replaces 2 and 3 while 3 is being persisted
    log.acceptPersisted();
    expect(log.stableIndex).toBe(1);
    expect(log.takeUnstable().map((e) => `${e.index}/${e.term}`)).toEqual(['2/2', '3/2']);
    log.acceptPersisted();
    expect(log.stableIndex).toBe(3);
  });
});
