// Persist before you promise (a vote or acknowledgement that a crash can forget lets two leaders
// win one term, or loses a committed entry), restart from storage, and the invariant assertions.
import { describe, expect, it } from 'vitest';
import { InvariantError, RaftNode } from '../node.js';
import { createRng } from '../rng.js';
import type { Message } from '../types.js';
import { BASE_CONFIG, Cluster, restored } from './harness.js';

const voters = ['n1', 'n2', 'n3'];
const follower = (id = 'n2', extra = {}): RaftNode =>
  new RaftNode({ ...BASE_CONFIG, id, voters, rng: createRng(1), ...extra });
const noop = (index: number, term: number) => ({
  index,
  term,
  type: 'noop' as const,
  data: new Uint8Array(0),
});

describe('persist before you promise', () => {
  it('§5.3 a follower acknowledges an append only in the Ready that carries the appended entries', () => {
    const n2 = follower();
    n2.step({
      type: 'append',
      from: 'n1',
      to: 'n2',
      term: 1,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [noop(1, 1)],
      commit: 0,
    });
    const rd = n2.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([1]);
    expect(rd.mustSync).toBe(true);
    expect(rd.hardState).toMatchObject({ term: 1 });
    expect(rd.messages).toEqual([
      expect.objectContaining({ type: 'append-response', success: true, matchIndex: 1 }),
    ]);
    n2.advance();
    expect(n2.hasReady()).toBe(false);
  });

  it('§5.2 a vote is granted only in the Ready that carries the hard state recording it', () => {
    const n2 = follower();
    n2.step({ type: 'vote', from: 'n3', to: 'n2', term: 4, preVote: false, lastLogIndex: 0, lastLogTerm: 0 });
    const rd = n2.ready();
    expect(rd.hardState).toEqual({ term: 4, vote: 'n3', commit: 0 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'vote-response', granted: true, term: 4 })]);
  });

  it('§5.3 a leader counts its own log toward a commit only after advance() (its entries are durable)', () => {
    const c = new Cluster(voters);
    c.elect('n1');
    const n1 = c.node('n1');
    n1.propose(new TextEncoder().encode('x'));
    const rd = n1.ready(); // the driver starts persisting 2/1 and sends the appends
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    const toN2 = rd.messages.find((m) => m.to === 'n2') as Message;
    c.node('n2').step(toN2);
    const ack = c.node('n2').ready().messages[0] as Message;
    n1.step(ack); // n2 has it durably; n1 does not yet: one replica of three is no majority
    expect(n1.status().commit).toBe(1);
    n1.advance(); // n1's write finished: now two of three
    expect(n1.status().commit).toBe(2);
  });

  it('messages from outside the configuration or addressed to another node are ignored', () => {
    const n2 = follower();
    n2.step({ type: 'vote', from: 'n9', to: 'n2', term: 5, preVote: false, lastLogIndex: 0, lastLogTerm: 0 });
    n2.step({ type: 'vote', from: 'n1', to: 'n3', term: 5, preVote: false, lastLogIndex: 0, lastLogTerm: 0 });
    expect(n2.hasReady()).toBe(false);
    expect(n2.status()).toMatchObject({ term: 0, vote: '' });
  });

  it('a Ready must be advanced before the next one is taken', () => {
    const n2 = follower();
    n2.campaign();
    n2.ready();
    expect(() => n2.ready()).toThrow(/before advance/);
  });
});

describe('restart from storage', () => {
  it('§5.2 a crashed follower restarts from its disk, keeps its term and log, and catches up', async () => {
    const c = new Cluster(voters);
    c.elect('n1');
    c.propose('n1', 'a');
    c.stabilize();
    c.isolate('n3');
    c.propose('n1', 'b');
    c.stabilize();
    c.restart('n3');
    expect(c.node('n3').status()).toMatchObject({
      role: 'follower',
      term: 1,
      vote: 'n1',
      lastIndex: 2,
      commit: 2,
    });
    expect(c.appliedData('n3')).toEqual(['a']);
    c.heal();
    c.run(3);
    expect(c.appliedData('n3')).toEqual(['a', 'b']);
    await expect(c.text()).toMatchFileSnapshot('testdata/restart-catches-up.txt');
  });

  it('restart after a torn write: commit is capped at the durable log, and entries of a newer term adopt that term', () => {
    const n = follower('n2', restored([1, 1], 1, 3));
    expect(n.status()).toMatchObject({ commit: 2, term: 1 });
    const m = follower('n2', restored([1, 2], 1, 0, 'n1'));
    expect(m.status()).toMatchObject({ term: 2, vote: '' });
    expect(m.ready().hardState).toEqual({ term: 2, vote: '', commit: 0 }); // the adopted term is persisted
  });

  it('a follower that crashes before persisting loses the entries, but it never acknowledged them', async () => {
    const c = new Cluster(voters);
    c.elect('n1');
    c.isolate('n3');
    c.halt('n2'); // n2's driver has not persisted (nor sent) anything yet
    c.propose('n1', 'x');
    c.stabilize();
    expect(c.node('n2').status().lastIndex).toBe(2); // in memory only
    expect(c.node('n1').status().commit).toBe(1); // no acknowledgement left n2
    c.restart('n2');
    expect(c.node('n2').status().lastIndex).toBe(1);
    c.resume('n2');
    c.run(3); // the leader resends; now n2 persists, then acknowledges
    expect(c.node('n1').status().commit).toBe(2);
    await expect(c.text()).toMatchFileSnapshot('testdata/crash-before-persist.txt');
  });

  it('restart with an applied index hands out only the entries after it', () => {
    const n = follower('n2', { ...restored([1, 1, 1], 1, 3), applied: 2 });
    expect(n.ready().committedEntries.map((e) => e.index)).toEqual([3]);
  });
});

describe('invariants crash the node (InvariantError)', () => {
  it('restored state must be consistent: a contiguous log, applied within commit', () => {
    expect(() => follower('n2', { ...restored([1, 1], 1, 1), applied: 2 })).toThrow(
      /applied 2 beyond commit 1/,
    );
    const gap = {
      initial: { hardState: { term: 1, vote: '', commit: 0 }, entries: [noop(1, 1), noop(3, 1)] },
    };
    expect(() => follower('n2', gap)).toThrow(/not contiguous/);
  });

  it('§5.4 a committed entry is never replaced (leader completeness)', () => {
    const n2 = follower('n2', restored([1, 1], 1, 2));
    const bad = {
      type: 'append' as const,
      from: 'n1',
      to: 'n2',
      term: 2,
      prevLogIndex: 1,
      prevLogTerm: 1,
      entries: [noop(2, 2)],
      commit: 2,
    };
    expect(() => n2.step(bad)).toThrow(/conflict at committed index 2/);
  });

  it('§5.2 election safety: a leader that hears from another leader of its term crashes', () => {
    const c = new Cluster(voters);
    c.elect('n1');
    const n1 = c.node('n1');
    const other = {
      type: 'heartbeat' as const,
      from: 'n2',
      to: 'n1',
      term: 1,
      commit: 0,
      context: new Uint8Array(0),
    };
    expect(() => n1.step(other)).toThrow(InvariantError);
  });

  it('§5.3 a leader never overwrites its own log', () => {
    const c = new Cluster(voters);
    c.elect('n1');
    const log = (c.node('n1') as unknown as { log: { appendAsLeader(e: unknown): void } }).log;
    expect(() => log.appendAsLeader(noop(1, 1))).toThrow(/leader appends index 1 after 1/);
  });
});

describe('configuration', () => {
  it('rejects bad configs with a clear error', () => {
    expect(() => follower('n9')).toThrow(/must include this node n9/);
    expect(() => follower('n2', { electionTimeoutTicksMax: 5 })).toThrow(
      /electionTimeoutTicksMax must be >=/,
    );
    expect(() => follower('n2', { heartbeatIntervalTicks: 10 })).toThrow(/heartbeatIntervalTicks must be </);
    expect(() => follower('n2', { readMode: 'lease' })).toThrow(/requires checkQuorum/);
    expect(() => follower('n2', { inflightAppendsMax: 0 })).toThrow(
      /inflightAppendsMax must be a positive integer/,
    );
  });

  it('refuses proposals on a follower with NOT_LEADER and the leader hint, and beyond proposalsPendingMax with OVERLOADED', () => {
    const c = new Cluster(voters, { proposalsPendingMax: 2 });
    c.elect('n1');
    const r = c.node('n2').propose(new Uint8Array(1));
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_LEADER', leaderHint: 'n1', definite: true } });
    expect(c.node('n2').readIndex(1)).toBe(r.ok ? undefined : r.error); // one shared instance per (term, role, leader)
    c.isolate('n1');
    expect(c.propose('n1', 'a').ok).toBe(true);
    expect(c.propose('n1', 'b').ok).toBe(true);
    expect(c.propose('n1', 'c')).toMatchObject({ ok: false, error: { code: 'OVERLOADED' } });
  });
});
