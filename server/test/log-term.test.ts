// The server log names the term a node follows its leader in. A restarted node that rejoins the
// leader of the term it already had on disk changes no hard state, and used to log "term 0".
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../local-cluster.js';
import {
  eventually,
  removeTestCluster,
  startTestCluster,
  testClient,
  waitForLeader,
} from '../../test-support/cluster.js';

describe('the server log after a restart', () => {
  let cluster: LocalCluster | undefined;
  afterAll(() => removeTestCluster(cluster));

  it('says the term the node follows its leader in, not 0', async () => {
    cluster = await startTestCluster(3);
    const client = testClient(cluster);
    try {
      const leader = await waitForLeader(cluster, client);
      await client.put('k', 'v'); // the followers now hold the leader's term on disk
      const follower = cluster.state.nodes.find((n) => n.id !== leader)!.id;
      const { term } = await client.status(cluster.endpoint(leader));
      await cluster.kill(follower);
      const before = cluster.log(follower).length;
      await cluster.restart(follower);
      const line = await eventually(
        `${follower} following ${leader}`,
        async () => /follows leader \S+ in term \d+/.exec(cluster!.log(follower).slice(before))?.[0],
      );
      // A new election during the restart is possible on a loaded machine: any term from the
      // leader's on, but never 0.
      const followedTerm = Number(/in term (\d+)/.exec(line)![1]);
      expect(followedTerm).toBeGreaterThanOrEqual(term);
    } finally {
      client.close();
    }
  }, 120_000);
});
