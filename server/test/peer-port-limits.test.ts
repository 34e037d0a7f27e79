// The peer port's own bounds, on real sockets against an in-process PeerTransport: inbound
// connections over peerConnectionsInboundMax are refused with the reason, a connection without a
// peer-hello is closed after the hello timeout, and a member that said hello stays.
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../proto/framing.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../proto/codec.js';
import { freePorts } from '../../shared/free-ports.js';
import { createLogger } from '../../shared/log.js';
import { PeerTransport } from '../transport/peer-transport.js';

const HELLO_TIMEOUT_MS = 300;

interface Raw {
  socket: Socket;
  received: Envelope[];
  closedAtMs?: number;
  closed: Promise<void>;
}

function raw(port: number): Raw {
  const socket = connect({ host: '127.0.0.1', port });
  const decoder = new FrameDecoder(1 << 20);
  const r: Raw = { socket, received: [], closed: Promise.resolve() };
  socket.on('data', (chunk) => r.received.push(...decoder.push(chunk).map(decodeEnvelope)));
  socket.on('error', () => undefined);
  r.closed = new Promise((resolve) =>
    socket.once('close', () => {
      r.closedAtMs = performance.now();
      resolve();
    }),
  );
  return r;
}

describe('peer port limits', () => {
  let transport: PeerTransport;
  let port = 0;
  const raws: Raw[] = [];
  const open = (): Raw => {
    const r = raw(port);
    raws.push(r);
    return r;
  };

  beforeEach(async () => {
    const [peerPort, otherPort] = await freePorts(2);
    port = peerPort!;
    transport = new PeerTransport({
      selfId: 'n1',
      members: [
        { id: 'n1', clientHost: '127.0.0.1', clientPort: 1, peerHost: '127.0.0.1', peerPort: port },
        { id: 'n2', clientHost: '127.0.0.1', clientPort: 2, peerHost: '127.0.0.1', peerPort: otherPort! },
      ],
      clusterId: 'c-test',
      selfClientAddress: '127.0.0.1:1',
      listenHost: '127.0.0.1',
      listenPort: port,
      frameSizeBytesMax: 1 << 20,
      peerConnectionsInboundMax: 2,
      helloTimeoutMs: HELLO_TIMEOUT_MS,
      sendQueueMessagesMax: 16,
      sendQueueBytesMax: 1 << 20,
      logger: createLogger({ level: 'info', format: 'text', nodeId: 'n1', write: () => undefined }),
      deliver: () => true,
      whenRoom: () => undefined,
    });
    await transport.listen();
  });

  afterEach(async () => {
    for (const r of raws.splice(0)) r.socket.destroy();
    await transport.close();
  });

  it('refuses an inbound connection over peerConnectionsInboundMax with the reason', async () => {
    const first = [open(), open()];
    await Promise.all(first.map((r) => new Promise((resolve) => r.socket.once('connect', resolve))));
    await new Promise((r) => setTimeout(r, 50));
    const third = open();
    await third.closed;
    const last = third.received.at(-1);
    expect(last?.kind).toBe('connection-error');
    if (last?.kind !== 'connection-error') return;
    expect(last.error).toMatchObject({ code: 'OVERLOADED', definite: true });
    expect(last.error.message).toMatch(/2 inbound peer connections are open \(peerConnectionsInboundMax 2\)/);
  });

  it('closes a connection that says no hello within the hello timeout, and keeps one that did', async () => {
    const silent = open();
    const member = open();
    const openedAtMs = performance.now();
    const hello = encodeEnvelope({
      kind: 'peer-hello',
      hello: { from: 'n2', clusterId: 'c-test', to: 'n1' },
    });
    member.socket.write(encodeFrame(hello));
    await silent.closed;
    expect(silent.closedAtMs! - openedAtMs).toBeGreaterThanOrEqual(HELLO_TIMEOUT_MS - 20);
    const last = silent.received.at(-1);
    expect(last?.kind === 'connection-error' && last.error.message).toMatch(/no peer-hello within 300 ms/);
    await new Promise((r) => setTimeout(r, HELLO_TIMEOUT_MS));
    expect(member.closedAtMs).toBeUndefined();
  });
});
