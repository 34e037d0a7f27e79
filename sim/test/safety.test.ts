// Scripted checks of the safety checker: each rule is driven by hand through the exact schedule
// that should (or should not) trip it, so a rule that random search reaches rarely is still pinned.
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../../server/raft/node.js';
import type { Entry } from '../../server/raft/types.js';
import { SimDisk } from '../disk.js';
import { SimRng } from '../rng.js';
import { defaultSimOptions, parseFaults } from '../config.js';
import { isLiveness, SafetyChecker } from '../safety.js';
import { Simulation } from '../simulation.js';

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array([index]),
});

function world(nodes = 3): { disks: Map<string, SimDisk>; safety: SafetyChecker } {
  const disks = new Map<string, SimDisk>();
  for (let i = 1; i <= nodes; i++) disks.set(`n${i}`, new SimDisk());
  return { disks, safety: new SafetyChecker(disks, Math.floor(nodes / 2) + 1) };
}

/** Writes entries 1..n of the given terms to a node's disk. */
function writeLog(disk: SimDisk | undefined, terms: readonly number[]): void {
  disk?.write(
    undefined,
    terms.map((t, i) => entry(i + 1, t)),
    true,
  );
}

/**
 * n3 (leader of term 12) has committed entry 2 (term 1) with n2; n1 lacks it and then becomes
 * leader of `term`.
 */
function lateLeaderAfterCommitInTerm12(term: number): ReturnType<typeof world>['safety'] {
  const { disks, safety } = world();
  writeLog(disks.get('n2'), [1, 1]);
  writeLog(disks.get('n3'), [1, 1]);
  writeLog(disks.get('n1'), [1]);
  safety.observe('n3', 'leader', 12, 2, 0);
  safety.applied('n3', disks.get('n3')?.entryAt(1) as Entry);
  safety.applied('n3', disks.get('n3')?.entryAt(2) as Entry);
  safety.observe('n1', 'leader', term, 0, 0);
  return safety;
}

describe('leader completeness', () => {
  // Seed 4984 (3 nodes, before the torn-write change moved its trace): n1, a candidate of term 11
  // paused with its vote grants queued, woke after n3 (leader of term 12) had committed entry 478
  // of term 10, and became leader of term 11 without it. Correct: Raft promises an entry committed
  // in term 12 to leaders of later terms only, and a term-11 leader can no longer commit anything.
  it('does not demand an entry committed in a later term from a late leader of an older term', () => {
    const safety = lateLeaderAfterCommitInTerm12(11);
    expect(safety.violation).toBeUndefined();
  });

  it('demands it from a leader of a later term (the Figure 8 bug)', () => {
    const safety = lateLeaderAfterCommitInTerm12(13);
    expect(safety.violation?.property).toBe('leader completeness');
    expect(safety.violation?.detail).toBe(
      'n1 became leader of term 13 without entry 2 (term 1), committed in term 12',
    );
  });
});

/** One node of a 3-node cluster on a SimDisk, driven by hand: persists each Ready like the host. */
function voter(disk: SimDisk): RaftNode {
  const durable = disk.read();
  const node = new RaftNode({
    id: 'n1',
    voters: ['n1', 'n2', 'n3'],
    electionTimeoutTicksMin: 10,
    electionTimeoutTicksMax: 20,
    heartbeatIntervalTicks: 2,
    appendEntriesMax: 64,
    appendBytesMax: 64 * 1024,
    inflightAppendsMax: 16,
    proposalsPendingMax: 100,
    readsPendingMax: 100,
    preVote: true,
    checkQuorum: true,
    readMode: 'read-index',
    unsafe: new Set(),
    rng: new SimRng(1).fork('raft'),
    ...(durable.hardState.term > 0 ? { initial: durable } : {}),
    applied: durable.hardState.commit,
  });
  return node;
}

function requestVote(node: RaftNode, disk: SimDisk, from: string, term: number): boolean {
  node.step({ type: 'vote', from, to: 'n1', term, preVote: false, lastLogIndex: 0, lastLogTerm: 0 });
  let granted = false;
  while (node.hasReady()) {
    const ready = node.ready();
    disk.write(ready.hardState, ready.entries, ready.mustSync);
    for (const m of ready.messages) if (m.type === 'vote-response' && m.granted) granted = true;
    node.advance();
  }
  return granted;
}

describe('one vote per term, across restarts', () => {
  it('catches a node that forgets its vote on restart and votes again in the same term', () => {
    const { disks, safety } = world();
    const disk = disks.get('n1') as SimDisk;
    disk.onDurable = (hs) => safety.durableHardState('n1', hs);
    expect(requestVote(voter(disk), disk, 'n2', 5)).toBe(true);
    // A correct restart remembers the vote: n3's request for the same term is refused.
    expect(requestVote(voter(disk), disk, 'n3', 5)).toBe(false);
    expect(safety.violation).toBeUndefined();
    disk.forgetVote(); // the unsafe forget-vote-on-restart driver
    expect(requestVote(voter(disk), disk, 'n3', 5)).toBe(true);
    expect(safety.violation?.property).toBe('one vote per term');
    expect(safety.violation?.detail).toBe('n1 voted for n2 and then n3 in term 5');
  });
});

describe('no regress across restarts', () => {
  it('catches a restart that reads back less than its driver was promised was fsynced', () => {
    const { disks, safety } = world();
    const disk = disks.get('n1') as SimDisk;
    disk.write({ term: 3, vote: 'n1', commit: 0 }, [entry(1, 3)], true);
    disk.write({ term: 3, vote: 'n1', commit: 1 }, [], false);
    disk.crash(); // the commit was never promised durable: coming back with 0 is fine
    safety.checkRestart('n1', disk, 0, 0);
    expect(safety.violation).toBeUndefined();
    disk.unsafeSyncOnlyEntries = true; // the unsafe hard-state-no-fsync driver
    disk.write({ term: 4, vote: 'n2', commit: 1 }, [], true);
    disk.crash();
    safety.checkRestart('n1', disk, 0, 0);
    expect(safety.violation?.detail).toBe('n1 restarted with term 3 < 4 (its last fsynced hard state)');
  });
});

describe('state machines equal', () => {
  it('compares digests at equal applied indexes, whoever gets there first', () => {
    const { safety } = world();
    safety.stateHash('n1', 64, 0xabc);
    safety.stateHash('n2', 64, 0xabc);
    safety.stateHash('n2', 128, 0x123);
    expect(safety.violation).toBeUndefined();
    safety.stateHash('n3', 128, 0x124);
    expect(safety.violation?.property).toBe('state machines equal');
  });
});

describe('liveness after the final heal', () => {
  it('reports a cluster that cannot elect a leader as a liveness failure, not a safety one', () => {
    // Two of three nodes crash at 1 ms for good (outside the nemesis: the final heal does not restart
    // them): operations time out, the run heals, and no leader can follow.
    const sim = new Simulation(
      defaultSimOptions({ seed: 7, nodes: 3, ops: 20, faults: parseFaults('none') }),
    );
    sim.queue.push(1_000_000, {
      k: 'call',
      action: () => {
        sim.hosts.get('n1')?.crash();
        sim.hosts.get('n2')?.crash();
      },
    });
    const violation = sim.run();
    expect(violation?.property).toBe('liveness: leader after heal');
    expect(isLiveness(violation?.property ?? 'internal error')).toBe(true);
    expect(isLiveness('leader completeness')).toBe(false);
  });

  it('reports final operations the cluster never answers as a client progress failure', () => {
    // Every node drops client requests on the floor (a server that stopped serving clients while
    // Raft itself is healthy): the final operations after the heal time out.
    const sim = new Simulation(defaultSimOptions({ seed: 7, nodes: 3, ops: 5, faults: parseFaults('none') }));
    for (const host of sim.hosts.values()) host.handleRequest = () => false;
    const violation = sim.run();
    expect(violation?.property).toBe('liveness: client progress');
    expect(violation?.detail).toMatch(/after the final heal ended (info|fail) TIMEOUT/);
  });
});
