// The peer port accepts only members of this cluster. A stray node whose member list points at
// this cluster's peer ports (a second local cluster started on ports that were taken) is refused
// with the reason, logged rate-limited on both sides, redials at the backoff's ceiling instead of
// spinning, and does not disturb the cluster: same leader, same term, writes go on.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RaftlabClient } from '../../client/index.js';
import { freePorts } from '../../shared/free-ports.js';
import { labBinary, type LocalCluster } from '../local-cluster.js';
import {
  FAST_TIMEOUTS,
  eventually,
  removeTestCluster,
  sleep,
  startTestCluster,
  testClient,
  waitForLeader,
} from './helpers.js';

/** How long each stray runs after its first refusals: several redials at the 1 s backoff ceiling. */
const STRAY_MS = 4000;

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(new RegExp(pattern.source, 'g'))].length;
}

describe('cluster identity on the peer port', () => {
  let cluster: LocalCluster | undefined;
  let client: RaftlabClient;
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-stray-'));
  const strays: ChildProcess[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster(3);
    client = testClient(cluster);
    await waitForLeader(cluster, client);
    await client.put('k', 'v');
  });

  afterAll(() => {
    for (const s of strays) s.kill('SIGKILL');
    client?.close();
    removeTestCluster(cluster);
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs `lab server` with this cluster's n2 and n3 in its member list until both refused it, then
   * for STRAY_MS more; returns its log and the part written in those STRAY_MS.
   */
  async function runStray(
    id: string,
    extraArgs: readonly string[],
  ): Promise<{ log: string; window: string }> {
    const [clientPort, peerPort] = await freePorts(2);
    const member = (n: string): string => {
      const node = cluster!.node(n);
      return `${n}=127.0.0.1:${node.clientPort}/${node.peerPort}`;
    };
    const spec = `${id}=127.0.0.1:${clientPort}/${peerPort},${member('n2')},${member('n3')}`;
    const args = [
      'server',
      '--id',
      id,
      '--cluster',
      spec,
      '--data-dir',
      join(dir, id),
      '--log-level',
      'debug',
    ];
    const child = spawn(process.execPath, [labBinary(), ...args, ...FAST_TIMEOUTS, ...extraArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    strays.push(child);
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    // Start-up takes seconds on a busy machine: wait until both peers have refused it.
    await eventually(
      `${id} to be refused by n2 and n3`,
      async () =>
        /peer n2 .*refused this node/.test(log) && /peer n3 .*refused this node/.test(log) ? true : undefined,
      30_000,
    );
    const windowStart = log.length;
    await sleep(STRAY_MS);
    child.kill('SIGKILL');
    return { log, window: log.slice(windowStart) };
  }

  it('refuses a node of another cluster that shares the node ids, logs it once, and the cluster is not disturbed', async () => {
    const before = await client.status();
    const { log: strayLog, window } = await runStray('n1', []);
    for (const n of ['n2', 'n3']) {
      const log = cluster!.log(n);
      const refusal = new RegExp(
        `refused peer n1: it is in cluster "c-[0-9a-f]{16}", this node \\(${n}\\) is in cluster "c-[0-9a-f]{16}"`,
      );
      expect(count(log, refusal), log.slice(-3000)).toBe(1); // rate-limited although it redialled
      // The stray hears why, once per peer, and redials at the backoff's ceiling: a handful of
      // connections in STRAY_MS after the first refusal, not one every 20 ms.
      expect(strayLog).toMatch(
        new RegExp(`n1: peer ${n} at 127\\.0\\.0\\.1:\\d+ refused this node: refused peer n1`),
      );
      const redials = count(window, new RegExp(`connected to peer ${n} `));
      expect(redials).toBeLessThanOrEqual(12);
      expect(redials).toBeGreaterThanOrEqual(2);
    }
    const after = await client.status();
    expect([after.nodeId, after.term]).toEqual([before.nodeId, before.term]);
    await client.put('k', 'after the stray');
    expect(await client.get('k')).toBe('after the stray');
  });

  it('refuses a node id that is not a member even with the right --cluster-id', async () => {
    const clusterId = /clusterId=(c-[0-9a-f]{16})/.exec(cluster!.log('n2'))?.[1];
    expect(clusterId).toBeDefined();
    const { log: strayLog } = await runStray('n9', ['--cluster-id', clusterId!]);
    expect(cluster!.log('n2')).toMatch(/refused peer n9: not a member of cluster/);
    expect(strayLog).toMatch(/n9: peer n2 at .* refused this node: refused peer n9: not a member/);
    expect(readFileSync(cluster!.node('n2').logFile, 'utf8')).not.toMatch(/accepted peer connection from n9/);
  });
});
