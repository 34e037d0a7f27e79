// The client against a real 3-node cluster and against fake servers: leader discovery and
// redirects, a retried write applied once thanks to the session, and every error classified as
// definite (it did not happen) or indeterminate (it may have happened).
import { createServer, type Server, type Socket } from 'node:net';
import { decodeEnvelope, encodeEnvelope } from '../../proto/codec.js';
import { FrameDecoder, encodeFrame } from '../../proto/framing.js';
import { Connection } from '../connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RaftlabError, type RaftlabClient } from '../index.js';
import type { LocalCluster } from '../../test-support/cluster.js';
import { freePort, freePorts } from '../../shared/free-ports.js';
import {
  removeTestCluster,
  startTestCluster,
  testClient,
  waitForLeader,
} from '../../test-support/cluster.js';

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

/**
 * A server that reads `readBeforeRefusing` requests without answering, then closes with an error
 * frame; from connection number `refusedConnections + 1` on, it answers every request as a get
 * that found "served".
 */
async function refusingServer(
  readBeforeRefusing: number,
  code: 'TOO_LARGE' | 'OVERLOADED',
  refusedConnections = Infinity,
): Promise<{ server: Server; endpoint: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    const serve = ++connections > refusedConnections;
    const decoder = new FrameDecoder(1 << 20);
    let read = 0;
    const refuse = (): void => {
      const error = { code, message: `refused by the fake (${code})`, definite: true };
      socket.end(encodeFrame(encodeEnvelope({ kind: 'connection-error', error, requestsRead: read })));
    };
    socket.on('error', () => undefined);
    if (!serve && readBeforeRefusing === 0) return refuse();
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        if (serve) answer(socket, frame);
        else if (++read === readBeforeRefusing) return refuse();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, endpoint: `127.0.0.1:${port}`, connections: () => connections };
}

function answer(socket: Socket, frame: Uint8Array): void {
  const envelope = decodeEnvelope(frame);
  if (envelope.kind !== 'client-request') return;
  const result = { type: 'get' as const, found: true, value: new TextEncoder().encode('served') };
  const response = { requestId: envelope.request.requestId, result };
  socket.write(encodeFrame(encodeEnvelope({ kind: 'client-response', response })));
}

describe('refusals and limits', () => {
  const put = (i: number) => ({
    clientId: 1,
    sequence: i,
    ackedSequence: 0,
    op: { type: 'put' as const, key: Uint8Array.of(i), value: Uint8Array.of(i) },
  });

  it('splits a connection-error by requests_read: read ones may have happened, the next gets the error, later ones were never read', async () => {
    const fake = await refusingServer(1, 'TOO_LARGE');
    const connection = new Connection(fake.endpoint, 1000, 1 << 20);
    // The fake reads the first request, then closes saying it read 1: its error is about the second.
    const outcomes = await Promise.all(
      [1, 2, 3].map((i) =>
        connection.request(put(i), 2000).then(
          () => undefined,
          (e: RaftlabError) => e,
        ),
      ),
    );
    connection.close();
    fake.server.close();
    expect(outcomes.map((e) => [e?.code, e?.definite])).toEqual([
      ['CONNECTION_LOST', false], // read by the server: it may have happened
      ['TOO_LARGE', true], // the one the error is about
      ['UNAVAILABLE', true], // never read
    ]);
    expect(outcomes[2]!.message).toMatch(/not read: .*refused by the fake/);
  });

  it('takes a refused connection (OVERLOADED, nothing read) as definite for every request sent on it', async () => {
    const fake = await refusingServer(0, 'OVERLOADED');
    const connection = new Connection(fake.endpoint, 1000, 1 << 20);
    const outcomes = await Promise.all(
      [1, 2].map((i) =>
        connection.request(put(i), 5000).then(
          () => undefined,
          (e: RaftlabError) => e,
        ),
      ),
    );
    connection.close();
    fake.server.close();
    expect(outcomes.map((e) => [e?.code, e?.definite])).toEqual([
      ['OVERLOADED', true],
      ['UNAVAILABLE', true],
    ]);
    expect(outcomes[0]!.message).toMatch(/refused by the fake/);
  });

  it('retries after an OVERLOADED refusal (it is not final) and succeeds once the server takes it', async () => {
    const fake = await refusingServer(0, 'OVERLOADED', 2);
    const c = createClient({ endpoints: [fake.endpoint], operationTimeoutMs: 10_000, retryDelayMsMin: 20 });
    try {
      expect(await c.get('k')).toBe('served');
    } finally {
      c.close();
      fake.server.close();
    }
    expect(fake.connections()).toBe(3);
  });

  it('fails a request over its frameSizeBytesMax with TOO_LARGE (definite) without connecting', async () => {
    const fake = await refusingServer(1, 'OVERLOADED');
    const c = createClient({ endpoints: [fake.endpoint], frameSizeBytesMax: 1024 });
    const error = await failure(c.put('k', 'x'.repeat(2000)));
    c.close();
    fake.server.close();
    expect([error.code, error.definite]).toEqual(['TOO_LARGE', true]);
    expect(error.message).toMatch(/request not sent: envelope of \d+ bytes exceeds frameSizeBytesMax 1024/);
    expect(fake.connections()).toBe(0);
  });

  it('gives up after unreachableTimeoutMs when no endpoint accepts a connection, naming each endpoint', async () => {
    const dead = await freePorts(2);
    const endpoints = dead.map((p) => `127.0.0.1:${p}`);
    const c = createClient({ endpoints, unreachableTimeoutMs: 400, operationTimeoutMs: 10_000 });
    const started = performance.now();
    const error = await failure(c.put('k', 'v'));
    const elapsedMs = performance.now() - started;
    c.close();
    expect([error.code, error.definite]).toEqual(['UNAVAILABLE', true]);
    expect(error.message).toMatch(/no endpoint accepted a connection in \d+ ms/);
    for (const e of endpoints) expect(error.message).toContain(`${e} (connect ECONNREFUSED`);
    expect(elapsedMs).toBeGreaterThanOrEqual(400);
    expect(elapsedMs).toBeLessThan(1500);
  });
});

/**
 * A follower as a fake: it answers every request NOT_LEADER naming `leaderAddress`, except that it
 * swallows the first `silentFirst` requests (they time out: may have happened).
 */
async function followerServer(
  leaderAddress: string,
  silentFirst = 0,
): Promise<{ server: Server; endpoint: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((socket: Socket) => {
    const decoder = new FrameDecoder(1 << 20);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        const envelope = decodeEnvelope(frame);
        if (envelope.kind !== 'client-request' || ++requests <= silentFirst) continue;
        const error = {
          code: 'NOT_LEADER' as const,
          message: 'fake follower',
          definite: true,
          leaderAddress,
        };
        const response = { requestId: envelope.request.requestId, error };
        socket.write(encodeFrame(encodeEnvelope({ kind: 'client-response', response })));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, endpoint: `127.0.0.1:${port}`, requests: () => requests };
}

describe('a pinned client (the lab binds clients to nodes)', () => {
  it('follows the hint when not pinned, and records the node that served', async () => {
    const leader = await refusingServer(0, 'OVERLOADED', 0);
    const follower = await followerServer(leader.endpoint);
    const c = createClient({ endpoints: [follower.endpoint], operationTimeoutMs: 5000 });
    try {
      expect(await c.get('k')).toBe('served');
      expect(c.lastEndpoint).toBe(leader.endpoint);
    } finally {
      c.close();
      leader.server.close();
      follower.server.close();
    }
  });

  it('fails definitely on NOT_LEADER, never asks the hinted leader, and names its own node', async () => {
    const leader = await refusingServer(0, 'OVERLOADED', 0);
    const follower = await followerServer(leader.endpoint);
    const c = createClient({ endpoints: [follower.endpoint], operationTimeoutMs: 5000, pinned: true });
    try {
      const error = await failure(c.put('k', 'v'));
      expect([error.code, error.definite]).toEqual(['NOT_LEADER', true]);
      expect(c.lastEndpoint).toBe(follower.endpoint);
      expect(follower.requests()).toBe(1); // no retry at the node that said it does not lead
      expect(leader.connections()).toBe(0);
    } finally {
      c.close();
      leader.server.close();
      follower.server.close();
    }
  });

  it('is indeterminate when an earlier attempt timed out before the NOT_LEADER (it may have happened)', async () => {
    const leader = await refusingServer(0, 'OVERLOADED', 0);
    const follower = await followerServer(leader.endpoint, 1);
    const c = createClient({
      endpoints: [follower.endpoint],
      requestTimeoutMs: 100,
      operationTimeoutMs: 5000,
      pinned: true,
    });
    try {
      const error = await failure(c.put('k', 'v'));
      expect([error.code, error.definite]).toEqual(['TIMEOUT', false]);
      expect(follower.requests()).toBe(2);
      expect(leader.connections()).toBe(0);
    } finally {
      c.close();
      leader.server.close();
      follower.server.close();
    }
  });
});
