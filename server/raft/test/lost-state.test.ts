// A node that lost entries it had acknowledged (a truncated or wiped disk): the leader must bring
// it back without trading rejections in a loop, and the node must not vote until it has caught up.
import { describe, expect, it } from 'vitest';
import { Progress } from '../progress.js';
import { Cluster } from './harness.js';

const rejectionsFrom = (c: Cluster, id: string): string[] =>
  c.trace.filter((l) => l.startsWith(`${id}->`) && l.includes('append-response') && l.includes('reject'));

function sameLog(c: Cluster, a: string, b: string): void {
  const x = c.node(a);
  const y = c.node(b);
  expect(x.status().lastIndex).toBe(y.status().lastIndex);
  for (let i = 1; i <= x.status().lastIndex; i++) expect(x.entryAt(i)).toEqual(y.entryAt(i));
}

describe('a follower that lost acknowledged entries', () => {
  it('does not trade rejections with the leader; the next heartbeat tells, and it is probed back from where its log ends', async () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    for (const v of ['a', 'b', 'c', 'd', 'e']) c.propose('n1', v);
    c.stabilize();
    c.loseLog('n2', 3); // n2 had acknowledged up to 6
    c.restart('n2');
    c.propose('n1', 'f');
    c.stabilize(); // before the fix: "cluster did not stabilize" (n1 and n2 ping-pong at index 6)
    // Rejections older than an acknowledgement look the same under reordering, so a rejection at
    // or below the match moves `next` back no further than the match: after that, n1 waits.
    const beforeHeartbeat = rejectionsFrom(c, 'n2').length;
    expect(beforeHeartbeat).toBeLessThanOrEqual(3);
    expect(c.node('n2').status().lastIndex).toBe(3);
    c.tick('n1', 3); // a heartbeat: commit 6 > n2's last index 3
    c.stabilize();
    expect(rejectionsFrom(c, 'n2')).toHaveLength(beforeHeartbeat + 1); // the log-lost one
    expect(c.trace.filter((l) => l.includes('NOTICE FOLLOWER_LOST_ENTRIES'))).toHaveLength(1);
    sameLog(c, 'n1', 'n2');
    expect(c.node('n2').status()).toMatchObject({ commit: 7, lastIndex: 7 });
    await expect(c.text()).toMatchFileSnapshot('testdata/lost-entries-probe.txt');
  });

  it('learns from a heartbeat that it lost entries, recovers without any new write, and only then votes again', async () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    for (const v of ['a', 'b', 'c']) c.propose('n1', v);
    c.stabilize();
    c.loseLog('n2', 1);
    c.restart('n2');
    c.tick('n1', 3); // one heartbeat interval: the heartbeat says commit 4, n2's log ends at 1
    c.deliver((m) => m.to === 'n2');
    expect(c.node('n2').status().recoveryIndex).toBe(4);
    expect(c.disks.get('n2')?.hardState.recoveryIndex).toBe(4); // durable before anything else
    c.stabilize();
    sameLog(c, 'n1', 'n2');
    expect(c.node('n2').status()).toMatchObject({ commit: 4, recoveryIndex: 0 });
    expect(c.disks.get('n2')?.hardState.recoveryIndex ?? 0).toBe(0);
    expect(rejectionsFrom(c, 'n2')).toHaveLength(1);
    await expect(c.text()).toMatchFileSnapshot('testdata/lost-entries-heartbeat.txt');
  });

  it('a rejection that moves nothing sends no probe: the next one waits for a heartbeat answer', () => {
    const pr = new Progress(11, 4);
    pr.match = 10;
    pr.becomeProbe(); // next = 11
    pr.sentEntries(10, 0);
    // Rejected at 10 with a hint that points at or above the match: no way back, nothing moves.
    expect(pr.maybeDecrTo(10, 11)).toBe(false);
    expect(pr.isPaused()).toBe(true);
    expect(pr.next).toBe(11);
    // A rejection that moves next back is progress: the next probe goes at once.
    pr.match = 5;
    expect(pr.maybeDecrTo(10, 7)).toBe(true);
    expect(pr.next).toBe(7);
    expect(pr.isPaused()).toBe(false);
  });
});

describe('a node recovering from lost state', () => {
  it.each([true, false])(
    'refuses (pre-)votes to a candidate that lacks committed entries; the cluster waits for a complete leader (preVote %s)',
    async (preVote) => {
      const c = new Cluster(['n1', 'n2', 'n3'], { preVote, checkQuorum: preVote });
      c.elect('n1');
      c.isolate('n3');
      c.propose('n1', 'x');
      c.propose('n1', 'y');
      c.stabilize(); // committed on n1 and n2 only
      c.heal();
      c.loseLog('n2', 0);
      c.restart('n2', { recovering: true });
      c.isolate('n1'); // the only complete copy is unreachable
      c.campaign('n3');
      c.stabilize();
      expect(c.leaders()).toEqual(['n1']); // n3 did not win; n1 (cut off) still thinks it leads
      if (!preVote) c.campaign('n3'); // a real vote request this time: refused as well
      c.stabilize();
      expect(c.leaders()).toEqual(['n1']);
      c.heal();
      c.run(120);
      expect(c.leaders()).toHaveLength(1);
      const leader = c.leaders()[0] as string;
      expect(c.appliedData(leader)).toEqual(['x', 'y']);
      sameLog(c, leader, 'n2');
      expect(c.node('n2').status().recoveryIndex).toBe(0);
      if (preVote) await expect(c.text()).toMatchFileSnapshot('testdata/lost-state-no-vote.txt');
    },
  );

  it('does not campaign, and a restart half-way through recovery keeps it recovering', () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'x');
    c.stabilize();
    c.isolate('n2');
    c.loseLog('n2', 0);
    c.restart('n2', { recovering: true });
    c.tick('n2', 100);
    expect(c.node('n2').status()).toMatchObject({ role: 'follower', term: 0, recoveryIndex: 1 });
    expect(c.disks.get('n2')?.hardState.recoveryIndex).toBe(1);
    c.restart('n2'); // no operator flag this time: the disk remembers
    expect(c.node('n2').status().recoveryIndex).toBe(1);
    c.heal();
    c.run(10);
    expect(c.node('n2').status()).toMatchObject({ recoveryIndex: 0, commit: 2 });
  });
});
