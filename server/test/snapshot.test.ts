// Snapshots on real processes (issue 15): a follower whose data directory was wiped catches up
// through InstallSnapshot while writes go on; a node killed in the middle of installing one (at the
// snapshot failpoints) restarts and catches up; and kill rounds that include crashes at every
// snapshot failpoint on every node lose nothing acknowledged and never leave a node that refuses
// to start.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RaftlabClient } from '../../client/index.js';
import type { LocalCluster } from '../local-cluster.js';
import {
  eventually,
  removeTestCluster,
  sleep,
  startTestCluster,
  testClient,
  waitForLeader,
} from '../../test-support/cluster.js';
import { dirBytes } from '../../test-support/dir-bytes.js';

/** Small thresholds so a few hundred writes make several snapshots and compactions on every node. */
const SNAPSHOT_ARGS = ['--snapshot-entries', '50', '--snapshot-tail-entries', '10'];
const CATCH_UP_MS_MAX = 20_000;

let cluster: LocalCluster | undefined;
let client: RaftlabClient | undefined;
afterEach(() => {
  client?.close();
  removeTestCluster(cluster);
  cluster = undefined;
  client = undefined;
  setFailpoints(undefined);
});

/** Nodes started from now on inherit these failpoints (LocalCluster passes this process's env). */
function setFailpoints(spec: string | undefined): void {
  if (spec === undefined) {
    delete process.env.RAFTLAB_FAILPOINTS;
    delete process.env.RAFTLAB_LAB_RUN_ID;
    return;
  }
  process.env.RAFTLAB_FAILPOINTS = spec;
  process.env.RAFTLAB_LAB_RUN_ID = 'snapshot-test';
}

async function writeKeys(c: RaftlabClient, prefix: string, count: number, acked: Map<string, string>) {
  for (let i = 0; i < count; i++) {
    await c.put(`${prefix}${i}`, `value-${prefix}${i}`);
    acked.set(`${prefix}${i}`, `value-${prefix}${i}`);
  }
}

/** Writes until stop() is called; failed writes (a node down, a timeout) are simply not acknowledged. */
function backgroundWriter(c: RaftlabClient, prefix: string, acked: Map<string, string>) {
  let stopping = false;
  const done = (async () => {
    for (let i = 0; !stopping; i++) {
      try {
        await c.put(`${prefix}${i}`, `value-${prefix}${i}`);
        acked.set(`${prefix}${i}`, `value-${prefix}${i}`);
      } catch {
        await sleep(20);
      }
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

async function caughtUp(c: LocalCluster, cl: RaftlabClient, id: string): Promise<void> {
  const leader = await waitForLeader(c, cl);
  const target = (await cl.status(c.endpoint(leader))).commitIndex;
  await eventually(
    `${id} to apply ${target}`,
    async () => ((await cl.status(c.endpoint(id))).appliedIndex >= target ? true : undefined),
    CATCH_UP_MS_MAX,
  );
}

/** Kills the leader, so the others' copies serve; every acknowledged write is read back. */
async function expectAllReadable(c: LocalCluster, cl: RaftlabClient, acked: Map<string, string>) {
  const leader = await waitForLeader(c, cl);
  await c.kill(leader, 'SIGKILL');
  await waitForLeader(c, cl);
  for (const [key, value] of acked) expect(await cl.get(key), key).toBe(value);
}

interface SetUp {
  c: LocalCluster;
  cl: RaftlabClient;
  follower: string;
  acked: Map<string, string>;
}

async function setUp(keys: number): Promise<SetUp> {
  cluster = await startTestCluster(3, SNAPSHOT_ARGS);
  client = testClient(cluster);
  const leader = await waitForLeader(cluster, client);
  const follower = cluster.state.nodes.map((n) => n.id).find((id) => id !== leader)!;
  const acked = new Map<string, string>();
  await writeKeys(client, 'a', keys, acked);
  await caughtUp(cluster, client, follower);
  return { c: cluster, cl: client, follower, acked };
}

/** SIGKILL and an empty data directory: the follower's disk is gone. */
async function wipe(c: LocalCluster, id: string): Promise<void> {
  await c.kill(id, 'SIGKILL');
  rmSync(c.node(id).dataDir, { recursive: true, force: true });
}

/** Restarts `id` with `failpoint` armed and waits until it has died there. */
async function restartIntoFailpoint(c: LocalCluster, id: string, failpoint: string): Promise<void> {
  setFailpoints(`${failpoint}=crash#1`);
  try {
    await c.restart(id, ['--rejoin-after-data-loss']);
  } catch {
    // It may die before it says it serves: the failpoint can fire during the first catch-up.
  } finally {
    setFailpoints(undefined);
  }
  await eventually(`${id} to die at ${failpoint}`, async () => (c.isRunning(id) ? undefined : true), 20_000);
  expect(c.log(id)).toContain(`failpoint ${failpoint}: crash`);
}

describe('snapshots on real processes', () => {
  it('a follower with a wiped data directory catches up through InstallSnapshot while writes continue', async () => {
    const { c, cl, follower, acked } = await setUp(300);
    await wipe(c, follower);
    const writer = backgroundWriter(cl, 'b', acked);
    await sleep(300);
    await c.restart(follower, ['--rejoin-after-data-loss']);
    await caughtUp(c, cl, follower);
    await writer.stop();
    const log = c.log(follower);
    expect(log).toMatch(/installed snapshot at index \d+/);
    expect(log).toMatch(/snapshot at index \d+ from the leader durable in \d+ ms/);
    expect(readdirSync(join(c.node(follower).dataDir, 'snap')).some((f) => f.endsWith('.snap'))).toBe(true);
    console.log(`wiped follower caught up; ${acked.size} writes acknowledged in all`);
    await expectAllReadable(c, cl, acked);
  }, 90_000);

  it('a node killed while installing a snapshot (before and after its rename) restarts and catches up', async () => {
    const { c, cl, follower, acked } = await setUp(200);
    await wipe(c, follower);
    await writeKeys(cl, 'b', 60, acked);
    await restartIntoFailpoint(c, follower, 'snapshot-before-rename');
    await restartIntoFailpoint(c, follower, 'snapshot-after-rename-before-release');
    await c.restart(follower, ['--rejoin-after-data-loss']);
    await writeKeys(cl, 'c', 20, acked);
    await caughtUp(c, cl, follower);
    // The second life died after the snapshot was durable but before its log-start record: the
    // third boots from that snapshot (and writes the record itself).
    expect(c.log(follower)).toMatch(/restarted from snapshot at index \d+/);
    await expectAllReadable(c, cl, acked);
  }, 120_000);

  it('kill rounds with crashes at every snapshot failpoint on every node: nothing acknowledged lost, every restart starts', async () => {
    const spec =
      'snapshot-before-rename=crash@0.15,snapshot-after-rename-before-release=crash@0.15,wal-release-mid=crash@0.15';
    setFailpoints(spec);
    cluster = await startTestCluster(3, SNAPSHOT_ARGS);
    client = testClient(cluster);
    const c = cluster;
    await waitForLeader(c, client);
    const acked = new Map<string, string>();
    const writer = backgroundWriter(client, 'k', acked);
    const ids = c.state.nodes.map((n) => n.id);
    let restarts = 0;
    const endMs = performance.now() + 15_000;
    for (let round = 0; performance.now() < endMs; round++) {
      await sleep(250);
      if (round % 8 === 7 && ids.every((id) => c.isRunning(id))) await c.kill(ids[round % 3]!, 'SIGKILL');
      for (const id of ids.filter((n) => !c.isRunning(n))) {
        await c.restart(id); // throws if the node refuses to start
        restarts++;
      }
    }
    await writer.stop();
    setFailpoints(undefined);
    const crashes = ids.map((id) => (c.log(id).match(/failpoint [a-z-]+: crash/g) ?? []).length);
    console.log(
      `kill rounds: ${acked.size} writes acknowledged, ${restarts} restarts, failpoint crashes ${crashes.join('/')}`,
    );
    for (const id of ids.filter((n) => !c.isRunning(n))) await c.restart(id);
    for (const id of ids) await caughtUp(c, client, id);
    expect(crashes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
    expect(acked.size).toBeGreaterThan(200);
    await expectAllReadable(c, client, acked);
  }, 120_000);
});

describe('a long run with a small snapshot threshold (the small version of npm run bench:snapshots)', () => {
  it('keeps every data directory under its bound while the log grows well past it, and loses nothing', async () => {
    const SNAPSHOT_ENTRIES = 200;
    const SEGMENT_BYTES = 64 * 1024;
    const KEYS = 100;
    const WRITES = 4000;
    cluster = await startTestCluster(3, [
      ...['--snapshot-entries', String(SNAPSHOT_ENTRIES), '--snapshot-tail-entries', '20'],
      ...['--wal-segment-bytes', String(SEGMENT_BYTES)],
    ]);
    client = testClient(cluster);
    const c = cluster;
    const cl = client;
    await waitForLeader(c, cl);
    // Two images (100 keys of ~130 bytes, sessions) + 2 x 200 + 20 entries of ~190 bytes + two
    // segments + MEMBER/LOCK: about 240 KB. Without snapshots 4000 entries take ~760 KB.
    const boundBytes = 2 * 20_000 + (2 * SNAPSHOT_ENTRIES + 20) * 190 + 2 * SEGMENT_BYTES + 4096;
    let maxBytes = 0;
    const sample = (): void => {
      for (const n of c.state.nodes) maxBytes = Math.max(maxBytes, dirBytes(n.dataDir));
    };
    const sampler = setInterval(sample, 100);
    const last = new Map<string, string>();
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < WRITES; i += 8) {
        const key = `k${i % KEYS}`; // writer w owns the keys congruent to w mod 8: one write per key at a time
        await cl.put(key, `v${i}`);
        last.set(key, `v${i}`);
      }
    });
    await Promise.all(writers).finally(() => clearInterval(sampler));
    sample();
    const walBytes = (await cl.clusterStatus()).map((r) => r.status?.walBytes ?? -1);
    console.log(
      `long run: ${WRITES} writes, largest data dir ${maxBytes} bytes (bound ${boundBytes}), WAL now ${walBytes.join('/')} bytes`,
    );
    expect(maxBytes).toBeLessThan(boundBytes);
    expect(WRITES * 150).toBeGreaterThan(2 * boundBytes); // the log alone would have gone far past it
    const leader = await waitForLeader(c, cl);
    const follower = c.state.nodes.map((n) => n.id).find((id) => id !== leader)!;
    await c.kill(follower, 'SIGKILL');
    await c.restart(follower);
    expect(c.log(follower)).toMatch(/restarted from snapshot at index \d+/);
    await caughtUp(c, cl, follower);
    await expectAllReadable(c, cl, last);
  }, 120_000);
});
