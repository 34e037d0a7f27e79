// A follower that lost acknowledged log entries, on real processes (issue 10): its WAL truncated in
// the middle of acknowledged records, or its wal/ wiped, or its whole data directory wiped. It must
// catch up within a bound, the logs must not explode (the bug: 45,000-75,000 lines/s of "rejected
// append ... log conflict"), and every acknowledged write must stay readable, also once the old
// leader is gone.
import { spawn, spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RaftlabClient } from '../../client/index.js';
import { freePorts } from '../../shared/free-ports.js';
import { labBinary, type LocalCluster } from '../local-cluster.js';
import {
  eventually,
  removeTestCluster,
  sleep,
  startTestCluster,
  testClient,
  waitForLeader,
} from './helpers.js';

/** Log lines a node may write in 2 s once things settle (heartbeat-paced at worst, 25 ms here). */
const LOG_LINES_PER_2S_MAX = 40;
const CATCH_UP_MS_MAX = 10_000;

let cluster: LocalCluster | undefined;
let client: RaftlabClient | undefined;
afterEach(() => {
  client?.close();
  removeTestCluster(cluster);
  cluster = undefined;
  client = undefined;
});

async function writeKeys(c: RaftlabClient, prefix: string, count: number): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const key = `${prefix}${i}`;
    await c.put(key, `value-${key}`);
    acked.set(key, `value-${key}`);
  }
  return acked;
}

/** A byte offset 5 bytes into the record that starts nearest `offset` (records: u32 length, u32 crc, u8 type, payload). */
function middleOfRecordNear(segment: string, offset: number): number {
  const buf = readFileSync(segment);
  let at = 0;
  while (at < offset) at += 9 + buf.readUInt32BE(at);
  return at + 5;
}

function lineCount(c: LocalCluster, id: string): number {
  return c.log(id).split('\n').length;
}

/** Waits until `id` has applied the leader's commit index; returns how long it took. */
async function caughtUp(c: LocalCluster, cl: RaftlabClient, id: string, leader: string): Promise<number> {
  const started = performance.now();
  const target = (await cl.status(c.endpoint(leader))).commitIndex;
  await eventually(
    `${id} to apply ${target}`,
    async () => ((await cl.status(c.endpoint(id))).appliedIndex >= target ? true : undefined),
    CATCH_UP_MS_MAX,
  );
  return performance.now() - started;
}

/** Logs stay quiet: no node writes more than a handful of lines in 2 s. */
async function expectQuietLogs(c: LocalCluster): Promise<void> {
  const before = c.state.nodes.map((n) => lineCount(c, n.id));
  await sleep(2000);
  const grown = c.state.nodes.map((n, i) => lineCount(c, n.id) - (before[i] ?? 0));
  console.log(`log lines written in 2 s after recovery: ${grown.join(', ')}`);
  for (const g of grown) expect(g).toBeLessThan(LOG_LINES_PER_2S_MAX);
}

/** Kills the old leader, so the recovered follower's copy must serve; every acked write is read back. */
async function expectAllReadable(
  c: LocalCluster,
  cl: RaftlabClient,
  leader: string,
  acked: Map<string, string>,
) {
  await c.kill(leader, 'SIGKILL');
  await waitForLeader(c, cl);
  for (const [key, value] of acked) expect(await cl.get(key)).toBe(value);
}

interface SetUp {
  c: LocalCluster;
  cl: RaftlabClient;
  leader: string;
  follower: string;
  acked: Map<string, string>;
}

/** A 3-node cluster with `keys` acknowledged writes that a follower has applied. */
async function setUp(keys: number): Promise<SetUp> {
  cluster = await startTestCluster(3);
  client = testClient(cluster);
  const leader = await waitForLeader(cluster, client);
  const follower = cluster.state.nodes.map((n) => n.id).find((id) => id !== leader) as string;
  const acked = await writeKeys(client, 'a', keys);
  await caughtUp(cluster, client, follower, leader);
  return { c: cluster, cl: client, leader, follower, acked };
}

/** `id` says it recovered, and it did not campaign while recovering (since the line `from`). */
async function expectRecovered(c: LocalCluster, id: string, from = 'rejoins after data loss'): Promise<void> {
  await eventually(`${id} to say it recovered`, async () =>
    /recovered from lost state/.test(c.log(id)) ? true : undefined,
  );
  const log = c.log(id);
  const recovering = log.slice(log.lastIndexOf(from), log.indexOf('recovered from lost state'));
  expect(recovering).not.toMatch(/became (pre-)?candidate/);
}

/** Runs `lab server` until it says it serves clients (or 20 s pass), stops it with SIGTERM, returns its stderr. */
async function serveThenStop(args: readonly string[]): Promise<string> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await eventually(
    'lab server to serve',
    async () => (stderr.includes('serving clients') ? true : undefined),
    20_000,
  ).finally(() => child.kill('SIGTERM'));
  await exited;
  return stderr;
}

describe('lab server on a data directory whose log is gone', () => {
  it('exits 255 with a message naming the flag, through a pipe; with the flag it starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftlab-lost-'));
    try {
      writeFileSync(join(dir, 'MEMBER'), JSON.stringify({ node: 'n1', cluster: 'n1' }));
      const [clientPort, peerPort] = await freePorts(2);
      const args = [
        labBinary(),
        'server',
        '--id',
        'n1',
        '--cluster',
        `n1=127.0.0.1:${clientPort}/${peerPort}`,
      ];
      const refused = spawnSync(process.execPath, [...args, '--data-dir', dir], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(refused.status).toBe(255);
      expect(refused.stderr).toMatch(
        /cannot start: data directory .* write-ahead log is empty.*--rejoin-after-data-loss/s,
      );
      const stderr = await serveThenStop([...args, '--data-dir', dir, '--rejoin-after-data-loss']);
      expect(stderr).toMatch(/rejoins after data loss/);
      expect(stderr).toMatch(/n1 serving clients/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('a follower that lost acknowledged entries (real processes)', () => {
  it('with its WAL truncated in the middle of acknowledged records: restarts, is probed back, catches up, logs stay quiet', async () => {
    const { c, cl, leader, follower, acked } = await setUp(60);
    await c.kill(follower, 'SIGTERM');
    const walDir = join(c.node(follower).dataDir, 'wal');
    const segment = join(walDir, readdirSync(walDir).sort().at(-1) as string);
    const size = statSync(segment).size;
    truncateSync(segment, middleOfRecordNear(segment, size / 2)); // far below what it acknowledged
    await c.restart(follower);
    for (const [k, v] of await writeKeys(cl, 'b', 10)) acked.set(k, v);
    const ms = await caughtUp(c, cl, follower, leader);
    console.log(
      `truncated follower caught up ${Math.round(ms)} ms after the next writes (WAL cut from ${size} bytes)`,
    );
    expect(c.log(follower)).toMatch(/repaired its WAL: truncated torn tail.*cannot tell which/);
    expect(c.log(leader)).toMatch(new RegExp(`follower ${follower} lost acknowledged entries`));
    await expectQuietLogs(c);
    await expectAllReadable(c, cl, leader, acked);
  }, 60_000);

  it('with wal/ wiped: refuses to start; with --rejoin-after-data-loss it recovers without voting, then serves', async () => {
    const { c, cl, leader, follower, acked } = await setUp(40);
    await c.kill(follower, 'SIGKILL');
    rmSync(join(c.node(follower).dataDir, 'wal'), { recursive: true, force: true });
    await expect(c.restart(follower)).rejects.toThrow(
      /write-ahead\s+log is empty.*--rejoin-after-data-loss/s,
    );
    await c.restart(follower, ['--rejoin-after-data-loss']);
    for (const [k, v] of await writeKeys(cl, 'b', 10)) acked.set(k, v);
    await caughtUp(c, cl, follower, leader);
    await expectRecovered(c, follower);
    expect(c.log(follower)).toMatch(/rejoins after data loss/);
    await expectQuietLogs(c);
    await expectAllReadable(c, cl, leader, acked);
  }, 60_000);

  it('with its whole data directory wiped and --rejoin-after-data-loss: recovers, and a restart needs no flag', async () => {
    const { c, cl, leader, follower, acked } = await setUp(40);
    await c.kill(follower, 'SIGKILL');
    rmSync(c.node(follower).dataDir, { recursive: true, force: true });
    await c.restart(follower, ['--rejoin-after-data-loss']);
    await caughtUp(c, cl, follower, leader);
    await expectRecovered(c, follower);
    expect(readFileSync(join(c.node(follower).dataDir, 'MEMBER'), 'utf8')).toContain(`"node":"${follower}"`);
    await c.kill(follower, 'SIGTERM');
    await c.restart(follower); // MEMBER and a full log: an ordinary restart
    await expectAllReadable(c, cl, leader, acked);
  }, 60_000);

  it("with its whole data directory wiped and NO flag (the issue as reported): the leader's heartbeat gives it away, it recovers without campaigning", async () => {
    const { c, cl, leader, follower, acked } = await setUp(40);
    await c.kill(follower, 'SIGKILL');
    rmSync(c.node(follower).dataDir, { recursive: true, force: true });
    await c.restart(follower); // looks like a brand-new node: nothing on disk says otherwise
    for (const [k, v] of await writeKeys(cl, 'b', 5)) acked.set(k, v);
    await caughtUp(c, cl, follower, leader);
    await expectRecovered(c, follower, 'lost acknowledged entries');
    expect(c.log(leader)).toMatch(new RegExp(`follower ${follower} lost acknowledged entries`));
    await expectQuietLogs(c);
    await expectAllReadable(c, cl, leader, acked);
  }, 60_000);
});
