// Leader election (Raft paper §5.2, §5.4.1; thesis §9.6 pre-vote, §6.2 check-quorum).
import { describe, expect, it } from 'vitest';
import { Cluster, restored } from './harness.js';

describe('§5.2 leader election', () => {
  it('§5.2 a follower that times out becomes candidate and wins with a majority', async () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    let ticks = 0;
    while (c.node('n1').status().role === 'follower') {
      c.tick('n1');
      ticks++;
    }
    // The randomized timeout is drawn from [electionTimeoutTicksMin, electionTimeoutTicksMax] = [10, 20].
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(ticks).toBeLessThanOrEqual(20);
    expect(c.node('n1').status()).toMatchObject({ role: 'candidate', term: 1, vote: 'n1' });
    c.stabilize();
    expect(c.leaders()).toEqual(['n1']);
    for (const id of ['n2', 'n3'])
      expect(c.node(id).status()).toMatchObject({ role: 'follower', term: 1, leader: 'n1' });
    await expect(c.text()).toMatchFileSnapshot('testdata/election-timeout-wins.txt');
  });

  it('§5.2 a node grants one vote per term: the second candidate of a term is rejected', async () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.campaign('n1');
    c.campaign('n2');
    // n3 hears n1 first and votes for it; n2's request in the same term must be rejected.
    c.deliver((m) => m.to === 'n3' && m.from === 'n1');
    c.deliver((m) => m.to === 'n3' && m.from === 'n2');
    expect(c.node('n3').status().vote).toBe('n1');
    c.stabilize();
    expect(c.leaders()).toEqual(['n1']);
    await expect(c.text()).toMatchFileSnapshot('testdata/one-vote-per-term.txt');
  });

  it('§5.2 split votes are resolved by randomized election timeouts', async () => {
    const c = new Cluster(['n1', 'n2', 'n3', 'n4'], {}, 1);
    c.campaign('n1');
    c.campaign('n2');
    // n3 votes for n1 and n4 for n2: 2 of 4 each, nobody wins term 1.
    c.deliver((m) => (m.from === 'n1' && m.to === 'n3') || (m.from === 'n2' && m.to === 'n4'));
    c.stabilize();
    expect(c.leaders()).toEqual([]);
    c.log('-- split vote in term 1; now time passes');
    let ticks = 0;
    while (c.leaders().length === 0 && ticks < 100) {
      c.run(1);
      ticks++;
    }
    expect(c.leaders()).toHaveLength(1);
    // The timeouts drawn for this seed differ, so one node times out alone, campaigns and wins.
    const candidates = c.trace.filter((l) => l.endsWith('became candidate term 2'));
    expect(candidates).toEqual([`${c.leaders()[0]} became candidate term 2`]);
    await expect(c.text()).toMatchFileSnapshot('testdata/split-vote.txt');
  });

  it('§5.4.1 election restriction: a candidate whose log is behind cannot win', async () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.isolate('n3');
    c.propose('n1', 'x');
    c.stabilize();
    c.heal();
    c.campaign('n3');
    c.stabilize();
    // n3 (last entry 1/1) asks for term 2; n1 and n2 (last entry 2/1) refuse. Without pre-vote the
    // attempt still raises everyone's term, the disruption pre-vote exists to avoid.
    expect(c.node('n3').status().role).not.toBe('leader');
    expect(c.node('n1').status().term).toBe(2);
    await expect(c.text()).toMatchFileSnapshot('testdata/election-restriction.txt');
  });
});

describe('§9.6 pre-vote and §6.2 check-quorum', () => {
  const opts = { preVote: true, checkQuorum: true };

  it('§9.6 pre-vote: a node rejoining after a partition neither inflates terms nor deposes the leader', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], opts);
    c.elect('n1');
    c.isolate('n3');
    c.run(45); // n3 times out repeatedly, but only pre-campaigns, without raising its term
    expect(c.node('n3').status()).toMatchObject({ term: 1, role: 'pre-candidate' });
    c.heal();
    c.run(12);
    expect(c.leaders()).toEqual(['n1']);
    for (const id of ['n1', 'n2', 'n3']) expect(c.node(id).status()).toMatchObject({ term: 1, leader: 'n1' });
    await expect(c.text()).toMatchFileSnapshot('testdata/prevote-rejoin.txt');
  });

  it('§9.6 leader stickiness: a follower that heard from the leader recently ignores vote requests', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], { checkQuorum: true });
    c.elect('n1');
    c.campaign('n3'); // no pre-vote: a real vote request for term 2
    c.deliver((m) => m.type === 'vote');
    expect(c.node('n2').status()).toMatchObject({ term: 1, vote: 'n1', leader: 'n1' });
    expect(c.node('n1').status()).toMatchObject({ term: 1, role: 'leader' });
    expect(c.queue.filter((m) => m.type === 'vote-response')).toEqual([]);
    await expect(c.text()).toMatchFileSnapshot('testdata/leader-stickiness.txt');
  });

  it('§6.2 check-quorum: a leader that has not heard from a majority within an election timeout steps down', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], opts);
    c.elect('n1');
    c.isolate('n1');
    let ticks = 0;
    while (c.node('n1').status().role === 'leader') {
      c.run(1);
      ticks++;
    }
    // Steps down at the second check (the first one still counts the answers before the cut).
    expect(ticks).toBeLessThanOrEqual(2 * 10);
    expect(c.node('n1').status()).toMatchObject({ role: 'follower', term: 1, leader: '' });
    await expect(c.text()).toMatchFileSnapshot('testdata/check-quorum-step-down.txt');
  });

  it('§5.2 restart: a node restarts as follower in its persisted term, keeping its vote', async () => {
    const c = new Cluster(['n1', 'n2', 'n3'], {}, 1, { n3: restored([1, 1, 2], 3, 2, 'n1') });
    expect(c.node('n3').status()).toMatchObject({
      role: 'follower',
      term: 3,
      vote: 'n1',
      commit: 2,
      lastIndex: 3,
    });
    c.flush();
    // The two committed entries are handed out again for the (empty) state machine.
    expect(c.appliedData('n3')).toEqual(['e1', 'e2']);
    c.node('n3').step({
      type: 'vote',
      from: 'n2',
      to: 'n3',
      term: 3,
      preVote: false,
      lastLogIndex: 9,
      lastLogTerm: 3,
    });
    c.flush();
    const answer = c.queue.find((m) => m.type === 'vote-response');
    expect(answer).toMatchObject({ granted: false, term: 3 });
    await expect(c.text()).toMatchFileSnapshot('testdata/restart-keeps-vote.txt');
  });
});
