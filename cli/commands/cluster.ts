// `lab cluster start|stop|restart`: a local cluster of real server processes on 127.0.0.1 for trying
// raftlab out, or one node of it (server/local-cluster.ts does the work).
import { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterDir,
  LocalCluster,
  recordLatestCluster,
  restartClusterNode,
  startClusterNode,
  stopClusterDir,
  CLUSTER_NODES_MAX,
  NoClusterError,
  type LocalNode,
} from '../../server/local-cluster.js';
import { RuntimeError } from '../../chaos/runtime/types.js';
import { EXIT_BAD_ARGUMENTS, EXIT_LAB_FAILED } from '../exit-codes.js';

interface StartFlags {
  nodes?: string;
  dir?: string;
  node?: string;
  basePort?: string;
  tickMs?: string;
  heartbeatIntervalMs?: string;
  electionTimeoutMs?: string;
}

interface NodeFlags {
  dir?: string;
  node?: string;
  graceMs: string;
}

const DIR_HELP = 'the folder `lab cluster start` printed (default: the cluster started last)';

export function register(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('start, stop or restart a local cluster of server processes, or one node of it');
  cluster
    .command('start')
    .description(
      'start N `lab server` processes on 127.0.0.1 in the background and wait for a leader; with --node, start that stopped node again',
    )
    .option('--nodes <n>', 'number of nodes (default 3)')
    .option(
      '--dir <dir>',
      'folder for logs, data and the state file (default: a new folder under the temp dir)',
    )
    .option(
      '--node <id>',
      'start only this stopped node of the cluster in --dir (default: the cluster started last)',
    )
    .option(
      '--base-port <port>',
      'client port of n1; node i uses base+2(i-1) (client) and base+2(i-1)+1 (peer); default: free ports',
    )
    .option('--tick-ms <ms>', 'passed to every server')
    .option('--heartbeat-interval-ms <ms>', 'passed to every server')
    .option('--election-timeout-ms <ms>', 'passed to every server')
    .action(async (flags: StartFlags) => (flags.node === undefined ? start(flags) : startNode(flags)));
  cluster
    .command('stop')
    .description('stop the cluster (or --node) recorded in DIR: SIGTERM, then SIGKILL after a grace period')
    .option('--dir <dir>', DIR_HELP)
    .option('--node <id>', 'stop only this node')
    .option('--grace-ms <ms>', 'how long to wait after SIGTERM before SIGKILL', '5000')
    .action(async (flags: NodeFlags) => stop(flags));
  cluster
    .command('restart')
    .description(
      'stop one node (SIGTERM, SIGKILL after the grace period) and start it again on the same data and ports',
    )
    .requiredOption('--node <id>', 'the node to restart, e.g. n2')
    .option('--dir <dir>', DIR_HELP)
    .option('--grace-ms <ms>', 'how long to wait after SIGTERM before SIGKILL', '5000')
    .action(async (flags: NodeFlags & { node: string }) => restart(flags));
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) badArguments(`--${name} must be a positive integer (got "${text}")`);
  return n;
}

function badArguments(message: string): never {
  process.stderr.write(`lab cluster: ${message}\n`);
  process.exit(EXIT_BAD_ARGUMENTS);
}

/** A cluster or node that is not there is a wrong argument (254); anything else, the command failed (255). */
function failed(command: string, error: unknown): never {
  process.stderr.write(`lab cluster ${command}: ${(error as Error).message}\n`);
  const unknownNode = error instanceof RuntimeError && /^unknown node/.test(error.message);
  process.exit(error instanceof NoClusterError || unknownNode ? EXIT_BAD_ARGUMENTS : EXIT_LAB_FAILED);
}

async function start(flags: StartFlags): Promise<void> {
  const nodes = positiveInt('nodes', flags.nodes ?? '3');
  if (nodes > CLUSTER_NODES_MAX) badArguments(`--nodes must be 1..${CLUSTER_NODES_MAX} (got ${nodes})`);
  const serverArgs: string[] = [];
  for (const name of ['tick-ms', 'heartbeat-interval-ms', 'election-timeout-ms'] as const) {
    const key = name.replace(/-(.)/g, (_, c: string) => c.toUpperCase()) as keyof StartFlags;
    const value = flags[key];
    if (value !== undefined) serverArgs.push(`--${name}`, String(positiveInt(name, value)));
  }
  const basePort = flags.basePort === undefined ? undefined : positiveInt('base-port', flags.basePort);
  if (basePort !== undefined && basePort + 2 * nodes - 1 > 65_535)
    badArguments(
      `--base-port ${basePort}: ${nodes} nodes need ports up to ${basePort + 2 * nodes - 1}, past 65535`,
    );
  const dir = flags.dir ?? mkdtempSync(join(tmpdir(), 'raftlab-cluster-'));
  let c: LocalCluster | undefined;
  let leader: string;
  try {
    c = await LocalCluster.start({
      nodes,
      dir,
      detached: true,
      serverArgs,
      ...(basePort ? { basePort } : {}),
    });
    const { waitForLeader } = await import('../../chaos/runtime/leader.js');
    leader = (
      await waitForLeader(c.state.nodes.map((n) => ({ id: n.id, clientEndpoint: c!.endpoint(n.id) })))
    ).leader;
    recordLatestCluster(c.state.dir);
  } catch (error) {
    // Every node was up, but no leader: leave nothing running behind the error.
    c?.killAll();
    failed('start', error);
  }
  const lines = [
    `started ${nodes} nodes in ${c.state.dir}; leader ${leader}`,
    ...c.state.nodes.map(nodeLine),
    `endpoints: ${c.endpoints.join(',')}`,
    `try:  lab kv --endpoints ${c.endpoints.join(',')} status`,
    `stop: lab cluster stop --dir ${c.state.dir}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function nodeLine(n: LocalNode): string {
  return `  ${n.id}  client 127.0.0.1:${n.clientPort}  peer 127.0.0.1:${n.peerPort}  pid ${n.pid}  log ${n.logFile}`;
}

async function startNode(flags: StartFlags): Promise<void> {
  const ignored = (
    ['nodes', 'basePort', 'tickMs', 'heartbeatIntervalMs', 'electionTimeoutMs'] as const
  ).filter((key) => flags[key] !== undefined);
  if (ignored.length > 0)
    badArguments(
      '--node starts a node of an existing cluster with its recorded flags; drop --nodes, --base-port and the timing flags',
    );
  try {
    const node = await startClusterNode(clusterDir(flags.dir), flags.node ?? '');
    process.stdout.write(`started ${node.id}\n${nodeLine(node)}\n`);
  } catch (error) {
    failed('start', error);
  }
}

async function stop(flags: NodeFlags): Promise<void> {
  const graceMs = positiveInt('grace-ms', flags.graceMs);
  try {
    const results = await stopClusterDir(clusterDir(flags.dir), graceMs, flags.node);
    for (const r of results) process.stdout.write(`${r.id}: ${r.how}\n`);
  } catch (error) {
    failed('stop', error);
  }
}

async function restart(flags: NodeFlags & { node: string }): Promise<void> {
  const graceMs = positiveInt('grace-ms', flags.graceMs);
  try {
    const node = await restartClusterNode(clusterDir(flags.dir), flags.node, graceMs);
    process.stdout.write(`restarted ${node.id}\n${nodeLine(node)}\n`);
  } catch (error) {
    failed('restart', error);
  }
}
