// Linearizable reads: ReadIndex (Raft thesis §6.4) and leases (§6.4.1).
import { describe, expect, it } from 'vitest';
import { Cluster } from './harness.js';

const heartbeatsQueued = (c: Cluster): number => c.queue.filter((m) => m.type === 'heartbeat').length;

describe('§6.4 ReadIndex', () => {
  it('§6.4 one heartbeat round confirms leadership for the whole batch of queued reads', async () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'x');
    c.stabilize();
    const n1 = c.node('n1');
    for (const id of [1, 2, 3]) expect(n1.readIndex(id)).toBeUndefined();
    c.flush('n1');
    expect(heartbeatsQueued(c)).toBe(2); // one round: one heartbeat per follower
    c.stabilize();
    expect(c.readsServed.get('n1')).toEqual([
      { requestId: 1, index: 2 },
      { requestId: 2, index: 2 },
      { requestId: 3, index: 2 },
    ]);
    await expect(c.text()).toMatchFileSnapshot('testdata/read-index-batch.txt');
  });

  it('§6.4 a new leader serves no read before it has committed an entry of its own term', async () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.campaign('n1');
    c.stabilize((m) => m.type === 'append'); // elected, but its no-op is not replicated
    expect(c.leaders()).toEqual(['n1']);
    c.read('n1', 7);
    expect(heartbeatsQueued(c)).toBe(0); // queued, no round yet: the commit index may be stale
    expect(c.readsServed.get('n1')).toEqual([]);
    c.run(3); // heartbeats lead to appends; the no-op commits; then the read round runs
    expect(c.readsServed.get('n1')).toEqual([{ requestId: 7, index: 1 }]);
    await expect(c.text()).toMatchFileSnapshot('testdata/read-index-waits-for-own-term.txt');
  });

  it('§6.4 a deposed leader does not serve reads: they are dropped when it steps down', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], { preVote: true, checkQuorum: true });
    c.elect('n1');
    c.read('n2', 1); // followers refuse at once, naming the leader
    c.isolate('n1');
    c.read('n1', 2);
    let ticks = 0;
    while (c.node('n1').status().role === 'leader' && ticks++ < 40) c.run(1);
    expect(c.readsServed.get('n1')).toEqual([]);
    expect(c.trace).toContain('n1 read 2 dropped');
    expect(c.trace).toContain('n2 read 1 requested: NOT_LEADER leader=n1');
    await expect(c.text()).toMatchFileSnapshot('testdata/read-index-deposed-leader.txt');
  });

  it('§6.4 reads beyond readsPendingMax are refused with OVERLOADED', () => {
    const c = new Cluster(['n1', 'n2', 'n3'], { readsPendingMax: 2 });
    c.elect('n1');
    c.isolate('n1'); // rounds cannot be confirmed, so reads pile up
    const n1 = c.node('n1');
    expect(n1.readIndex(1)).toBeUndefined();
    expect(n1.readIndex(2)).toBeUndefined();
    expect(n1.readIndex(3)).toMatchObject({ code: 'OVERLOADED', definite: true });
  });
});

describe('§6.4.1 lease reads', () => {
  const opts = { readMode: 'lease' as const, checkQuorum: true, preVote: true };

  it('§6.4.1 a leader holding a lease serves reads without a round; once the lease lapses it falls back to ReadIndex', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], opts);
    c.campaign('n1');
    c.stabilize();
    // Freshly started nodes honour a possible earlier leader's lease: nobody votes yet.
    expect(c.leaders()).toEqual([]);
    c.run(10);
    if (c.leaders().length === 0) c.elect('n1');
    const leader = c.leaders()[0] as string;
    c.run(3); // a heartbeat round is acknowledged: the lease starts at its send tick
    c.read(leader, 1);
    expect(heartbeatsQueued(c)).toBe(0);
    expect(c.readsServed.get(leader)).toHaveLength(1);
    c.isolate(leader);
    c.run(10); // no acknowledgement for electionTimeoutTicksMin ticks: the lease has lapsed
    c.read(leader, 2);
    expect(c.readsServed.get(leader)).toHaveLength(1); // queued for a round that cannot succeed
    await expect(c.text()).toMatchFileSnapshot('testdata/lease-read.txt');
  });
});
