// A 3-node cluster of real processes on loopback: replication, fail-over after SIGKILL of the
// leader, a restarted node catching up, and data intact after restarting the whole cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RaftlabClient } from '../../client/index.js';
import type { LocalCluster } from '../local-cluster.js';
import {
  removeTestCluster,
  startTestCluster,
  testClient,
  waitForApplied,
  waitForLeader,
} from '../../test-support/cluster.js';

describe('a 3-node cluster of real processes', () => {
  let cluster: LocalCluster | undefined;
  let client: RaftlabClient;
  const written = new Map<string, string>();

  beforeAll(async () => {
    cluster = await startTestCluster(3);
    client = testClient(cluster);
  });

  afterAll(() => {
    client?.close();
    removeTestCluster(cluster);
  });

  it('replicates writes to every node and reads them back linearizably', async () => {
    for (let i = 0; i < 40; i++) {
      written.set(`key-${i}`, `value-${i}`);
      await client.put(`key-${i}`, `value-${i}`);
    }
    for (const [key, value] of written) expect(await client.get(key)).toBe(value);
    const leader = await client.status();
    expect(leader.role).toBe('leader');
    await waitForApplied(cluster!, client, leader.commitIndex);
  });

  it('elects a new leader after SIGKILL of the leader, and writes continue', async () => {
    const c = cluster!;
    const oldLeader = await waitForLeader(c, client);
    await c.kill(oldLeader, 'SIGKILL');
    await client.put('after-failover', 'yes');
    written.set('after-failover', 'yes');
    const newLeader = await waitForLeader(c, client);
    expect(newLeader).not.toBe(oldLeader);
    expect(await client.get('after-failover')).toBe('yes');
    // The killed node catches up after a restart.
    for (let i = 0; i < 20; i++) {
      written.set(`while-down-${i}`, `v${i}`);
      await client.put(`while-down-${i}`, `v${i}`);
    }
    await c.restart(oldLeader);
    const commit = (await client.status(c.endpoint(newLeader))).commitIndex;
    await waitForApplied(c, client, commit);
    const restarted = await client.status(c.endpoint(oldLeader));
    expect(restarted.appliedIndex).toBeGreaterThanOrEqual(commit);
    expect(c.log(oldLeader)).toMatch(/restarted from .*\d+ WAL entries after it/);
  });

  it('keeps every acknowledged write across a restart of the whole cluster', async () => {
    const c = cluster!;
    for (const node of c.state.nodes) await c.kill(node.id, 'SIGKILL');
    for (const node of c.state.nodes) await c.restart(node.id);
    await waitForLeader(c, client);
    for (const [key, value] of written) expect(await client.get(key)).toBe(value);
  });
});
