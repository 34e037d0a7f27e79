// `lab cluster start|stop`: a local cluster of real server processes on 127.0.0.1 for trying raftlab out.
import { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster, stopClusterDir } from '../../server/local-cluster.js';
import { badArguments } from '../bad-arguments.js';
import { exitFlushed } from '../exit.js';
import { EXIT_LAB_FAILED } from '../exit-codes.js';
import { integer, option, port } from '../parsers.js';
import { serverTimingProblem } from '../server-timing.js';
import { count } from '../../checker/plural.js';

interface StartFlags {
  nodes: number;
  dir?: string;
  basePort?: number;
  tickMs?: number;
  heartbeatIntervalMs?: number;
  electionTimeoutMs?: number;
}

const msFlag = integer(1, 600_000);

export function register(program: Command): void {
  const cluster = program.command('cluster').description('start or stop a local cluster of server processes');
  const startCommand = cluster
    .command('start')
    .description(
      'start N `lab server` processes on 127.0.0.1 in the background; prints endpoints and the folder',
    )
    .addOption(option('--nodes <n>', 'number of nodes', integer(1, 9), '3'))
    .option(
      '--dir <dir>',
      'folder for logs, data and the state file (default: a new folder under the temp dir)',
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
    .action(async (flags: StartFlags) => {
      const problem = serverTimingProblem(flags);
      if (problem !== undefined) badArguments(startCommand, problem);
      await start(flags);
    });
  cluster
    .command('stop')
    .description('stop the cluster recorded in DIR (SIGTERM, then SIGKILL after a grace period)')
    .requiredOption('--dir <dir>', 'the folder `lab cluster start` printed')
    .addOption(
      option('--grace-ms <ms>', 'how long to wait after SIGTERM before SIGKILL', integer(0, 600_000), '5000'),
    )
    .action(async (flags: { dir: string; graceMs: number }) => stop(flags));
}

async function start(flags: StartFlags): Promise<void> {
  const nodes = flags.nodes;
  const serverArgs: string[] = [];
  for (const name of ['tick-ms', 'heartbeat-interval-ms', 'election-timeout-ms'] as const) {
    const key = name.replace(/-(.)/g, (_, c: string) => c.toUpperCase()) as keyof StartFlags;
    const value = flags[key];
    if (value !== undefined) serverArgs.push(`--${name}`, String(value));
  }
  const dir = flags.dir ?? mkdtempSync(join(tmpdir(), 'raftlab-cluster-'));
  try {
    const c = await LocalCluster.start({
      nodes,
      dir,
      detached: true,
      serverArgs,
      ...(flags.basePort !== undefined ? { basePort: flags.basePort } : {}),
    });
    const lines = [
      `started ${count(nodes, 'node')} in ${c.state.dir}`,
      ...c.state.nodes.map(
        (n) =>
          `  ${n.id}  client 127.0.0.1:${n.clientPort}  peer 127.0.0.1:${n.peerPort}  pid ${n.pid}  log ${n.logFile}`,
      ),
      `endpoints: ${c.endpoints.join(',')}`,
      `try:  lab kv --endpoints ${c.endpoints.join(',')} status`,
      `stop: lab cluster stop --dir ${c.state.dir}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    await exitFlushed(0);
  } catch (error) {
    process.stderr.write(`lab cluster start: ${(error as Error).message}\n`);
    await exitFlushed(EXIT_LAB_FAILED);
  }
}

async function stop(flags: { dir: string; graceMs: number }): Promise<void> {
  try {
    const results = await stopClusterDir(flags.dir, flags.graceMs);
    for (const r of results) process.stdout.write(`${r.id}: ${r.how}\n`);
  } catch (error) {
    process.stderr.write(`lab cluster stop: ${(error as Error).message}\n`);
    process.exitCode = EXIT_LAB_FAILED;
  }
}
