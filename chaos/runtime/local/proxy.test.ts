// The link proxy on its own: held bytes and closes during a partition, the loss model's stalls.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkProxy, NO_FAULTS } from './proxy.js';

/** A sink server that records what it receives and whether the stream ended. */
async function sink(): Promise<{
  server: Server;
  port: number;
  received: () => string;
  ended: () => boolean;
}> {
  let text = '';
  let ended = false;
  const server = createServer((socket: Socket) => {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => (ended = true));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { server, port, received: () => text, ended: () => ended };
}

function scripted(values: number[]): () => number {
  let at = 0;
  return () => values[at++ % values.length] ?? 0.99;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function proxied(random: () => number = () => 0.99) {
  const target = await sink();
  const proxy = new LinkProxy({
    from: 'a',
    to: 'b',
    targetHost: '127.0.0.1',
    targetPort: target.port,
    random,
  });
  const port = await proxy.listen();
  const client = connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => client.once('connect', resolve));
  cleanups.push(
    () => void client.destroy(),
    () => proxy.close(),
    () => new Promise<void>((resolve) => target.server.close(() => resolve())),
  );
  return { target, proxy, client };
}

describe('link proxy', () => {
  it('holds bytes while the direction is blocked and delivers them in order at heal', async () => {
    const { target, proxy, client } = await proxied();
    proxy.setFaults({ ...NO_FAULTS, forwardBlocked: true });
    client.write('abc');
    await delay(150);
    client.write('def');
    await delay(150);
    expect(target.received()).toBe('');
    proxy.setFaults(NO_FAULTS);
    await delay(150);
    expect(target.received()).toBe('abcdef');
  });

  it('holds a close (FIN) during a partition, so the peer learns nothing until heal', async () => {
    const { target, proxy, client } = await proxied();
    client.write('x');
    await delay(100);
    proxy.setFaults({ ...NO_FAULTS, forwardBlocked: true });
    client.end();
    await delay(200);
    expect(target.ended()).toBe(false);
    proxy.setFaults(NO_FAULTS);
    await delay(150);
    expect(target.received()).toBe('x');
    expect(target.ended()).toBe(true);
  });

  it('models loss as retransmission stalls that double, and gives up after the maximum', () => {
    const proxy = new LinkProxy({
      from: 'a',
      to: 'b',
      targetHost: '127.0.0.1',
      targetPort: 1,
      random: scripted([0.1, 0.2, 0.9]),
      retransmissionsMax: 3,
    });
    expect(proxy.lossStallMs()).toBe(0); // no loss configured: no draw, no stall
    proxy.setFaults({ ...NO_FAULTS, lossProbability: 0.5 });
    expect(proxy.lossStallMs()).toBe(200 + 400); // lost twice, then through
    const doomed = new LinkProxy({
      from: 'a',
      to: 'b',
      targetHost: '127.0.0.1',
      targetPort: 1,
      random: () => 0,
      retransmissionsMax: 3,
    });
    doomed.setFaults({ ...NO_FAULTS, lossProbability: 1 });
    expect(doomed.lossStallMs()).toBeUndefined(); // the connection is reset
  });
});
