// The client against a real 3-node cluster and against fake servers: leader discovery and
// redirects, a retried write applied once thanks to the session, and every error classified as
// definite (it did not happen) or indeterminate (it may have happened).
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RaftlabError, type RaftlabClient } from '../index.js';
import type { LocalCluster } from '../../server/local-cluster.js';
import { freePort } from '../../shared/free-ports.js';
import { removeTestCluster, startTestCluster, testClient, waitForLeader } from '../../server/test/helpers.js';

async function failure(promise: Promise<unknown>): Promise<RaftlabError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RaftlabError);
  return error as RaftlabError;
}

/** A TCP server that accepts and then behaves badly: never answers, or hangs up on the first byte. */
async function fakeServer(behaviour: 'silent' | 'hang-up'): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((socket) => {
    socket.on('data', () => {
      if (behaviour === 'hang-up') socket.destroy();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, endpoint: `127.0.0.1:${port}` };
}

describe('the client against a real cluster', () => {
  let cluster: LocalCluster | undefined;
  let client: RaftlabClient;
  let leader = '';

  beforeAll(async () => {
    // Default (etcd) timeouts: on a busy machine the fast test timeouts would move leadership mid-test.
    cluster = await startTestCluster(3, ['--heartbeat-interval-ms', '100', '--election-timeout-ms', '1000']);
    client = testClient(cluster);
    leader = await waitForLeader(cluster, client);
  });

  afterAll(() => {
    client?.close();
    removeTestCluster(cluster);
  });

  it('finds the leader from a follower endpoint by following the NOT_LEADER hint', async () => {
    const follower = cluster!.state.nodes.find((n) => n.id !== leader)!.id;
    const c = testClient(cluster!, [cluster!.endpoint(follower)]);
    try {
      await c.put('redirected', 'yes');
      // The write went to the node the hint named, which the client now knows as leader.
      expect(c.leaderEndpoint).not.toBe(cluster!.endpoint(follower));
      expect(cluster!.endpoints).toContain(c.leaderEndpoint);
      expect(await c.get('redirected')).toBe('yes');
    } finally {
      c.close();
    }
  });

  it('applies a write once when its response is lost and it is retried (session dedup)', async () => {
    const c = createClient({
      endpoints: cluster!.endpoints,
      requestTimeoutMs: 300,
      testHooks: { dropResponse: (op, attempt) => op === 'append' && attempt === 1 },
    });
    try {
      expect(await c.append('once', 'x')).toBe('x');
      expect(await c.append('once', 'y')).toBe('xy');
      expect(await client.get('once')).toBe('xy');
    } finally {
      c.close();
    }
  });

  it('reports a cas mismatch as definite and a cas on an absent key with expected null as success', async () => {
    await client.cas('cas-key', null, 'one');
    const error = await failure(client.cas('cas-key', 'wrong', 'two'));
    expect(error.code).toBe('CAS_MISMATCH');
    expect(error.definite).toBe(true);
    await client.cas('cas-key', 'one', 'two');
    expect(await client.get('cas-key')).toBe('two');
  });
});

describe('the same lost response without session dedup', () => {
  it('applies the retried append twice (so the dedup test above can fail)', async () => {
    const cluster = await startTestCluster(1, ['--unsafe', 'no-session-dedup']);
    const c = createClient({
      endpoints: cluster.endpoints,
      requestTimeoutMs: 300,
      testHooks: { dropResponse: (op, attempt) => op === 'append' && attempt === 1 },
    });
    try {
      await waitForLeader(cluster, c);
      // Applied once per attempt that reached the log: at least twice (more if attempt 2 also timed out).
      expect(await c.append('twice', 'x')).toMatch(/^xx+$/);
    } finally {
      c.close();
      removeTestCluster(cluster);
    }
  });
});

describe('error classification', () => {
  it('fails definitely (UNAVAILABLE) when no endpoint accepts a connection', async () => {
    const c = createClient({ endpoints: [`127.0.0.1:${await freePort()}`], operationTimeoutMs: 300 });
    const error = await failure(c.put('k', 'v'));
    c.close();
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.definite).toBe(true);
  });

  it('is indeterminate (TIMEOUT) when a sent request is never answered', async () => {
    const { server, endpoint } = await fakeServer('silent');
    const c = createClient({ endpoints: [endpoint], requestTimeoutMs: 100, operationTimeoutMs: 300 });
    const error = await failure(c.put('k', 'v'));
    c.close();
    server.close();
    expect(error.code).toBe('TIMEOUT');
    expect(error.definite).toBe(false);
  });

  it('is indeterminate (CONNECTION_LOST) when the connection drops after sending', async () => {
    const { server, endpoint } = await fakeServer('hang-up');
    const c = createClient({ endpoints: [endpoint], requestTimeoutMs: 200, operationTimeoutMs: 300 });
    const error = await failure(c.put('k', 'v'));
    c.close();
    server.close();
    expect(error.code).toBe('CONNECTION_LOST');
    expect(error.definite).toBe(false);
  });

  it('bounds the operations in flight (OVERLOADED, definite)', async () => {
    const { server, endpoint } = await fakeServer('silent');
    const c = createClient({
      endpoints: [endpoint],
      requestsInFlightMax: 2,
      requestTimeoutMs: 200,
      operationTimeoutMs: 200,
    });
    const first = [c.put('a', '1'), c.put('b', '2')].map((p) => p.catch(() => undefined));
    const error = await failure(c.put('c', '3'));
    expect(error.code).toBe('OVERLOADED');
    expect(error.definite).toBe(true);
    await Promise.all(first);
    c.close();
    server.close();
  });
});
