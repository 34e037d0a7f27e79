// `lab server`: one raftlab node in the foreground. Parses flags and calls startServer.
import { Command, Option } from 'commander';
import { startServer } from '../../server/server.js';
import {
  DEFAULT_LIMITS,
  DEFAULT_ELECTION_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_TICK_MS,
  loadClusterFile,
  parseClusterId,
  parseClusterSpec,
  type MemberAddress,
  type ServerLimits,
} from '../../shared/config.js';
import { parseLogFormat, parseLogLevel } from '../../shared/log.js';
import { parseServerUnsafe } from '../../server/raft/unsafe.js';
import { EXIT_BAD_ARGUMENTS, EXIT_LAB_FAILED } from '../exit-codes.js';

interface ServerFlags {
  id: string;
  cluster?: string;
  config?: string;
  dataDir: string;
  tickMs: string;
  heartbeatIntervalMs: string;
  electionTimeoutMs: string;
  unsafe: string;
  seed?: string;
  listenHost?: string;
  logLevel: string;
  logFormat: string;
  rejoinAfterDataLoss?: boolean;
  clusterId?: string;
  clientConnectionsMax: string;
  clientConnectionsPerAddressMax: string;
  clientIdleTimeoutMs: string;
  firstFrameTimeoutMs: string;
}

export function register(program: Command): void {
  program
    .command('server')
    .description('run one raftlab server node in the foreground (logs to stderr; SIGTERM stops it cleanly)')
    .requiredOption('--id <id>', 'this node id, one of the cluster members')
    .option('--cluster <spec>', 'members as ID=HOST:CLIENTPORT/PEERPORT,... (e.g. n1=127.0.0.1:7001/7101)')
    .option('--config <file>', 'cluster file: {"members":[{"id":"n1","client":"h:p","peer":"h:p"}]}')
    .requiredOption('--data-dir <dir>', 'directory for the write-ahead log (locked while running)')
    .option('--tick-ms <ms>', 'milliseconds per Raft tick', String(DEFAULT_TICK_MS))
    .option(
      '--heartbeat-interval-ms <ms>',
      'leader heartbeat interval',
      String(DEFAULT_HEARTBEAT_INTERVAL_MS),
    )
    .option(
      '--election-timeout-ms <ms>',
      'election timeout T (randomized in [T, 2T])',
      String(DEFAULT_ELECTION_TIMEOUT_MS),
    )
    .option('--unsafe <names>', 'comma-separated UNSAFE variants for testing the testers', '')
    .option(
      '--rejoin-after-data-loss',
      'this node lost its data (disk lost, wal/ wiped, log truncated): start it without votes or campaigns until it has caught up with the leader (docs/storage.md, A lost disk)',
    )
    .option('--seed <n>', 'seed of the Raft core Rng (default: random, logged)')
    .option(
      '--listen-host <host>',
      'bind both ports on this address instead of the member host (e.g. 0.0.0.0)',
    )
    .option('--cluster-id <id>', 'cluster id sent in every peer hello (default: a hash of the member list)')
    .option(
      '--client-connections-max <n>',
      'client connections open at once',
      String(DEFAULT_LIMITS.clientConnectionsMax),
    )
    .option(
      '--client-connections-per-address-max <n>',
      'client connections open at once from one address',
      String(DEFAULT_LIMITS.clientConnectionsPerAddressMax),
    )
    .option(
      '--client-idle-timeout-ms <ms>',
      'close a client connection idle this long',
      String(DEFAULT_LIMITS.clientIdleTimeoutMs),
    )
    .option(
      '--first-frame-timeout-ms <ms>',
      'close a client connection that sends no complete frame this long after connecting',
      String(DEFAULT_LIMITS.firstFrameTimeoutMs),
    )
    .addOption(new Option('--log-level <level>', 'info or debug').default('info'))
    .addOption(new Option('--log-format <format>', 'text or json').default('text'))
    .action(async (flags: ServerFlags) => runServer(flags));
}

function parseFlags(flags: ServerFlags): Parameters<typeof startServer>[0] {
  if ((flags.cluster === undefined) === (flags.config === undefined))
    throw new Error('give exactly one of --cluster and --config');
  const members: MemberAddress[] = flags.cluster
    ? parseClusterSpec(flags.cluster)
    : loadClusterFile(flags.config!);
  const number = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got "${text}")`);
    return n;
  };
  return {
    id: flags.id,
    members,
    dataDir: flags.dataDir,
    tickMs: number('tick-ms', flags.tickMs),
    heartbeatIntervalMs: number('heartbeat-interval-ms', flags.heartbeatIntervalMs),
    electionTimeoutMs: number('election-timeout-ms', flags.electionTimeoutMs),
    unsafe: validUnsafe(flags.unsafe),
    logLevel: parseLogLevel(flags.logLevel),
    logFormat: parseLogFormat(flags.logFormat),
    ...(flags.seed !== undefined ? { seed: Math.trunc(number('seed', flags.seed)) } : {}),
    ...(flags.listenHost !== undefined ? { listenHost: flags.listenHost } : {}),
    ...(flags.rejoinAfterDataLoss === true ? { rejoinAfterDataLoss: true } : {}),
    ...(flags.clusterId !== undefined ? { clusterId: parseClusterId(flags.clusterId) } : {}),
    limits: connectionLimits(flags),
  };
}

function connectionLimits(flags: ServerFlags): Partial<ServerLimits> {
  const integer = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new Error(`--${name} must be a positive integer (got "${text}")`);
    return n;
  };
  return {
    clientConnectionsMax: integer('client-connections-max', flags.clientConnectionsMax),
    clientConnectionsPerAddressMax: integer(
      'client-connections-per-address-max',
      flags.clientConnectionsPerAddressMax,
    ),
    clientIdleTimeoutMs: integer('client-idle-timeout-ms', flags.clientIdleTimeoutMs),
    firstFrameTimeoutMs: integer('first-frame-timeout-ms', flags.firstFrameTimeoutMs),
  };
}

/** Checks the names now, so a typo is a bad argument (254), not a failed start. */
function validUnsafe(list: string): string {
  parseServerUnsafe(list);
  return list;
}

async function runServer(flags: ServerFlags): Promise<void> {
  let options;
  try {
    options = parseFlags(flags);
  } catch (error) {
    process.stderr.write(`lab server: ${(error as Error).message}\n`);
    process.exit(EXIT_BAD_ARGUMENTS);
  }
  let server;
  try {
    server = await startServer(options);
  } catch (error) {
    process.stderr.write(`lab server: cannot start: ${(error as Error).message}\n`);
    process.exit(EXIT_LAB_FAILED);
  }
  const running = server;
  const shutdown = (signal: string): void => {
    process.stderr.write(`lab server: ${signal} received, shutting down\n`);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`lab server: shutdown failed: ${(error as Error).message}\n`);
        process.exit(EXIT_LAB_FAILED);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  try {
    await running.stopped;
  } catch (error) {
    process.stderr.write(`lab server: stopped on a fatal error: ${(error as Error).message}\n`);
    await running.close().catch(() => undefined);
    process.exit(EXIT_LAB_FAILED);
  }
}
