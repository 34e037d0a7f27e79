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
import { badArguments } from '../bad-arguments.js';
import { exitFlushed } from '../exit.js';
import { EXIT_BAD_ARGUMENTS, EXIT_LAB_FAILED } from '../exit-codes.js';
import { integer, nonEmpty, option, port } from '../parsers.js';
import { serverTimingProblem } from '../server-timing.js';
import { count } from '../../checker/plural.js';

interface StartFlags {
  nodes: number;
  dir?: string;
  node?: string;
  basePort?: number;
  tickMs?: number;
  heartbeatIntervalMs?: number;
  electionTimeoutMs?: number;
  snapshotEntries?: number;
  snapshotTailEntries?: number;
}

interface NodeFlags {
  dir?: string;
  node?: string;
  graceMs: number;
}

const msFlag = integer(1, 600_000);
const graceFlag = integer(0, 600_000);

const DIR_HELP = 'the folder `lab cluster start` printed (default: the cluster started last)';

export function register(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('start, stop or restart a local cluster of server processes, or one node of it');
  const startCommand: Command = cluster
    .command('start')
    .description(
      'start N `lab server` processes on 127.0.0.1 in the background and wait for a leader; with --node, start that stopped node again',
    )
    .addOption(option('--nodes <n>', 'number of nodes', integer(1, CLUSTER_NODES_MAX), '3'))
    .option(
      '--dir <dir>',
      'folder for logs, data and the state file (default: a new folder under the temp dir)',
    )
    .addOption(
      option(
        '--node <id>',
        'start only this stopped node of the cluster in --dir (default: the cluster started last)',
        nonEmpty,
      ),
    )
    .addOption(
      option(
        '--base-port <port>',
        'client port of n1; node i uses base+2(i-1) (client) and base+2(i-1)+1 (peer); default: free ports',
        port,
      ),
    )
    .addOption(option('--tick-ms <ms>', 'passed to every server', msFlag))
    .addOption(option('--heartbeat-interval-ms <ms>', 'passed to every server', msFlag))
    .addOption(option('--election-timeout-ms <ms>', 'passed to every server', msFlag))
    .addOption(option('--snapshot-entries <n>', 'passed to every server', integer(0, 2 ** 31 - 1)))
    .addOption(option('--snapshot-tail-entries <n>', 'passed to every server', integer(0, 2 ** 31 - 1)))
    .action(async (flags: StartFlags) => {
      if (flags.node !== undefined) {
        const given = [
          'nodes',
          'basePort',
          'tickMs',
          'heartbeatIntervalMs',
          'electionTimeoutMs',
          'snapshotEntries',
          'snapshotTailEntries',
        ].filter((key) => startCommand.getOptionValueSource(key) === 'cli');
        if (given.length > 0)
          badArguments(
            startCommand,
            '--node starts a node of an existing cluster with its recorded flags; drop --nodes, --base-port and the timing flags',
          );
        return startNode(flags);
      }
      const problem = serverTimingProblem(flags);
      if (problem !== undefined) badArguments(startCommand, problem);
      if (flags.basePort !== undefined && flags.basePort + 2 * flags.nodes - 1 > 65_535)
        badArguments(
          startCommand,
          `--base-port ${flags.basePort}: ${count(flags.nodes, 'node')} need ports up to ${flags.basePort + 2 * flags.nodes - 1}, past 65535`,
        );
      return start(flags);
    });
  cluster
    .command('stop')
    .description('stop the cluster (or --node) recorded in DIR: SIGTERM, then SIGKILL after a grace period')
    .option('--dir <dir>', DIR_HELP)
    .addOption(option('--node <id>', 'stop only this node', nonEmpty))
    .addOption(option('--grace-ms <ms>', 'how long to wait after SIGTERM before SIGKILL', graceFlag, '5000'))
    .action(async (flags: NodeFlags) => stop(flags));
  cluster
    .command('restart')
    .description(
      'stop one node (SIGTERM, SIGKILL after the grace period) and start it again on the same data and ports',
    )
    .addOption(option('--node <id>', 'the node to restart, e.g. n2', nonEmpty).makeOptionMandatory())
    .option('--dir <dir>', DIR_HELP)
    .addOption(option('--grace-ms <ms>', 'how long to wait after SIGTERM before SIGKILL', graceFlag, '5000'))
    .action(async (flags: NodeFlags & { node: string }) => restart(flags));
}

/** A cluster or node that is not there is a wrong argument (254); anything else, the command failed (255). */
function failed(command: string, error: unknown): Promise<never> {
  process.stderr.write(`lab cluster ${command}: ${(error as Error).message}\n`);
  const unknownNode = error instanceof RuntimeError && /^unknown node/.test(error.message);
  return exitFlushed(error instanceof NoClusterError || unknownNode ? EXIT_BAD_ARGUMENTS : EXIT_LAB_FAILED);
}

async function start(flags: StartFlags): Promise<void> {
  const nodes = flags.nodes;
  const serverArgs: string[] = [];
  const passed = [
    'tick-ms',
    'heartbeat-interval-ms',
    'election-timeout-ms',
    'snapshot-entries',
    'snapshot-tail-entries',
  ] as const;
  for (const name of passed) {
    const key = name.replace(/-(.)/g, (_, c: string) => c.toUpperCase()) as keyof StartFlags;
    const value = flags[key];
    if (value !== undefined) serverArgs.push(`--${name}`, String(value));
  }
  const dir = flags.dir ?? mkdtempSync(join(tmpdir(), 'raftlab-cluster-'));
  let c: LocalCluster | undefined;
  let leader: string;
  try {
    c = await LocalCluster.start({
      nodes,
      dir,
      detached: true,
      serverArgs,
      ...(flags.basePort !== undefined ? { basePort: flags.basePort } : {}),
    });
    const { waitForLeader } = await import('../../chaos/runtime/leader.js');
    leader = (
      await waitForLeader(c.state.nodes.map((n) => ({ id: n.id, clientEndpoint: c!.endpoint(n.id) })))
    ).leader;
    recordLatestCluster(c.state.dir);
  } catch (error) {
    // Every node was up, but no leader: leave nothing running behind the error.
    c?.killAll();
    return failed('start', error);
  }
  const lines = [
    `started ${count(nodes, 'node')} in ${c.state.dir}; leader ${leader}`,
    ...c.state.nodes.map(nodeLine),
    `endpoints: ${c.endpoints.join(',')}`,
    `try:  lab kv --endpoints ${c.endpoints.join(',')} status`,
    `stop: lab cluster stop --dir ${c.state.dir}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await exitFlushed(0);
}

function nodeLine(n: LocalNode): string {
  return `  ${n.id}  client 127.0.0.1:${n.clientPort}  peer 127.0.0.1:${n.peerPort}  pid ${n.pid}  log ${n.logFile}`;
}

async function startNode(flags: StartFlags): Promise<void> {
  try {
    const node = await startClusterNode(clusterDir(flags.dir), flags.node ?? '');
    process.stdout.write(`started ${node.id}\n${nodeLine(node)}\n`);
  } catch (error) {
    return failed('start', error);
  }
  await exitFlushed(0);
}

async function stop(flags: NodeFlags): Promise<void> {
  try {
    const results = await stopClusterDir(clusterDir(flags.dir), flags.graceMs, flags.node);
    for (const r of results) process.stdout.write(`${r.id}: ${r.how}\n`);
  } catch (error) {
    return failed('stop', error);
  }
}

async function restart(flags: NodeFlags & { node: string }): Promise<void> {
  try {
    const node = await restartClusterNode(clusterDir(flags.dir), flags.node, flags.graceMs);
    process.stdout.write(`restarted ${node.id}\n${nodeLine(node)}\n`);
  } catch (error) {
    return failed('restart', error);
  }
  await exitFlushed(0);
}
