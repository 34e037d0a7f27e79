// `lab cluster start|stop`: a local cluster of real server processes on 127.0.0.1 for trying raftlab out.
import { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster, stopClusterDir } from '../../server/local-cluster.js';
import { EXIT_BAD_ARGUMENTS, EXIT_LAB_FAILED } from '../exit-codes.js';

interface StartFlags {
  nodes: string;
  dir?: string;
  basePort?: string;
  tickMs?: string;
  heartbeatIntervalMs?: string;
  electionTimeoutMs?: string;
}

export function register(program: Command): void {
  const cluster = program.command('cluster').description('start or stop a local cluster of server processes');
  cluster
    .command('start')
    .description(
      'start N `lab server` processes on 127.0.0.1 in the background; prints endpoints and the folder',
    )
    .option('--nodes <n>', 'number of nodes', '3')
    .option(
      '--dir <dir>',
      'folder for logs, data and the state file (default: a new folder under the temp dir)',
    )
    .option(
      '--base-port <port>',
      'client port of n1; node i uses base+2(i-1) (client) and base+2(i-1)+1 (peer); default: free ports',
    )
    .option('--tick-ms <ms>', 'passed to every server')
    .option('--heartbeat-interval-ms <ms>', 'passed to every server')
    .option('--election-timeout-ms <ms>', 'passed to every server')
    .action(async (flags: StartFlags) => start(flags));
  cluster
    .command('stop')
    .description('stop the cluster recorded in DIR (SIGTERM, then SIGKILL after a grace period)')
    .requiredOption('--dir <dir>', 'the folder `lab cluster start` printed')
    .option('--grace-ms <ms>', 'how long to wait after SIGTERM before SIGKILL', '5000')
    .action(async (flags: { dir: string; graceMs: string }) => stop(flags));
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`lab cluster: --${name} must be a positive integer (got "${text}")\n`);
    process.exit(EXIT_BAD_ARGUMENTS);
  }
  return n;
}

async function start(flags: StartFlags): Promise<void> {
  const nodes = positiveInt('nodes', flags.nodes);
  const serverArgs: string[] = [];
  for (const name of ['tick-ms', 'heartbeat-interval-ms', 'election-timeout-ms'] as const) {
    const key = name.replace(/-(.)/g, (_, c: string) => c.toUpperCase()) as keyof StartFlags;
    const value = flags[key];
    if (value !== undefined) serverArgs.push(`--${name}`, String(positiveInt(name, value)));
  }
  const dir = flags.dir ?? mkdtempSync(join(tmpdir(), 'raftlab-cluster-'));
  try {
    const c = await LocalCluster.start({
      nodes,
      dir,
      detached: true,
      serverArgs,
      ...(flags.basePort !== undefined ? { basePort: positiveInt('base-port', flags.basePort) } : {}),
    });
    const lines = [
      `started ${nodes} nodes in ${c.state.dir}`,
      ...c.state.nodes.map(
        (n) =>
          `  ${n.id}  client 127.0.0.1:${n.clientPort}  peer 127.0.0.1:${n.peerPort}  pid ${n.pid}  log ${n.logFile}`,
      ),
      `endpoints: ${c.endpoints.join(',')}`,
      `try:  lab kv --endpoints ${c.endpoints.join(',')} status`,
      `stop: lab cluster stop --dir ${c.state.dir}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`lab cluster start: ${(error as Error).message}\n`);
    process.exit(EXIT_LAB_FAILED);
  }
}

async function stop(flags: { dir: string; graceMs: string }): Promise<void> {
  try {
    const results = await stopClusterDir(flags.dir, positiveInt('grace-ms', flags.graceMs));
    for (const r of results) process.stdout.write(`${r.id}: ${r.how}\n`);
  } catch (error) {
    process.stderr.write(`lab cluster stop: ${(error as Error).message}\n`);
    process.exit(EXIT_LAB_FAILED);
  }
}
