// Each unsafe variant, in a scenario that shows the safety property it breaks. The safe
// behaviour in the same scenario is pinned by the tests named in each comment.
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../node.js';
import { parseServerUnsafe, parseUnsafe, UNSAFE_VARIANTS } from '../unsafe.js';
import { Cluster, restored } from './harness.js';

const only = (name: string) => ({ unsafe: parseUnsafe(name) });

describe('unsafe variants', () => {
  it('vote-twice: a node grants a second vote in the same term, so one term gets two leaders (safe: one-vote-per-term)', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], only('vote-twice'));
    c.campaign('n1');
    c.campaign('n2');
    c.deliver((m) => m.to === 'n3');
    c.deliver((m) => m.from === 'n3');
    expect(c.leaders().sort()).toEqual(['n1', 'n2']);
    expect(c.node('n1').status().term).toBe(c.node('n2').status().term);
    // When the two leaders' messages meet, the core's own assertion fires.
    expect(() => c.stabilize()).toThrow(InvariantError);
    await expect(c.text()).toMatchFileSnapshot('testdata/unsafe-vote-twice.txt');
  });

  it('no-log-check-on-vote: a node with a stale log wins and overwrites a committed entry (safe: election-restriction)', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], only('no-log-check-on-vote'));
    c.elect('n1');
    c.isolate('n3');
    c.propose('n1', 'x');
    c.stabilize();
    expect(c.appliedData('n1')).toEqual(['x']);
    c.heal();
    c.isolate('n1');
    c.campaign('n3');
    c.stabilize((m) => m.type === 'append'); // elected by n2 despite lacking the committed entry 2
    expect(c.leaders()).toContain('n3');
    // Its first append would replace n2's committed entry 2: n2's assertion crashes it.
    expect(() => c.run(5)).toThrow(/conflict at committed index 2/);
    await expect(c.text()).toMatchFileSnapshot('testdata/unsafe-no-log-check-on-vote.txt');
  });

  it('stale-leader-read: a partitioned old leader serves a read that misses a newer committed write (safe: read-index-deposed-leader)', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], only('stale-leader-read'));
    c.elect('n1');
    c.propose('n1', 'old');
    c.stabilize();
    c.isolate('n1');
    c.elect('n2');
    c.propose('n2', 'new');
    c.stabilize();
    expect(c.node('n2').status().commit).toBe(4);
    c.read('n1', 1);
    expect(c.readsServed.get('n1')).toEqual([{ requestId: 1, index: 2 }]); // misses index 4
    await expect(c.text()).toMatchFileSnapshot('testdata/unsafe-stale-leader-read.txt');
  });

  it('commit-previous-term: Figure 8, a leader commits an old-term entry that a later leader overwrites (safe: figure8)', async () => {
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const c = new Cluster(ids, only('commit-previous-term'), 1, {
      s1: restored([1, 2], 3, 1),
      s2: restored([1, 2], 3, 1),
      s3: restored([1], 3, 1),
      s4: restored([1], 3, 1),
      s5: restored([1, 3], 3, 1),
    });
    c.partition(['s1', 's2', 's3'], ['s4', 's5']);
    // s1 wins term 4, copies 2/2 onto s3 and commits it by counting s1, s2, s3; the messages that
    // would tell s2 and s3 about that commit are lost.
    c.elect('s1', (m) => m.type === 'append' && m.commit >= 2);
    expect(c.applied.get('s1')?.map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/2']);
    c.log('-- s1 crashes; s5 is elected and replaces 2/2, which s1 has already applied');
    c.heal();
    c.isolate('s1');
    c.elect('s5'); // term 4: s2 and s3 already voted for s1 in term 4
    c.elect('s5'); // term 5: its last term 3 beats everyone's 2 and 1
    expect(c.leaders()).toContain('s5');
    // State machine safety broken: index 2 was applied as 2/2 on s1, and as 2/3 on the others.
    for (const id of ['s2', 's3', 's4', 's5'])
      expect(c.applied.get(id)?.find((e) => e.index === 2)?.term).toBe(3);
    // When s1 comes back, s5's append would replace its committed 2/2: its assertion crashes it.
    c.heal();
    expect(() => c.run(5)).toThrow(/conflict at committed index 2/);
    await expect(c.text()).toMatchFileSnapshot('testdata/unsafe-commit-previous-term.txt');
  });

  it('parseServerUnsafe refuses the variants only the simulator implements, saying so', () => {
    expect([...parseServerUnsafe('local-session-expiry,vote-twice')]).toEqual([
      'local-session-expiry',
      'vote-twice',
    ]);
    expect(() => parseServerUnsafe('no-pre-vote')).toThrow(
      'unknown unsafe variant "no-pre-vote" (it exists in lab sim only); valid variants: commit-previous-term, vote-twice, no-log-check-on-vote, stale-leader-read, no-session-dedup, send-before-persist, local-session-expiry, no-lost-state-guard, reprobe-at-match',
    );
  });

  it('no-lost-state-guard: a node that lost its disk votes for a candidate missing committed entries, which overwrites them (safe: lost-state-no-vote)', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], {
      ...only('no-lost-state-guard'),
      preVote: true,
      checkQuorum: true,
    });
    c.elect('n1');
    c.isolate('n3');
    c.propose('n1', 'x');
    c.stabilize(); // x committed on n1 and n2 only
    c.heal();
    c.loseLog('n2', 0);
    c.restart('n2', { recovering: true });
    c.isolate('n1');
    c.elect('n3'); // n2 votes although it knows it lost its log
    expect(c.leaders()).toContain('n3');
    expect(c.node('n3').entryAt(2)?.term).toBe(2); // the committed x (2/1) is gone from the new leader
    c.heal();
    expect(() => c.run(10)).toThrow(/conflict at committed index 2/);
    await expect(c.text()).toMatchFileSnapshot('testdata/unsafe-no-lost-state-guard.txt');
  });

  it('reprobe-at-match: a follower that lost acknowledged entries and its leader trade rejections forever (safe: lost-entries-probe)', () => {
    const c = new Cluster(['n1', 'n2', 'n3'], only('reprobe-at-match'));
    c.elect('n1');
    for (const v of ['a', 'b', 'c']) c.propose('n1', v);
    c.stabilize();
    c.loseLog('n2', 1);
    c.restart('n2');
    c.propose('n1', 'd');
    expect(() => c.stabilize()).toThrow('cluster did not stabilize');
    const rejections = c.trace.filter((l) => l.startsWith('n2->n1 append-response') && l.includes('reject'));
    expect(rejections.length).toBeGreaterThan(90); // one per round of the 200: each answered by a probe at once
    expect(c.node('n2').status().lastIndex).toBe(1);
  });

  it('parseUnsafe accepts a comma-separated list and names the valid variants on an unknown one', () => {
    expect([...parseUnsafe('')]).toEqual([]);
    expect([...parseUnsafe(' vote-twice , stale-leader-read ')]).toEqual(['vote-twice', 'stale-leader-read']);
    expect([...parseUnsafe(UNSAFE_VARIANTS.join(','))]).toEqual(UNSAFE_VARIANTS);
    expect(() => parseUnsafe('vote-twice,vote-thrice')).toThrow(
      'unknown unsafe variant "vote-thrice"; valid variants: commit-previous-term, vote-twice, no-log-check-on-vote, stale-leader-read, no-session-dedup, send-before-persist, forget-vote-on-restart, hard-state-no-fsync, local-session-expiry, no-pre-vote, no-lost-state-guard, reprobe-at-match',
    );
  });
});
