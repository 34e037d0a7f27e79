// `npx tsx bench/idle-connections.ts`: what 4,096 idle TCP connections to a node's client port do
// to clients (issue 10). Loopback only, bounded loops: one node with default limits, a client
// already connected, then IDLE_CONNECTIONS sockets that connect and never send a byte; then an
// existing client's write, a new client's read, and `lab kv status` from a new process, timed;
// then how many idle sockets the node still holds, each second, for FOLLOW_S seconds.
// RAFTLAB_IDLE_CONNECTIONS changes the count.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type RaftlabClient } from '../client/index.js';
import { labBinary, LocalCluster } from '../server/local-cluster.js';

const IDLE_CONNECTIONS = Number(process.env.RAFTLAB_IDLE_CONNECTIONS ?? 4096);
const BATCH = 256;
const FOLLOW_S = 14;

interface Idle {
  socket: Socket;
  open: boolean;
}

async function openIdle(port: number): Promise<Idle[]> {
  const idle: Idle[] = [];
  for (let at = 0; at < IDLE_CONNECTIONS; at += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, IDLE_CONNECTIONS - at) }, () => {
      const entry: Idle = { socket: connect({ host: '127.0.0.1', port }), open: false };
      entry.socket.on('error', () => undefined);
      entry.socket.on('close', () => (entry.open = false));
      entry.socket.on('data', () => undefined); // read (and drop) what the node says
      return new Promise<Idle>((resolve) => {
        entry.socket.once('connect', () => {
          entry.open = true;
          resolve(entry);
        });
        entry.socket.once('error', () => resolve(entry));
      });
    });
    idle.push(...(await Promise.all(batch)));
  }
  return idle;
}

async function timed<T>(what: string, f: () => Promise<T>): Promise<void> {
  const started = performance.now();
  try {
    const value = await f();
    console.log(`${what}: ok (${JSON.stringify(value)}) in ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    console.log(
      `${what}: FAILED in ${Math.round(performance.now() - started)} ms: ${(error as Error).message}`,
    );
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-idle-'));
  const cluster = await LocalCluster.start({ nodes: 1, dir });
  const endpoint = cluster.endpoints[0]!;
  const existing: RaftlabClient = createClient({ endpoints: [endpoint] });
  try {
    await existing.put('k', 'before');
    const idle = await openIdle(cluster.node('n1').clientPort);
    await new Promise((r) => setTimeout(r, 500));
    const stillOpen = (): number => idle.filter((i) => i.open).length;
    console.log(`${IDLE_CONNECTIONS} idle connections: ${stillOpen()} still open 0.5 s later`);
    await timed('existing client put', () => existing.put('k', 'during'));
    const fresh = createClient({ endpoints: [endpoint] });
    await timed('new client get (10 s operation timeout)', () => fresh.get('k'));
    fresh.close();
    const started = performance.now();
    const status = spawnSync(process.execPath, [labBinary(), 'kv', '--endpoints', endpoint, 'status'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const leaderLine = /leader: .*/.exec(status.stdout + status.stderr)?.[0] ?? '(no leader line)';
    console.log(
      `lab kv status: exit ${status.status}, "${leaderLine}" in ${Math.round(performance.now() - started)} ms`,
    );
    const counts: number[] = [];
    for (let s = 0; s < FOLLOW_S; s++) {
      counts.push(stillOpen());
      await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(`idle connections still open, each second: ${counts.join(' ')}`);
    for (const i of idle) i.socket.destroy();
  } finally {
    existing.close();
    cluster.killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
