// Malformed input on either port closes only that connection, with the reason logged and sent as
// a connection-error frame; the server keeps serving everyone else. An over-limit value is refused
// with TOO_LARGE (definite) and loses nothing.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../proto/framing.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../proto/codec.js';
import { RaftlabError, type RaftlabClient } from '../../client/index.js';
import type { LocalCluster } from '../local-cluster.js';
import {
  eventually,
  removeTestCluster,
  startTestCluster,
  testClient,
  waitForLeader,
} from '../../test-support/cluster.js';

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
      /exceeds frameSizeBytesMax/,
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
});
