// A local cluster of real server processes on 127.0.0.1: used by `lab cluster`, the integration and
// crash tests, and the server benchmark. It runs on the lab's launcher of local processes
// (chaos/runtime/local/local-nodes.ts: one state file format, one liveness check). Each node logs to
// DIR/<id>.log and keeps its WAL in DIR/<id>/; DIR/cluster-state.json records the pids and how to
// start each node again, so `lab cluster stop|start|restart` can act on it from a later command.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalNodes } from '../chaos/runtime/local/local-nodes.js';
import { readLocalState, type LocalRunState } from '../chaos/runtime/local/state.js';
import { projectRoot, serverBin, stateDir } from '../chaos/runtime/project.js';
import { formatClusterSpec, type MemberAddress } from '../shared/config.js';
import { freePorts } from '../shared/free-ports.js';

export const STATE_FILE = 'cluster-state.json';
export const CLUSTER_NODES_MAX = 9;

/** No cluster where the command was pointed (a wrong --dir, or none started yet): bad arguments. */
export class NoClusterError extends Error {
  override readonly name = 'NoClusterError';
}
const START_TIMEOUT_MS_DEFAULT = 60_000;
const STOP_GRACE_MS_DEFAULT = 5_000;

export interface LocalNode {
  readonly id: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly pid: number;
}

/** What a cluster's state file says, node by node (pid 0: not running). */
export interface ClusterState {
  readonly dir: string;
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

/** Node i's [client, peer] ports: from --base-port, each checked free (naming the one taken), or free ports. */
async function choosePorts(count: number, basePort: number | undefined): Promise<[number, number][]> {
  if (basePort === undefined) {
    const ports = await freePorts(2 * count);
    return Array.from({ length: count }, (_, i): [number, number] => [
      ports[2 * i] ?? 0,
      ports[2 * i + 1] ?? 0,
    ]);
  }
  const pairs = Array.from({ length: count }, (_, i): [number, number] => [
    basePort + 2 * i,
    basePort + 2 * i + 1,
  ]);
  for (const [i, [client, peer]] of pairs.entries()) {
    for (const [port, role] of [
      [client, 'client'],
      [peer, 'peer'],
    ] as const) {
      if (port > 65_535)
        throw new Error(`--base-port ${basePort}: n${i + 1}'s ${role} port ${port} is past 65535`);
      if (!(await portFree(port)))
        throw new Error(
          `port ${port} (n${i + 1}'s ${role} port) is already in use on 127.0.0.1; pick another --base-port`,
        );
    }
  }
  return pairs;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export class LocalCluster {
  private constructor(private readonly nodes: LocalNodes) {}

  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    if (!(Number.isInteger(options.nodes) && options.nodes >= 1 && options.nodes <= CLUSTER_NODES_MAX))
      throw new Error(`--nodes must be 1..${CLUSTER_NODES_MAX} (got ${options.nodes})`);
    if (!existsSync(serverBin())) throw new Error(`${serverBin()} is missing: run \`npm run build\` first`);
    const dir = resolve(options.dir);
    mkdirSync(dir, { recursive: true });
    const ports = await choosePorts(options.nodes, options.basePort);
    const members: MemberAddress[] = ports.map(([clientPort, peerPort], i) => ({
      id: `n${i + 1}`,
      clientHost: '127.0.0.1',
      clientPort,
      peerHost: '127.0.0.1',
      peerPort,
    }));
    const state: LocalRunState = {
      kind: 'local',
      runId: `cluster-${dir.replace(/[^A-Za-z0-9]+/g, '-')}`,
      ownerPid: process.pid,
      startedAt: new Date().toISOString(),
      logDir: dir,
      createdDirs: [],
      nodes: {},
    };
    const nodes = new LocalNodes(state, join(dir, STATE_FILE), {
      startTimeoutMs: options.startTimeoutMs ?? START_TIMEOUT_MS_DEFAULT,
      stopGraceMs: STOP_GRACE_MS_DEFAULT,
      outliveUs: options.detached ?? false,
      ownProcessGroup: options.detached ?? false,
      cwd: projectRoot(),
    });
    const spec = formatClusterSpec(members);
    for (const member of members) nodes.add(nodeLaunch(member, dir, spec, options.serverArgs ?? []));
    await nodes.startAll();
    return new LocalCluster(nodes);
  }

  get state(): ClusterState {
    return clusterState(this.nodes.state);
  }

  get stateFile(): string {
    return this.nodes.stateFile;
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
    return this.nodes.node(id).running;
  }

  /** Sends a signal (SIGKILL by default) and waits for the process to exit. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (signal === 'SIGKILL') return this.nodes.kill(id);
    this.nodes.node(id).signal(signal);
    await this.nodes.stop(id);
  }

  /** Starts a stopped node again on the same ports and data directory (`extraArgs`: for this start only). */
  async restart(id: string, extraArgs: readonly string[] = []): Promise<void> {
    if (this.isRunning(id)) throw new Error(`${id} is still running`);
    await this.nodes.start(id, extraArgs);
  }

  /** SIGTERM every node, SIGKILL after `graceMs`. */
  async stop(graceMs = STOP_GRACE_MS_DEFAULT): Promise<void> {
    await Promise.all(this.nodes.ids.map((id) => this.nodes.node(id).stop(graceMs)));
    this.nodes.save();
  }

  /** SIGKILL every node now, without waiting (for exit handlers and test cleanup). */
  killAll(): void {
    for (const id of this.nodes.ids) this.nodes.node(id).signal('SIGKILL');
  }

  log(id: string): string {
    const file = this.node(id).logFile;
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
}

function nodeLaunch(member: MemberAddress, dir: string, spec: string, serverArgs: readonly string[]) {
  const dataDir = join(dir, member.id);
  // RAFTLAB_NODE_ARGS: extra Node.js flags for the servers (e.g. --cpu-prof when profiling the benchmark).
  const nodeArgs = (process.env.RAFTLAB_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
  const server = ['server', '--id', member.id, '--cluster', spec, '--data-dir', dataDir, ...serverArgs];
  return {
    id: member.id,
    command: [process.execPath, ...nodeArgs, serverBin(), ...server],
    logFile: join(dir, `${member.id}.log`),
    dataDir,
    clientPort: member.clientPort,
    peerPort: member.peerPort,
  };
}

function clusterState(state: LocalRunState): ClusterState {
  return {
    dir: state.logDir ?? '',
    startedAt: state.startedAt,
    nodes: Object.entries(state.nodes).map(([id, node]) => ({
      id,
      clientPort: node.clientPort,
      peerPort: node.peerPort,
      dataDir: node.dataDir,
      logFile: node.logFile,
      pid: node.pid ?? 0,
    })),
  };
}

export function readClusterState(dir: string): ClusterState {
  const file = join(resolve(dir), STATE_FILE);
  if (!existsSync(file)) throw new Error(`no cluster state in ${dir} (expected ${file})`);
  return clusterState(readLocalState(file));
}

/** The cluster recorded in DIR, to act on from a later command (`lab cluster stop|start|restart`). */
export function loadCluster(dir: string): LocalNodes {
  const file = join(resolve(dir), STATE_FILE);
  if (!existsSync(file)) throw new NoClusterError(`no cluster state in ${dir} (expected ${file})`);
  return LocalNodes.load(file, {
    startTimeoutMs: START_TIMEOUT_MS_DEFAULT,
    stopGraceMs: STOP_GRACE_MS_DEFAULT,
    outliveUs: true,
    cwd: projectRoot(),
  });
}

/** Where the last `lab cluster start` is recorded, so later commands can leave out --dir. */
function latestClusterFile(): string {
  return join(stateDir(), 'cluster-latest');
}

export function recordLatestCluster(dir: string): void {
  mkdirSync(stateDir(), { recursive: true });
  writeFileSync(latestClusterFile(), `${resolve(dir)}\n`);
}

/** DIR, or the cluster `lab cluster start` started last; throws when there is none. */
export function clusterDir(dir: string | undefined): string {
  if (dir !== undefined) return resolve(dir);
  try {
    return readFileSync(latestClusterFile(), 'utf8').trim();
  } catch {
    throw new NoClusterError('no --dir given and no cluster started with `lab cluster start` yet');
  }
}

type StopHow = 'not running' | 'stopped' | 'killed';

/** Stops the nodes recorded in DIR (all, or `only`): SIGTERM, then SIGKILL after `graceMs`. */
export async function stopClusterDir(
  dir: string,
  graceMs = STOP_GRACE_MS_DEFAULT,
  only?: string,
): Promise<{ id: string; how: string }[]> {
  const nodes = loadCluster(dir);
  const ids = only === undefined ? nodes.ids : [nodes.node(only).id];
  const stopped = await Promise.all(
    ids.map(async (id) => ({ id, how: describeStop(await nodes.node(id).stop(graceMs), graceMs) })),
  );
  nodes.save();
  return stopped;
}

/** Starts node `id` of the cluster in DIR again (same ports, data and flags); waits until it is up. */
export async function startClusterNode(dir: string, id: string): Promise<LocalNode> {
  const nodes = loadCluster(dir);
  if (nodes.node(id).running) throw new Error(`${id} is already running (pid ${nodes.node(id).pid})`);
  await nodes.start(id);
  return clusterNode(nodes, id);
}

/** Stops node `id` (SIGTERM, SIGKILL after graceMs) and starts it again; the state file gets the new pid. */
export async function restartClusterNode(
  dir: string,
  id: string,
  graceMs = STOP_GRACE_MS_DEFAULT,
): Promise<LocalNode> {
  const nodes = loadCluster(dir);
  await nodes.node(id).stop(graceMs);
  await nodes.start(id);
  return clusterNode(nodes, id);
}

function clusterNode(nodes: LocalNodes, id: string): LocalNode {
  const node = clusterState(nodes.state).nodes.find((n) => n.id === id);
  if (node === undefined) throw new Error(`no node ${id}`);
  return node;
}

function describeStop(how: StopHow, graceMs: number): string {
  if (how === 'stopped') return 'stopped (SIGTERM)';
  return how === 'killed' ? `killed (SIGKILL after ${graceMs} ms)` : how;
}
