// The client port's limits on real sockets against a real node: connections over
// clientConnectionsMax or clientConnectionsPerAddressMax are refused with a reason (OVERLOADED,
// definite) while connected clients keep being served; an idle connection and a slowloris are
// closed after their timeouts; a client that dials the peer port is refused definitely.
import { connect, type Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../proto/framing.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../proto/codec.js';
import { createClient, RaftlabError, type RaftlabClient } from '../../client/index.js';
import { Connection } from '../../client/connection.js';
import { freePorts } from '../../shared/free-ports.js';
import { labBinary, type LocalCluster } from '../local-cluster.js';
import { removeTestCluster, startTestCluster, testClient, waitForLeader } from './helpers.js';

const LIMITS = {
  clientConnectionsMax: 4,
  clientConnectionsPerAddressMax: 2,
  clientIdleTimeoutMs: 3000,
  firstFrameTimeoutMs: 2500,
};

/** A raw connection that records every frame it receives and when the server closed it. */
class Raw {
  readonly socket: Socket;
  readonly received: Envelope[] = [];
  readonly openedAtMs = performance.now();
  closedAtMs: number | undefined;
  readonly connected: Promise<void>;
  readonly closed: Promise<void>;

  constructor(port: number, localAddress = '127.0.0.1') {
    this.socket = connect({ host: '127.0.0.1', port, localAddress });
    const decoder = new FrameDecoder(1 << 20);
    this.socket.on('data', (chunk) => this.received.push(...decoder.push(chunk).map(decodeEnvelope)));
    this.socket.on('error', () => undefined);
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => {
        this.closedAtMs = performance.now();
        resolve();
      }),
    );
  }

  /** Sends a status request and waits for its response: the connection is then in use. */
  async status(requestId = 1): Promise<void> {
    const request = {
      requestId,
      clientId: 0,
      sequence: 0,
      ackedSequence: 0,
      op: { type: 'status' as const },
    };
    this.socket.write(encodeFrame(encodeEnvelope({ kind: 'client-request', request })));
    const deadline = performance.now() + 5000;
    while (!this.received.some((e) => e.kind === 'client-response' && e.response.requestId === requestId)) {
      if (performance.now() > deadline || this.closedAtMs !== undefined)
        throw new Error(`no status response (received ${JSON.stringify(this.received)})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  connectionError(): Extract<Envelope, { kind: 'connection-error' }> | undefined {
    const last = this.received.at(-1);
    return last?.kind === 'connection-error' ? last : undefined;
  }
}

async function failure(promise: Promise<unknown>): Promise<RaftlabError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RaftlabError);
  return error as RaftlabError;
}

describe('client connection limits and timeouts', () => {
  let cluster: LocalCluster | undefined;
  let client: RaftlabClient;
  let port = 0;
  const raws: Raw[] = [];
  const raw = (localAddress?: string): Raw => {
    const r = new Raw(port, localAddress);
    raws.push(r);
    return r;
  };

  beforeAll(async () => {
    cluster = await startTestCluster(1, [
      '--client-connections-max',
      String(LIMITS.clientConnectionsMax),
      '--client-connections-per-address-max',
      String(LIMITS.clientConnectionsPerAddressMax),
      '--client-idle-timeout-ms',
      String(LIMITS.clientIdleTimeoutMs),
      '--first-frame-timeout-ms',
      String(LIMITS.firstFrameTimeoutMs),
    ]);
    port = cluster.node('n1').clientPort;
    client = testClient(cluster);
    await waitForLeader(cluster, client);
    await client.put('k', 'before');
  });

  afterEach(async () => {
    for (const r of raws.splice(0)) r.socket.destroy();
    await new Promise((r) => setTimeout(r, 100)); // let the server see them go
  });

  afterAll(() => {
    client?.close();
    removeTestCluster(cluster);
  });

  it('refuses a connection over clientConnectionsMax with OVERLOADED and the reason; a connected client still reads and writes', async () => {
    // 127.0.0.x are all loopback: three other addresses keep each under the per-address limit.
    const fillers = [raw('127.0.0.2'), raw('127.0.0.2'), raw('127.0.0.3')];
    for (const f of fillers) await f.status(); // 4 open with the test client's own connection
    const refused = raw('127.0.0.4');
    await refused.closed;
    expect(refused.connectionError()?.error).toMatchObject({ code: 'OVERLOADED', definite: true });
    expect(refused.connectionError()?.error.message).toMatch(
      /4 client connections are open \(clientConnectionsMax 4\)/,
    );
    expect(refused.connectionError()?.requestsRead).toBe(0);

    // One attempt of the client library (an operation would retry until its deadline).
    const newcomer = new Connection(cluster!.endpoints[0]!, 1000, 1 << 20);
    try {
      const status = { clientId: 0, sequence: 0, ackedSequence: 0, op: { type: 'status' as const } };
      const error = await failure(newcomer.request(status, 5000));
      expect([error.code, error.definite]).toEqual(['OVERLOADED', true]);
      expect(error.message).toMatch(/clientConnectionsMax 4/);
    } finally {
      newcomer.close();
    }
    await client.put('k', 'during');
    expect(await client.get('k')).toBe('during');
    expect(cluster!.log('n1')).toMatch(
      /refused a client connection from 127\.0\.0\.4: 4 client connections are open/,
    );
  });

  it('refuses a connection over clientConnectionsPerAddressMax while other addresses get in', async () => {
    const same = [raw('127.0.0.5'), raw('127.0.0.5')];
    for (const s of same) await s.status();
    const third = raw('127.0.0.5');
    await third.closed;
    expect(third.connectionError()?.error.code).toBe('OVERLOADED');
    expect(third.connectionError()?.error.message).toMatch(
      /2 client connections from 127\.0\.0\.5 are open \(clientConnectionsPerAddressMax 2\)/,
    );
    const other = raw('127.0.0.6');
    await other.status();
    expect(other.closedAtMs).toBeUndefined();
  });

  it('at a limit, gives the place of the oldest connection that sent no frame to the new one', async () => {
    await client.put('k', 'during'); // the test client's connection is in use, not idle
    // Per address: a third connection from 127.0.0.9 takes the place of the older silent one from there.
    const silent = [raw('127.0.0.9'), raw('127.0.0.9')];
    for (const s of silent) await s.connected;
    await new Promise((r) => setTimeout(r, 50)); // accepted, in this order
    const third = raw('127.0.0.9');
    await third.status();
    await silent[0]!.closed;
    expect(silent[0]!.connectionError()?.error).toMatchObject({ code: 'OVERLOADED', definite: true });
    expect(silent[0]!.connectionError()?.error.message).toMatch(
      /sent no frame and a new connection needed its place \(clientConnectionsPerAddressMax 2\)/,
    );
    // In all: 4 open (the test client, silent[1], third, one more silent); a newcomer takes silent[1]'s place.
    const more = raw('127.0.0.10');
    await more.connected;
    await new Promise((r) => setTimeout(r, 50));
    const newcomer = createClient({ endpoints: cluster!.endpoints, operationTimeoutMs: 2000 });
    try {
      expect(await newcomer.get('k')).toBe('during');
    } finally {
      newcomer.close();
    }
    await silent[1]!.closed;
    expect(silent[1]!.connectionError()?.error.message).toMatch(
      /needed its place \(clientConnectionsMax 4\)/,
    );
    expect([more.closedAtMs, third.closedAtMs]).toEqual([undefined, undefined]);
  });

  it('closes a connection idle for clientIdleTimeoutMs (UNAVAILABLE, definite), not before', async () => {
    const idle = raw('127.0.0.7');
    await idle.status();
    const answeredAtMs = performance.now();
    await idle.closed;
    const idleMs = idle.closedAtMs! - answeredAtMs;
    expect(idleMs).toBeGreaterThanOrEqual(LIMITS.clientIdleTimeoutMs - 50);
    expect(idleMs).toBeLessThan(LIMITS.clientIdleTimeoutMs * 1.25 + 2000);
    expect(idle.connectionError()?.error).toMatchObject({ code: 'UNAVAILABLE', definite: true });
    expect(idle.connectionError()?.error.message).toMatch(/idle for 3000 ms/);
    expect(idle.connectionError()?.requestsRead).toBe(1);
  });

  it('closes a slowloris (no complete frame) after firstFrameTimeoutMs although it keeps trickling bytes', async () => {
    const slow = raw('127.0.0.8');
    await slow.connected;
    const frame = encodeFrame(new Uint8Array(1000).fill(0x0a));
    let at = 0;
    const trickle = setInterval(() => slow.socket.write(frame.subarray(at, ++at)), 100);
    try {
      await slow.closed;
    } finally {
      clearInterval(trickle);
    }
    const openMs = slow.closedAtMs! - slow.openedAtMs;
    expect(openMs).toBeGreaterThanOrEqual(LIMITS.firstFrameTimeoutMs - 50);
    expect(openMs).toBeLessThan(LIMITS.firstFrameTimeoutMs * 1.25 + 2000);
    expect(slow.connectionError()?.error.message).toMatch(/no complete frame within 2500 ms of connecting/);
    expect(await client.get('k')).toBe('during');
  });

  it('answers a client that dialled the peer port with a definite refusal naming the client port (lab kv exits 1, not 5)', async () => {
    const peerEndpoint = `127.0.0.1:${cluster!.node('n1').peerPort}`;
    const started = performance.now();
    const r = spawnSync(process.execPath, [labBinary(), 'kv', '--endpoints', peerEndpoint, 'get', 'k'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /BAD_REQUEST: .*this is the peer port of n1; clients use its client port 127\.0\.0\.1:\d+/,
    );
    expect(r.stderr).toContain('[definitely failed]');
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('lab kv against a dead endpoint gives up after --connect-timeout-ms, naming the endpoint (exit 1)', async () => {
    const [dead] = await freePorts(1);
    const r = spawnSync(
      process.execPath,
      [
        labBinary(),
        'kv',
        '--endpoints',
        `127.0.0.1:${dead}`,
        '--connect-timeout-ms',
        '1000',
        '--json',
        'get',
        'k',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status, r.stderr).toBe(1);
    const out = JSON.parse(r.stderr) as { code: string; definite: boolean; message: string };
    expect([out.code, out.definite]).toEqual(['UNAVAILABLE', true]);
    expect(out.message).toMatch(
      new RegExp(`no endpoint accepted a connection in (\\d+) ms: 127\\.0\\.0\\.1:${dead} \\(`),
    );
    const elapsed = Number(/in (\d+) ms/.exec(out.message)![1]);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(2000);
  });

  it('lab kv put takes the value from --value-file or stdin; too large is TOO_LARGE, definite (exit 1); a bad path is exit 254', () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftlab-value-'));
    const kv = (args: string[], input?: Buffer) =>
      spawnSync(process.execPath, [labBinary(), 'kv', '--endpoints', cluster!.endpoints.join(','), ...args], {
        encoding: 'utf8',
        timeout: 30_000,
        ...(input ? { input } : {}),
      });
    try {
      const file = join(dir, 'value');
      writeFileSync(file, 'from a file\n');
      expect(kv(['put', 'f', '--value-file', file]).status).toBe(0);
      expect(kv(['get', 'f']).stdout).toBe('from a file\n\n');
      expect(kv(['put', 's', '--value-file', '-'], Buffer.from('from stdin')).status).toBe(0);
      expect(kv(['get', 's']).stdout.trim()).toBe('from stdin');
      const tooLarge = kv(['put', 'big', '--value-file', '-'], Buffer.alloc(2 * 1024 * 1024, 'x'));
      expect(tooLarge.status, tooLarge.stderr).toBe(1);
      expect(tooLarge.stderr).toMatch(
        /TOO_LARGE: value of 2097152 bytes exceeds valueBytesMax .*\[definitely failed\]/,
      );
      const missing = kv(['put', 'm', '--value-file', join(dir, 'missing')]);
      expect(missing.status).toBe(254);
      expect(missing.stderr).toMatch(/cannot read --value-file/);
      expect(kv(['put', 'm', 'v', '--value-file', file]).status).toBe(254);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
