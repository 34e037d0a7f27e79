// Malformed input on either port closes only that connection, with the reason logged and sent as
// a connection-error frame; the server keeps serving everyone else. An over-limit value is refused
// with TOO_LARGE (definite) and loses nothing.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../proto/framing.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../proto/codec.js';
import { createClient, RaftlabError, type RaftlabClient } from '../../client/index.js';
import type { LocalCluster } from '../local-cluster.js';
import { eventually, removeTestCluster, startTestCluster, testClient, waitForLeader } from './helpers.js';

/** Sends raw bytes, then collects every frame until the server closes the connection. */
function exchange(port: number, bytes: Uint8Array): Promise<Envelope[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const decoder = new FrameDecoder(1 << 20);
    const received: Envelope[] = [];
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => received.push(...decoder.push(chunk).map(decodeEnvelope)));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.setTimeout(5000, () => reject(new Error('the server did not close the connection')));
  });
}

function lengthPrefixed(payload: Uint8Array): Uint8Array {
  return encodeFrame(payload);
}

const heartbeat: Envelope = {
  kind: 'raft',
  message: { type: 'heartbeat', from: 'n2', to: 'n1', term: 1, commit: 0, context: new Uint8Array(0) },
};
const putRequest: Envelope = {
  kind: 'client-request',
  request: {
    requestId: 1,
    clientId: 0,
    sequence: 0,
    ackedSequence: 0,
    op: { type: 'put', key: new Uint8Array([1]), value: new Uint8Array([2]) },
  },
};

describe('malformed input', () => {
  let cluster: LocalCluster | undefined;
  let client: RaftlabClient;
  let clientPort = 0;
  let peerPort = 0;

  beforeAll(async () => {
    cluster = await startTestCluster(1);
    client = testClient(cluster);
    clientPort = cluster.node('n1').clientPort;
    peerPort = cluster.node('n1').peerPort;
    await waitForLeader(cluster, client);
    await client.put('precious', 'data');
  });

  afterAll(() => {
    client?.close();
    removeTestCluster(cluster);
  });

  const cases: [string, () => number, () => Uint8Array, RegExp][] = [
    [
      'an oversized length on the client port',
      () => clientPort,
      () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2]),
      /TOO_LARGE|exceeds frameSizeBytesMax/,
    ],
    [
      'an oversized length on the peer port',
      () => peerPort,
      () => new Uint8Array([0x7f, 0xff, 0xff, 0xff]),
      /exceeds frameSizeBytesMax/,
    ],
    [
      'garbage bytes',
      () => clientPort,
      () => lengthPrefixed(new Uint8Array([0xff, 0xfe, 0xfd, 0xfc, 0xfb])),
      /not a protobuf Envelope/,
    ],
    [
      'an unknown envelope kind',
      () => clientPort,
      () => lengthPrefixed(new Uint8Array([0x48, 0x01])),
      /no known kind/,
    ],
    [
      'a peer frame on the client port',
      () => clientPort,
      () => encodeFrame(encodeEnvelope(heartbeat)),
      /raft frame is not allowed on the client port/,
    ],
    [
      'a client frame on the peer port',
      () => peerPort,
      () => encodeFrame(encodeEnvelope(putRequest)),
      /expected peer-hello/,
    ],
  ];

  for (const [name, port, bytes, reason] of cases) {
    it(`closes the connection on ${name}, says why, and keeps serving`, async () => {
      const received = await exchange(port(), bytes());
      const last = received.at(-1);
      expect(last?.kind).toBe('connection-error');
      if (last?.kind === 'connection-error') expect(last.error.message).toMatch(reason);
      await eventually('the reason in the log', async () =>
        reason.test(cluster!.log('n1')) ? true : undefined,
      );
      expect(await client.get('precious')).toBe('data');
      await client.put('after', name);
      expect(await client.get('after')).toBe(name);
    });
  }

  it('refuses an over-limit value with TOO_LARGE (definite), loses nothing, and keeps serving', async () => {
    const huge = 'x'.repeat(2 * 1024 * 1024);
    const error = await client.put('huge', huge).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RaftlabError);
    expect((error as RaftlabError).code).toBe('TOO_LARGE');
    expect((error as RaftlabError).definite).toBe(true);
    expect(await client.get('huge')).toBeNull();
    expect(await client.get('precious')).toBe('data');
  });

  it('returns TOO_LARGE (definite) at every size: state machine, server frame limit, skip limit, client limit', async () => {
    const MiB = 1024 * 1024;
    // A client whose own limit is above the server's, so the server's handling is what is tested.
    const big = createClient({ endpoints: cluster!.endpoints, frameSizeBytesMax: 128 * MiB });
    try {
      await big.put('edge', new Uint8Array(MiB)); // exactly valueBytesMax: accepted
      const cases: [number, RegExp][] = [
        [MiB + 1, /value of 1048577 bytes exceeds valueBytesMax 1048576/], // the state machine
        [5 * MiB, /request frame of \d+ bytes exceeds frameSizeBytesMax 4194304/], // read, discarded, answered
        [70 * MiB, /closed the connection: bad framing: frame length \d+ bytes exceeds frameSizeBytesMax/], // over the skip limit
        [130 * MiB, /request not sent: envelope of \d+ bytes exceeds frameSizeBytesMax 134217728/], // the client's own limit
      ];
      for (const [size, message] of cases) {
        const closedBefore = (cluster!.log('n1').match(/closed client connection/g) ?? []).length;
        const error = await big.put('huge', new Uint8Array(size)).then(
          () => undefined,
          (e: unknown) => e as RaftlabError,
        );
        expect([error?.code, error?.definite], `${size} bytes`).toEqual(['TOO_LARGE', true]);
        expect(error?.message).toMatch(message);
        const closedAfter = (cluster!.log('n1').match(/closed client connection/g) ?? []).length;
        // Only a frame over the skip limit costs the connection.
        if (size < 64 * MiB) expect(closedAfter, `${size} bytes`).toBe(closedBefore);
      }
      expect((await big.getBytes(new TextEncoder().encode('edge')))?.length).toBe(MiB);
      expect(await big.get('huge')).toBeNull();
    } finally {
      big.close();
    }
  });

  it('answers an oversized request on the same connection and then serves the next request on it', async () => {
    const request = (requestId: number, size: number): Envelope => ({
      kind: 'client-request',
      request: {
        requestId,
        clientId: 0,
        sequence: 0,
        ackedSequence: 0,
        op:
          size > 0 ? { type: 'put', key: Uint8Array.of(1), value: new Uint8Array(size) } : { type: 'status' },
      },
    });
    const socket = connect({ host: '127.0.0.1', port: clientPort });
    const decoder = new FrameDecoder(1 << 20);
    const received: Envelope[] = [];
    socket.on('data', (chunk) => received.push(...decoder.push(chunk).map(decodeEnvelope)));
    socket.write(encodeFrame(encodeEnvelope(request(9, 5 * 1024 * 1024))));
    socket.write(encodeFrame(encodeEnvelope(request(10, 0))));
    try {
      await eventually('both responses', async () => (received.length >= 2 ? true : undefined));
      expect(received.map((e) => (e.kind === 'client-response' ? e.response.requestId : e.kind))).toEqual([
        9, 10,
      ]);
      const [first, second] = received;
      if (first?.kind !== 'client-response' || second?.kind !== 'client-response')
        throw new Error('not responses');
      expect(first.response.error).toMatchObject({ code: 'TOO_LARGE', definite: true });
      expect(second.response.result?.type).toBe('status');
      expect(socket.destroyed).toBe(false);
    } finally {
      socket.destroy();
    }
  });
});
