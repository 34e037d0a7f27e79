// Log compaction and InstallSnapshot (Raft paper §7): scripted clusters, with golden traces.
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../node.js';
import { createRng } from '../rng.js';
import type { Message, Ready, SnapshotMessage } from '../types.js';
import { BASE_CONFIG, Cluster, logOf } from './harness.js';

const isChunk = (m: Message): m is SnapshotMessage => m.type === 'snapshot';
const CHUNKED = { snapshotChunkBytes: 16, snapshotChunksInflightMax: 2 };

/** n1 leads; n3 is cut off while n1 commits `count` entries, snapshots and compacts, then heals. */
function compactedBehindN3(count: number, compactThrough?: number): Cluster {
  const c = new Cluster(['n1', 'n2', 'n3'], CHUNKED);
  c.elect('n1');
  c.isolate('n3');
  for (let i = 1; i <= count; i++) c.propose('n1', `v${i}`);
  c.stabilize();
  c.takeSnapshot('n1', compactThrough);
  c.heal();
  return c;
}

describe('§7 log compaction and InstallSnapshot', () => {
  it('§7 a follower behind the compacted log gets the snapshot in chunks, installs it, then replicates', async () => {
    const c = compactedBehindN3(6);
    expect(c.node('n1').logStart()).toEqual({ index: 7, term: 1 });
    c.propose('n1', 'after');
    c.run(4);
    expect(c.appliedData('n3')).toEqual(c.appliedData('n1'));
    expect(c.node('n3').status()).toMatchObject({ commit: 8, applied: 8, lastIndex: 8 });
    expect(c.node('n3').logStart()).toEqual({ index: 7, term: 1 });
    expect(c.disks.get('n3')?.snapshot?.meta).toEqual({ index: 7, term: 1 });
    expect(c.trace.some((l) => l.includes('NOTICE SNAPSHOT_SENT'))).toBe(true);
    await expect(c.text()).toMatchFileSnapshot('testdata/snapshot-install.txt');
  });

  it('§7 at most snapshotChunksInflightMax chunks are unacknowledged', () => {
    const c = compactedBehindN3(6);
    c.tickAll(3); // heartbeat round: n3 answers, n1 probes and finds it behind the snapshot
    for (let i = 0; i < 6 && !c.queue.some(isChunk); i++) c.deliver();
    expect(c.queue.filter(isChunk)).toHaveLength(2);
    expect(c.queue.filter(isChunk).map((m) => m.offset)).toEqual([0, 16]);
  });

  it('§7 a lost chunk is asked for again and re-sent after a heartbeat answer, not in a loop', async () => {
    const c = compactedBehindN3(6);
    // The first chunk at offset 16 is lost (the filter is asked more than once per message).
    let lost: Message | undefined;
    c.run(8, (m) => {
      if (lost === undefined && isChunk(m) && m.offset === 16) lost = m;
      return m === lost;
    });
    expect(lost).toBeDefined();
    expect(c.appliedData('n3')).toEqual(c.appliedData('n1'));
    const resent = c.trace.filter((l) => /^n1->n3 snapshot .* offset=16 /.test(l));
    expect(resent.length).toBeGreaterThanOrEqual(1);
    await expect(c.text()).toMatchFileSnapshot('testdata/snapshot-lost-chunk.txt');
  });

  it('§7 a snapshot at or below the commit index is not installed (newer only): it answers with its commit', () => {
    const c = compactedBehindN3(6);
    c.run(6);
    const stale: SnapshotMessage = {
      type: 'snapshot',
      from: 'n1',
      to: 'n3',
      term: 1,
      metaIndex: 4,
      metaTerm: 1,
      offset: 0,
      data: new Uint8Array([1]),
      done: true,
      totalBytes: 1,
    };
    const before = c.node('n3').status();
    c.queue = [stale];
    c.deliver();
    expect(c.node('n3').status()).toEqual(before);
    expect(c.queue).toEqual([
      expect.objectContaining({ type: 'append-response', success: true, matchIndex: before.commit }),
    ]);
  });

  it('§7 a follower whose log holds the snapshot last entry keeps the suffix and only commits', () => {
    const n = follower({
      initial: { hardState: { term: 1, vote: '', commit: 2 }, entries: logOf([1, 1, 1, 1, 1]) },
    });
    n.step(chunk({ metaIndex: 3, metaTerm: 1 }));
    const rd = n.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(n.status()).toMatchObject({ commit: 3, lastIndex: 5 });
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'append-response', matchIndex: 3 })]);
  });

  it('§7 a follower whose log conflicts at the snapshot index discards its whole log and installs it', () => {
    const n = follower({
      initial: { hardState: { term: 2, vote: '', commit: 1 }, entries: logOf([1, 1, 1, 1]) },
    });
    n.step(chunk({ metaIndex: 3, metaTerm: 2 }));
    const rd: Ready = n.ready();
    expect(rd.snapshot?.meta).toEqual({ index: 3, term: 2 });
    expect(rd.mustSync).toBe(true);
    expect(rd.hardState?.commit).toBe(3);
    expect(rd.committedEntries).toEqual([]);
    expect(n.status()).toMatchObject({ commit: 3, lastIndex: 3 });
    n.advance();
    expect(n.status().applied).toBe(3);
    expect(n.logStart()).toEqual({ index: 3, term: 2 });
  });

  it('buffers one transfer at most and refuses an image above snapshotBytesMax (retried after a heartbeat)', () => {
    const c = new Cluster(['n1', 'n2', 'n3'], CHUNKED, 1, { n3: { snapshotBytesMax: 20 } });
    c.elect('n1');
    c.isolate('n3');
    for (let i = 1; i <= 6; i++) c.propose('n1', `v${i}`);
    c.stabilize();
    c.takeSnapshot('n1');
    c.heal();
    c.run(12);
    const refusals = c.trace.filter((l) => l.startsWith('n1 NOTICE SNAPSHOT_REJECTED'));
    // Once per heartbeat answer, not a loop: 12 ticks with a heartbeat every 3 ticks.
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.length).toBeLessThanOrEqual(5);
    expect(c.node('n3').status().commit).toBe(1);
  });

  it('a restarted node boots from its snapshot and the entries after it', () => {
    const c = compactedBehindN3(6, 5);
    c.run(6);
    c.propose('n1', 'x');
    c.stabilize();
    c.takeSnapshot('n3', 7);
    c.restart('n3');
    expect(c.node('n3').logStart()).toEqual({ index: 8, term: 1 });
    expect(c.node('n3').status()).toMatchObject({ applied: 8, lastIndex: 8 });
    c.propose('n1', 'y');
    c.run(3);
    expect(c.appliedData('n3')).toEqual(c.appliedData('n1'));
  });

  it('compaction past the durable snapshot is an invariant violation', () => {
    const c = compactedBehindN3(3);
    expect(() => c.node('n1').compact(9)).toThrow(/past the durable snapshot/);
  });

  it('UNSAFE install-older-snapshot: a follower rolls back its commit for a stale snapshot', () => {
    const n = follower(
      { initial: { hardState: { term: 2, vote: '', commit: 4 }, entries: logOf([1, 1, 1, 1]) }, applied: 4 },
      ['install-older-snapshot'],
    );
    n.step(chunk({ metaIndex: 2, metaTerm: 1, term: 2 }));
    const rd = n.ready();
    expect(rd.snapshot?.meta.index).toBe(2);
    n.advance();
    expect(n.status()).toMatchObject({ commit: 2, applied: 2 });
  });
});

function follower(
  extra: Partial<ConstructorParameters<typeof RaftNode>[0]>,
  unsafe: readonly 'install-older-snapshot'[] = [],
): RaftNode {
  return new RaftNode({
    ...BASE_CONFIG,
    id: 'n2',
    voters: ['n1', 'n2', 'n3'],
    rng: createRng(3),
    unsafe: new Set(unsafe),
    ...extra,
  });
}

function chunk(meta: { metaIndex: number; metaTerm: number; term?: number }): SnapshotMessage {
  return {
    type: 'snapshot',
    from: 'n1',
    to: 'n2',
    term: meta.term ?? 2,
    metaIndex: meta.metaIndex,
    metaTerm: meta.metaTerm,
    offset: 0,
    data: new Uint8Array([7, 7]),
    done: true,
    totalBytes: 2,
  };
}
