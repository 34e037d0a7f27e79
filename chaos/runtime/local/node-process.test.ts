// The one liveness check of local server processes: up means alive *and* listening on its own ports.
// A port that accepts is not enough: another program may hold it while our server failed to bind it.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../../shared/free-ports.js';
import { NodeProcess } from './node-process.js';

let node: NodeProcess | undefined;
let holder: Server | undefined;
afterEach(async () => {
  await node?.kill();
  holder?.close();
  node = holder = undefined;
});

function launch(script: string, clientPort: number, peerPort: number): NodeProcess {
  const dir = mkdtempSync(join(tmpdir(), 'node-process-'));
  return new NodeProcess({
    id: 'n1',
    command: [process.execPath, '-e', script, '--', dir],
    logFile: join(dir, 'n1.log'),
    dataDir: dir,
    clientPort,
    peerPort,
  });
}

describe('NodeProcess liveness', () => {
  it('is up once it listens on its client and peer ports', async () => {
    const [client = 0, peer = 0] = await freePorts(2);
    const listen = `const net=require('net');for(const p of [${client},${peer}])net.createServer().listen(p,'127.0.0.1')`;
    node = launch(listen, client, peer);
    node.start();
    await node.awaitUp(10_000);
    expect(await node.isUp()).toBe(true);
  });

  it('is not up while another program holds its port, and says which port after the timeout', async () => {
    const [client = 0, peer = 0] = await freePorts(2);
    holder = await new Promise<Server>((resolve) => {
      const server = createServer().listen(client, '127.0.0.1', () => resolve(server));
    });
    node = launch('setInterval(() => {}, 1000)', client, peer); // alive, listening on nothing
    node.start();
    await expect(node.awaitUp(600)).rejects.toThrow(
      `node n1 is not listening on 127.0.0.1 (client port ${client}, peer port ${peer}) after 600 ms`,
    );
  });

  it('names the node, its ports and its log when it exits while starting', async () => {
    const [client = 0, peer = 0] = await freePorts(2);
    node = launch("console.error('listen EADDRINUSE'); process.exit(1)", client, peer);
    node.start();
    await expect(node.awaitUp(10_000)).rejects.toThrow(
      /node n1 \(client port \d+, peer port \d+\) exited while starting \(exit code 1\)[^]*EADDRINUSE/,
    );
  });
});
