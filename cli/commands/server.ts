// `lab server`: one raftlab node in the foreground. Parses flags and calls startServer.
import { Command } from 'commander';
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
} from '../../shared/config.js';
import type { LogFormat, LogLevel } from '../../shared/log.js';
import { parseServerUnsafe } from '../../server/raft/unsafe.js';
import { DEFAULT_SNAPSHOT_SETTINGS } from '../../server/node/config.js';
import { WAL_DEFAULTS } from '../../server/storage/index.js';
import { badArguments } from '../bad-arguments.js';
import { exitFlushed } from '../exit.js';
import { EXIT_LAB_FAILED } from '../exit-codes.js';
import { choice, folderProblem, fromLibrary, integer, option } from '../parsers.js';
import { serverTimingProblem } from '../server-timing.js';

interface ServerFlags {
  id: string;
  cluster?: string;
  config?: string;
  dataDir: string;
  tickMs: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  unsafe?: string;
  seed?: number;
  listenHost?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  rejoinAfterDataLoss?: boolean;
  clusterId?: string;
  clientConnectionsMax: number;
  clientConnectionsPerAddressMax: number;
  clientIdleTimeoutMs: number;
  firstFrameTimeoutMs: number;
  snapshotEntries: number;
  snapshotTailEntries: number;
  snapshotChunkBytes: number;
  walSegmentBytes: number;
}

const msFlag = integer(1, 600_000);
const connectionCount = integer(1, 1_000_000);
const connectionMs = integer(1, 3_600_000);
const entryCount = integer(0, 2 ** 31 - 1);
/** A chunk travels in one peer frame (frameSizeBytesMax 4 MiB) with its header. */
const chunkBytes = integer(1, 2 * 1024 * 1024);
/** Checks the names now, so a typo is a bad argument (254), not a failed start. */
const unsafeList = fromLibrary((text) => (parseServerUnsafe(text), text));

export function register(program: Command): void {
  const command = program
    .command('server')
    .description('run one raftlab server node in the foreground (logs to stderr; SIGTERM stops it cleanly)')
    .requiredOption('--id <id>', 'this node id, one of the cluster members')
    .option('--cluster <spec>', 'members as ID=HOST:CLIENTPORT/PEERPORT,... (e.g. n1=127.0.0.1:7001/7101)')
    .option('--config <file>', 'cluster file: {"members":[{"id":"n1","client":"h:p","peer":"h:p"}]}')
    .requiredOption('--data-dir <dir>', 'directory for the write-ahead log (locked while running)')
    .addOption(option('--tick-ms <ms>', 'milliseconds per Raft tick', msFlag, String(DEFAULT_TICK_MS)))
    .addOption(
      option(
        '--heartbeat-interval-ms <ms>',
        'leader heartbeat interval',
        msFlag,
        String(DEFAULT_HEARTBEAT_INTERVAL_MS),
      ),
    )
    .addOption(
      option(
        '--election-timeout-ms <ms>',
        'election timeout T (randomized in [T, 2T])',
        msFlag,
        String(DEFAULT_ELECTION_TIMEOUT_MS),
      ),
    )
    .addOption(
      option(
        '--unsafe <names>',
        'comma-separated UNSAFE variants for testing the testers (default: none)',
        unsafeList,
      ),
    )
    .addOption(
      option('--seed <n>', 'seed of the Raft core Rng (default: random, logged)', integer(0, 2 ** 32 - 1)),
    )
    .option(
      '--rejoin-after-data-loss',
      'this node lost its data (disk lost, wal/ wiped, log truncated): start it without votes or campaigns until it has caught up with the leader (docs/storage.md, A lost disk)',
    )
    .option(
      '--listen-host <host>',
      'bind both ports on this address instead of the member host (e.g. 0.0.0.0)',
    )
    .addOption(
      option(
        '--cluster-id <id>',
        'cluster id sent in every peer hello (default: a hash of the member list)',
        fromLibrary(parseClusterId),
      ),
    )
    .addOption(
      option(
        '--client-connections-max <n>',
        'client connections open at once',
        connectionCount,
        String(DEFAULT_LIMITS.clientConnectionsMax),
      ),
    )
    .addOption(
      option(
        '--client-connections-per-address-max <n>',
        'client connections open at once from one address',
        connectionCount,
        String(DEFAULT_LIMITS.clientConnectionsPerAddressMax),
      ),
    )
    .addOption(
      option(
        '--client-idle-timeout-ms <ms>',
        'close a client connection idle this long',
        connectionMs,
        String(DEFAULT_LIMITS.clientIdleTimeoutMs),
      ),
    )
    .addOption(
      option(
        '--first-frame-timeout-ms <ms>',
        'close a client connection that sends no complete frame this long after connecting',
        connectionMs,
        String(DEFAULT_LIMITS.firstFrameTimeoutMs),
      ),
    )
    .addOption(
      option(
        '--snapshot-entries <n>',
        'snapshot the state machine and compact the log every N applied entries (0: never)',
        entryCount,
        String(DEFAULT_SNAPSHOT_SETTINGS.snapshotEntries),
      ),
    )
    .addOption(
      option(
        '--snapshot-tail-entries <n>',
        'entries kept after a snapshot for followers a little behind',
        entryCount,
        String(DEFAULT_SNAPSHOT_SETTINGS.snapshotTailEntries),
      ),
    )
    .addOption(
      option(
        '--snapshot-chunk-bytes <n>',
        'bytes per InstallSnapshot chunk sent to a follower behind the log',
        chunkBytes,
        String(DEFAULT_SNAPSHOT_SETTINGS.snapshotChunkBytes),
      ),
    )
    .addOption(
      option(
        '--wal-segment-bytes <n>',
        'start a new WAL segment past this size (after a snapshot only whole segments are deleted)',
        integer(64 * 1024, 2 ** 30),
        String(WAL_DEFAULTS.segmentSizeBytesMax),
      ),
    )
    .addOption(choice('--log-level <level>', 'what to log', ['debug', 'info', 'warn', 'error'], 'info'))
    .addOption(
      choice(
        '--log-format <format>',
        'one line of text or one JSON object per event',
        ['text', 'json'],
        'text',
      ),
    )
    .action(async (flags: ServerFlags) => {
      let options;
      try {
        options = parseFlags(flags);
      } catch (error) {
        return badArguments(command, (error as Error).message);
      }
      await runServer(options);
    });
}

/** Everything the server would refuse, found before it creates its data directory. */
function parseFlags(flags: ServerFlags): Parameters<typeof startServer>[0] {
  if ((flags.cluster === undefined) === (flags.config === undefined))
    throw new Error('give exactly one of --cluster and --config');
  const members: MemberAddress[] = flags.cluster
    ? parseClusterSpec(flags.cluster)
    : loadClusterFile(flags.config!);
  const problems = [
    ...memberProblems(flags.id, members),
    serverTimingProblem(flags),
    folderProblem('--data-dir', flags.dataDir),
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return {
    id: flags.id,
    members,
    dataDir: flags.dataDir,
    tickMs: flags.tickMs,
    heartbeatIntervalMs: flags.heartbeatIntervalMs,
    electionTimeoutMs: flags.electionTimeoutMs,
    unsafe: flags.unsafe ?? '',
    logLevel: flags.logLevel,
    logFormat: flags.logFormat,
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.listenHost !== undefined ? { listenHost: flags.listenHost } : {}),
    ...(flags.rejoinAfterDataLoss === true ? { rejoinAfterDataLoss: true } : {}),
    ...(flags.clusterId !== undefined ? { clusterId: flags.clusterId } : {}),
    walSegmentBytes: flags.walSegmentBytes,
    snapshot: {
      snapshotEntries: flags.snapshotEntries,
      snapshotTailEntries: flags.snapshotTailEntries,
      snapshotChunkBytes: flags.snapshotChunkBytes,
    },
    limits: {
      clientConnectionsMax: flags.clientConnectionsMax,
      clientConnectionsPerAddressMax: flags.clientConnectionsPerAddressMax,
      clientIdleTimeoutMs: flags.clientIdleTimeoutMs,
      firstFrameTimeoutMs: flags.firstFrameTimeoutMs,
    },
  };
}

function memberProblems(id: string, members: readonly MemberAddress[]): string[] {
  const problems: string[] = [];
  if (!members.some((m) => m.id === id))
    problems.push(`--id ${id} is not in the cluster (${members.map((m) => m.id).join(', ')})`);
  const owners = new Map<string, string>();
  for (const m of members) {
    for (const [what, address] of [
      ['client', `${m.clientHost}:${m.clientPort}`],
      ['peer', `${m.peerHost}:${m.peerPort}`],
    ] as const) {
      const owner = owners.get(address);
      if (owner !== undefined) problems.push(`${address} is both ${owner} and ${m.id}'s ${what} port`);
      else owners.set(address, `${m.id}'s ${what} port`);
    }
  }
  return problems;
}

async function runServer(options: Parameters<typeof startServer>[0]): Promise<void> {
  let server;
  try {
    server = await startServer(options);
  } catch (error) {
    process.stderr.write(`lab server: cannot start: ${(error as Error).message}\n`);
    return exitFlushed(EXIT_LAB_FAILED);
  }
  const running = server;
  const shutdown = (signal: string): void => {
    process.stderr.write(`lab server: ${signal} received, shutting down\n`);
    running.close().then(
      () => exitFlushed(0),
      (error: unknown) => {
        process.stderr.write(`lab server: shutdown failed: ${(error as Error).message}\n`);
        return exitFlushed(EXIT_LAB_FAILED);
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
    await exitFlushed(EXIT_LAB_FAILED);
  }
}
