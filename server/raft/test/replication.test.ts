// Log replication (Raft paper §5.3, §5.4.2 Figure 8, Figure 7) and partitions.
import { describe, expect, it } from 'vitest';
import type { AppendMessage, Message } from '../types.js';
import { Cluster, isAppendTo, restored } from './harness.js';

const enc = new TextEncoder();
const appendsTo = (c: Cluster, to: string): AppendMessage[] =>
  c.queue.filter((m): m is AppendMessage => m.type === 'append' && m.to === to);

describe('§5.3 log replication', () => {
  it('§5.3 a leader replicates entries and commits them once a majority has persisted them', async () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    for (const v of ['a', 'b', 'c']) c.propose('n1', v);
    c.stabilize();
    for (const id of ['n1', 'n2', 'n3']) {
      expect(c.appliedData(id)).toEqual(['a', 'b', 'c']);
      expect(c.node(id).status()).toMatchObject({ commit: 4, applied: 4, lastIndex: 4 });
    }
    await expect(c.text()).toMatchFileSnapshot('testdata/replicate-and-commit.txt');
  });

  it('§5.3 batching: one append carries at most appendEntriesMax entries and appendBytesMax bytes', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], { appendEntriesMax: 2, appendBytesMax: 10 });
    c.elect('n1');
    const node = c.node('n1');
    for (const v of ['a1', 'a2', 'a3', 'a4', 'a5']) node.propose(enc.encode(v));
    node.propose(enc.encode('big-entry-over-ten-bytes'));
    node.propose(enc.encode('b7'));
    c.flush('n1');
    const sent = appendsTo(c, 'n2').map((m) => m.entries.map((e) => e.index));
    // 2 entries each (their 4 bytes fit in 10); the 24-byte entry goes alone.
    expect(sent).toEqual([[2, 3], [4, 5], [6], [7], [8]].slice(0, 4));
    c.stabilize();
    expect(c.appliedData('n3')).toHaveLength(7);
    await expect(c.text()).toMatchFileSnapshot('testdata/batching.txt');
  });

  it('§5.3 pipelining: at most inflightAppendsMax unacknowledged appends per follower', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], { appendEntriesMax: 1, inflightAppendsMax: 2 });
    c.elect('n1');
    for (let i = 0; i < 5; i++) c.node('n1').propose(enc.encode(`v${i}`));
    c.flush('n1');
    expect(appendsTo(c, 'n2').map((m) => m.entries[0]?.index)).toEqual([2, 3]);
    c.deliver((m) => m.to === 'n2'); // n2 acknowledges both
    c.deliver((m) => m.from === 'n2'); // each acknowledgement frees a slot for the next append
    expect(appendsTo(c, 'n2').map((m) => m.entries[0]?.index)).toEqual([4, 5]);
    c.stabilize();
    expect(c.appliedData('n2')).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    await expect(c.text()).toMatchFileSnapshot('testdata/pipelining.txt');
  });

  it('§5.3 Figure 7: a new leader brings every kind of divergent follower log in line, with fast backtracking', async () => {
    // The logs of Figure 7 (terms of entries 1..n); everyone has seen term 7 and committed 3.
    const ids = ['L', 'a', 'b', 'c', 'd', 'e', 'f'];
    const c = new Cluster(ids, { appendEntriesMax: 4 }, 1, {
      L: restored([1, 1, 1, 4, 4, 5, 5, 6, 6, 6], 7, 3),
      a: restored([1, 1, 1, 4, 4, 5, 5, 6, 6], 7, 3),
      b: restored([1, 1, 1, 4], 7, 3),
      c: restored([1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], 7, 3),
      d: restored([1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], 7, 3),
      e: restored([1, 1, 1, 4, 4, 4, 4], 7, 3),
      f: restored([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 7, 3),
    });
    c.elect('L');
    expect(c.leaders()).toEqual(['L']);
    const leader = c.node('L');
    expect(leader.status()).toMatchObject({ term: 8, lastIndex: 11, commit: 11 });
    for (const id of ids) {
      expect(c.node(id).status().lastIndex).toBe(11);
      for (let i = 1; i <= 11; i++) expect(c.node(id).entryAt(i)?.term).toBe(leader.entryAt(i)?.term);
    }
    // Fast backtracking: f needs one rejection (hint 3/1 skips its whole term-2 and term-3 run).
    const rejectionsFromF = c.trace.filter(
      (l) => l.startsWith('f->L append-response') && l.includes('reject'),
    );
    expect(rejectionsFromF).toHaveLength(1);
    await expect(c.text()).toMatchFileSnapshot('testdata/figure7.txt');
  });

  it('§5.3 a leader keeps retrying after lost appends (probe resumes on a heartbeat answer)', async () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'lost');
    c.stabilize(isAppendTo('n2')); // every append to n2 is lost, including the one carrying the new commit
    expect(c.node('n2').status().lastIndex).toBe(1);
    c.run(3); // the next heartbeat answer shows n2 lags; the leader resends
    expect(c.appliedData('n2')).toEqual(['lost']);
    await expect(c.text()).toMatchFileSnapshot('testdata/retry-lost-append.txt');
  });
});

describe('§5.4.2 commitment and partitions', () => {
  it('§5.4.2 Figure 8: a leader does not commit an entry of an earlier term by counting replicas', async () => {
    // (b)-(c) of Figure 8: s1 led term 2 and got entry 2/2 onto s2; s5 led term 3 with entry 2/3.
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const c = new Cluster(ids, { appendEntriesMax: 1 }, 1, {
      s1: restored([1, 2], 3, 1),
      s2: restored([1, 2], 3, 1),
      s3: restored([1], 3, 1),
      s4: restored([1], 3, 1),
      s5: restored([1, 3], 3, 1),
    });
    c.partition(['s1', 's2', 's3'], ['s4', 's5']);
    // s1 wins term 4 and copies 2/2 onto s3, but its no-op 3/4 never reaches s3.
    c.elect('s1', (m) => isAppendTo('s3', 3)(m) && c.node('s3').status().lastIndex >= 2);
    for (const id of ['s1', 's2', 's3']) expect(c.node(id).entryAt(2)?.term).toBe(2);
    expect(c.node('s1').status().commit).toBe(1); // 2/2 is on a majority, yet not committed
    c.log('-- s1 crashes; s5 can still be elected and replace 2/2');
    c.heal();
    c.isolate('s1');
    c.elect('s5'); // term 4: s2 and s3 already voted for s1 in term 4
    c.elect('s5'); // term 5: s3 and s4 vote for it (last term 3 beats their 2 and 1)
    expect(c.leaders()).toContain('s5');
    expect(c.node('s3').entryAt(2)?.term).toBe(3);
    for (const id of ids) expect(c.applied.get(id)?.some((e) => e.index === 2 && e.term === 2)).toBe(false);
    await expect(c.text()).toMatchFileSnapshot('testdata/figure8.txt');
  });

  it('§5.3 a leader in a minority partition cannot commit; the majority elects a new leader that overwrites it', async () => {
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const c = new Cluster(ids, { preVote: true, checkQuorum: true });
    c.elect('n1');
    c.partition(['n1', 'n2'], ['n3', 'n4', 'n5']);
    c.propose('n1', 'minority');
    c.stabilize();
    expect(c.node('n1').status().commit).toBe(1);
    let ticks = 0;
    const majorityLeader = (): string | undefined => c.leaders().find((id) => id !== 'n1');
    while (majorityLeader() === undefined && ticks++ < 100) c.run(1);
    const newLeader = majorityLeader() as string;
    expect(['n3', 'n4', 'n5']).toContain(newLeader);
    c.propose(newLeader, 'majority');
    c.stabilize();
    c.heal();
    c.run(12);
    expect(c.leaders()).toEqual([newLeader]);
    for (const id of ids) expect(c.appliedData(id)).toEqual(['majority']);
    await expect(c.text()).toMatchFileSnapshot('testdata/minority-leader.txt');
  });
});

export type { Message };
