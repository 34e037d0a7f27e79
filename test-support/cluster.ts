// For the tests of any part that need real `lab server` processes on loopback: a test reaches a
// running cluster through here, never through the server's internals.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type RaftlabClient } from '../client/index.js';
import { LocalCluster } from '../server/local-cluster.js';

export type { LocalCluster };

/** Small timeouts so elections take a fraction of a second in tests. */
export const FAST_TIMEOUTS = [
  '--tick-ms',
  '5',
  '--heartbeat-interval-ms',
  '25',
  '--election-timeout-ms',
  '150',
];

export async function startTestCluster(
  nodes: number,
  extraArgs: readonly string[] = [],
): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-test-'));
  return LocalCluster.start({ nodes, dir, serverArgs: [...FAST_TIMEOUTS, ...extraArgs] });
}

export function removeTestCluster(cluster: LocalCluster | undefined): void {
  if (!cluster) return;
  cluster.killAll();
  rmSync(cluster.state.dir, { recursive: true, force: true });
}

export function testClient(cluster: LocalCluster, endpoints = cluster.endpoints): RaftlabClient {
  return createClient({
    endpoints,
    requestTimeoutMs: 1000,
    operationTimeoutMs: 10_000,
    retryDelayMsMin: 10,
    retryDelayMsMax: 100,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** The id of the node that every running node agrees is leader. */
export async function waitForLeader(cluster: LocalCluster, client: RaftlabClient): Promise<string> {
  return eventually('a leader', async () => {
    for (const node of cluster.state.nodes) {
      if (!cluster.isRunning(node.id)) continue;
      const s = await client.status(cluster.endpoint(node.id));
      if (s.role === 'leader') return s.nodeId;
    }
    return undefined;
  });
}

/** Waits until every running node has applied at least `index`. */
export async function waitForApplied(
  cluster: LocalCluster,
  client: RaftlabClient,
  index: number,
): Promise<void> {
  for (const node of cluster.state.nodes) {
    if (!cluster.isRunning(node.id)) continue;
    await eventually(`${node.id} to apply ${index}`, async () => {
      const s = await client.status(cluster.endpoint(node.id));
      return s.appliedIndex >= index ? true : undefined;
    });
  }
}
