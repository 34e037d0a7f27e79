// A local cluster of real `lab server` processes on 127.0.0.1: used by `lab cluster start/stop`,
// the integration and crash tests, and the server benchmark. Each node logs to DIR/<id>.log and
// keeps its WAL in DIR/<id>/; DIR/cluster-state.json records the pids so `lab cluster stop` can
// find them again.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatClusterSpec, type MemberAddress } from '../shared/config.js';
import { freePorts } from '../shared/free-ports.js';

export const STATE_FILE = 'cluster-state.json';

export interface LocalNode {
  readonly id: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  pid: number;
}

export interface ClusterState {
  readonly dir: string;
  readonly spec: string;
  readonly nodes: LocalNode[];
  readonly startedAt: string;
}

export interface LocalClusterOptions {
  readonly nodes: number;
  readonly dir: string;
  /** Client port of n1; node i uses basePort+2(i-1) (client) and the next (peer). Default: free ports. */
  readonly basePort?: number;
  /** Extra `lab server` flags for every node (e.g. ['--tick-ms', '5']). */
  readonly serverArgs?: readonly string[];
  /** Detach the processes so they outlive this one (`lab cluster start`). */
  readonly detached?: boolean;
  readonly startTimeoutMs?: number;
}

/** Finds bin/lab.js from this module, whether it runs from the sources or from dist/. */
export function labBinary(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'bin', 'lab.js');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('cannot find bin/lab.js');
}

/** dist/cli/server-bin.js: `server` alone, without loading the other commands (see cli/server-bin.ts). */
export function serverEntry(): string {
  const entry = join(dirname(labBinary()), '..', 'dist', 'cli', 'server-bin.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  return entry;
}

async function choosePorts(count: number, basePort: number | undefined): Promise<[number, number][]> {
  if (basePort !== undefined)
    return Array.from({ length: count }, (_, i): [number, number] => [
      basePort + 2 * i,
      basePort + 2 * i + 1,
    ]);
  const ports = await freePorts(2 * count);
  return Array.from({ length: count }, (_, i): [number, number] => [
    ports[2 * i] ?? 0,
    ports[2 * i + 1] ?? 0,
  ]);
}

export class LocalCluster {
  readonly state: ClusterState;
  private readonly children = new Map<string, ChildProcess>();

  private constructor(
    state: ClusterState,
    private readonly options: LocalClusterOptions,
  ) {
    this.state = state;
  }

  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    if (!(options.nodes >= 1 && options.nodes <= 9))
      throw new Error(`--nodes must be 1..9 (got ${options.nodes})`);
    const dir = resolve(options.dir);
    mkdirSync(dir, { recursive: true });
    const ports = await choosePorts(options.nodes, options.basePort);
    const nodes: LocalNode[] = ports.map(([clientPort, peerPort], i) => ({
      id: `n${i + 1}`,
      clientPort,
      peerPort,
      dataDir: join(dir, `n${i + 1}`),
      logFile: join(dir, `n${i + 1}.log`),
      pid: 0,
    }));
    const members: MemberAddress[] = nodes.map((n) => ({
      id: n.id,
      clientHost: '127.0.0.1',
      clientPort: n.clientPort,
      peerHost: '127.0.0.1',
      peerPort: n.peerPort,
    }));
    const state: ClusterState = {
      dir,
      spec: formatClusterSpec(members),
      nodes,
      startedAt: new Date().toISOString(),
    };
    const cluster = new LocalCluster(state, options);
    try {
      for (const node of nodes) cluster.spawnNode(node);
      await Promise.all(nodes.map((n) => cluster.waitReady(n.id)));
    } catch (error) {
      cluster.killAll();
      throw error;
    }
    cluster.saveState();
    return cluster;
  }

  get endpoints(): string[] {
    return this.state.nodes.map((n) => `127.0.0.1:${n.clientPort}`);
  }

  node(id: string): LocalNode {
    const node = this.state.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  endpoint(id: string): string {
    return `127.0.0.1:${this.node(id).clientPort}`;
  }

  isRunning(id: string): boolean {
    const child = this.children.get(id);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Sends a signal (SIGKILL by default) and waits for the process to exit. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.children.get(id);
    if (!child || !this.isRunning(id)) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    await exited;
  }

  /** Starts a stopped node again on the same ports and data directory. */
  async restart(id: string): Promise<void> {
    if (this.isRunning(id)) throw new Error(`${id} is still running`);
    this.spawnNode(this.node(id));
    this.saveState();
    await this.waitReady(id);
  }

  /** SIGTERM every node, SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    await Promise.all(
      this.state.nodes.map(async (n) => {
        if (!this.isRunning(n.id)) return;
        const timer = setTimeout(() => this.children.get(n.id)?.kill('SIGKILL'), graceMs);
        await this.kill(n.id, 'SIGTERM');
        clearTimeout(timer);
      }),
    );
  }

  killAll(): void {
    for (const child of this.children.values()) if (child.exitCode === null) child.kill('SIGKILL');
  }

  log(id: string): string {
    const file = this.node(id).logFile;
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  private spawnNode(node: LocalNode): void {
    const fd = openSync(node.logFile, 'a');
    const args = [
      labBinary(),
      'server',
      '--id',
      node.id,
      '--cluster',
      this.state.spec,
      '--data-dir',
      node.dataDir,
    ];
    // RAFTLAB_NODE_ARGS: extra Node.js flags for the servers (e.g. --cpu-prof when profiling the benchmark).
    const nodeArgs = (process.env.RAFTLAB_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
    const child = spawn(process.execPath, [...nodeArgs, ...args, ...(this.options.serverArgs ?? [])], {
      detached: this.options.detached ?? false,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`cannot start ${node.id}`);
    node.pid = child.pid;
    this.children.set(node.id, child);
    if (this.options.detached) child.unref();
  }

  private async waitReady(id: string): Promise<void> {
    const node = this.node(id);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (!this.isRunning(id))
        throw new Error(
          `${id} exited during start; its log ${node.logFile} says:\n${this.log(id).slice(-2000)}`,
        );
      if (await canConnect(node.clientPort)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${id} did not open its client port ${node.clientPort} in time; see ${node.logFile}`);
  }

  private saveState(): void {
    writeFileSync(join(this.state.dir, STATE_FILE), `${JSON.stringify(this.state, null, 2)}\n`);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((r) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      r(true);
    });
    socket.once('error', () => r(false));
  });
}

export function readClusterState(dir: string): ClusterState {
  const file = join(resolve(dir), STATE_FILE);
  if (!existsSync(file)) throw new Error(`no cluster state in ${dir} (expected ${file})`);
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Is `pid` still our server (not a recycled pid)? Checked through /proc where there is one. */
function isOurServer(pid: number, dataDir: string): boolean {
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync(cmdline)) return alive(pid);
  return readFileSync(cmdline, 'utf8').includes(dataDir);
}

/** Stops the processes recorded in DIR: SIGTERM, then SIGKILL after `graceMs`. Returns what it stopped. */
export async function stopClusterDir(dir: string, graceMs = 5000): Promise<{ id: string; how: string }[]> {
  const state = readClusterState(dir);
  return Promise.all(
    state.nodes.map(async (n) => {
      if (!n.pid || !isOurServer(n.pid, n.dataDir)) return { id: n.id, how: 'not running' };
      process.kill(n.pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && alive(n.pid)) await new Promise((r) => setTimeout(r, 50));
      if (!alive(n.pid)) return { id: n.id, how: 'stopped (SIGTERM)' };
      process.kill(n.pid, 'SIGKILL');
      return { id: n.id, how: `killed (SIGKILL after ${graceMs} ms)` };
    }),
  );
}
