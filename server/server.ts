// A raftlab server node: the WAL, the Raft core, the KV state machine, the driver that runs them,
// and the two listeners (client port and peer port, as etcd). `startServer` resolves once both
// ports are listening; `close()` shuts down cleanly (stop accepting, fail what is waiting with
// SHUTTING_DOWN, stop the driver, close the WAL).
import { randomInt } from 'node:crypto';
import type { StatusResult } from '../proto/codec.js';
import { RaftNode } from './raft/node.js';
import { createRng } from './raft/rng.js';
import { parseServerUnsafe, type parseUnsafe } from './raft/unsafe.js';
import { KvStateMachine } from './kv/state-machine.js';
import {
  decideStart,
  openStorage,
  readMember,
  writeMember,
  type OpenedStorage,
  type StartDecision,
  type Wal,
} from './storage/index.js';
import { armFailpoints } from './failpoints/failpoints.js';
import { installPowerCut } from './failpoints/power.js';
import { FaultClock, watchClockFile } from './failpoints/clock.js';
import {
  clientAddress,
  clusterIdOf,
  DEFAULT_LIMITS,
  peerAddress,
  type ServerOptions,
} from '../shared/config.js';
import { createLogger, type Logger } from '../shared/log.js';
import { Driver } from './driver/driver.js';
import { buildNodeConfig } from './node/config.js';
import { PeerTransport } from './transport/peer-transport.js';
import { ClientListener } from './transport/client-listener.js';
import { handleClientRequest } from './requests.js';

export interface RunningServer {
  readonly id: string;
  readonly clientAddress: string;
  readonly peerAddress: string;
  readonly seed: number;
  status(): StatusResult;
  /** Rejects when the node had to stop on its own (a failed fsync, a violated invariant). */
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = createLogger({
    level: options.logLevel,
    format: options.logFormat,
    nodeId: options.id,
    ...(options.logWrite ? { write: options.logWrite } : {}),
  });
  const self = options.members.find((m) => m.id === options.id);
  if (!self)
    throw new Error(
      `--id ${options.id} is not in the cluster (${options.members.map((m) => m.id).join(', ')})`,
    );
  const unsafe = parseServerUnsafe(options.unsafe);
  if (unsafe.size > 0) logger.warn(`UNSAFE variants enabled: ${[...unsafe].join(', ')}`);
  const seed = options.seed ?? randomInt(2 ** 31);
  const armed = armFailpoints(process.env); // throws outside the lab, before anything is opened
  if (armed !== undefined) logger.warn(armed);
  const openedAtMs = performance.now();
  const walOptions =
    options.walSegmentBytes !== undefined ? { segmentSizeBytesMax: options.walSegmentBytes } : {};
  const opened = await openStorage(options.dataDir, walOptions, {
    ackBeforeFsync: unsafe.has('ack-before-fsync'),
  });
  const openMs = Math.round(performance.now() - openedAtMs);
  const wal = opened.storage.wal;
  for (const warning of opened.warnings) {
    const what = wal.warnings.includes(warning) ? 'repaired its WAL' : 'snapshot storage';
    logger.warn(`${options.id} ${what}: ${warning}`);
  }
  let uninstall = (): void => undefined;
  try {
    const clock = new FaultClock();
    const stopPowerCut = installPowerCut(process.env, wal, logger);
    uninstall = stopPowerCut;
    const stopClockFile = watchClockFile(process.env, clock, logger);
    uninstall = () => (stopPowerCut(), stopClockFile());
    const decision = await checkDataDir(options, wal, unsafe);
    for (const warning of decision.warnings) logger.warn(warning);
    logBoot(options.id, logger, opened, openMs);
    const server = await startOnStorage(options, logger, opened, seed, unsafe, decision.recovering, () =>
      clock.now(),
    );
    // A clean close in a test process must not leave the signal handler or the poll behind.
    return { ...server, close: () => (uninstall(), server.close()) };
  } catch (error) {
    uninstall();
    await opened.storage.close();
    throw error;
  }
}

/**
 * The cluster a data directory belongs to, as its MEMBER file records it: the sorted member ids
 * (not the peer hello's cluster id, which hashes client addresses too, so that moving a node to
 * another port does not make its own data directory look foreign).
 */
function memberIdsOf(options: ServerOptions): string {
  return options.members
    .map((m) => m.id)
    .sort()
    .join(',');
}

/**
 * The lost-disk guard (storage/member.ts): refuses a member whose log is gone, starts a node the
 * operator says lost its data in recovery, and makes sure MEMBER is on disk before the first promise.
 */
async function checkDataDir(
  options: ServerOptions,
  wal: Wal,
  unsafe: ReturnType<typeof parseUnsafe>,
): Promise<StartDecision> {
  const identity = { node: options.id, cluster: memberIdsOf(options) };
  const { hardState, entries } = wal.state;
  const decision = decideStart({
    dir: options.dataDir,
    identity,
    member: await readMember(options.dataDir),
    walEmpty: entries.length === 0 && hardState.term === 0,
    rejoin: options.rejoinAfterDataLoss === true,
    guard: !unsafe.has('no-lost-state-guard'),
  });
  if (decision.writeMember === 'now') await writeMember(options.dataDir, identity);
  else if (decision.writeMember === 'after-first-sync')
    wal.setAfterFirstSync(() => writeMember(options.dataDir, identity));
  return decision;
}

/** What the node starts from, and how long reading it took (the restart time snapshots bound). */
function logBoot(id: string, logger: Logger, opened: OpenedStorage, openMs: number): void {
  const { snapshot, entries, hardState } = opened.boot;
  if (snapshot === undefined && entries.length === 0 && hardState.term === 0) return;
  const from = snapshot
    ? `snapshot at index ${snapshot.meta.index} (term ${snapshot.meta.term}, ${snapshot.data.length} bytes) and `
    : '';
  const { walBytes, walSegments } = opened.storage.stats();
  logger.info(
    `${id} restarted from ${from}${entries.length} WAL entries after it, term ${hardState.term}, commit ${hardState.commit}; storage read in ${openMs} ms (WAL ${walSegments} segments, ${walBytes} bytes)`,
  );
}

async function startOnStorage(
  options: ServerOptions,
  logger: Logger,
  opened: OpenedStorage,
  seed: number,
  unsafe: ReturnType<typeof parseUnsafe>,
  recovering: boolean,
  now: () => number,
): Promise<RunningServer> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const self = options.members.find((m) => m.id === options.id)!;
  const { hardState, entries, snapshot } = opened.boot;
  const clusterId = options.clusterId ?? clusterIdOf(options.members);
  logger.info(`${options.id} starting`, {
    seed,
    tickMs: options.tickMs,
    dataDir: options.dataDir,
    clusterId,
  });
  const config = buildNodeConfig({
    id: options.id,
    voters: options.members.map((m) => m.id),
    tickMs: options.tickMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    electionTimeoutMs: options.electionTimeoutMs,
    unsafe,
    ...(options.snapshot !== undefined ? { snapshot: options.snapshot } : {}),
  });
  const snapshotIndex = snapshot?.meta.index ?? 0;
  const node = new RaftNode({
    ...config.raft,
    rng: createRng(seed),
    initial: { hardState, entries, ...(snapshot !== undefined ? { snapshot } : {}) },
    applied: snapshotIndex,
    recovering,
  });
  const kv = new KvStateMachine(config.kvLimits, unsafe);
  if (snapshot !== undefined) kv.restore(snapshot.data, snapshotIndex);
  const byId = new Map(options.members.map((m) => [m.id, m]));
  const peers: { transport?: PeerTransport } = {};
  const driver = new Driver({
    node,
    kv,
    disk: opened.storage,
    snapshot: {
      snapshotEntries: config.snapshotEntries,
      snapshotTailEntries: config.snapshotTailEntries,
      snapshotIndex,
    },
    send: (messages) => peers.transport?.send(messages),
    logger,
    unsafe,
    tickMs: options.tickMs,
    electionTimeoutTicksMin: config.raft.electionTimeoutTicksMin,
    inboxMessagesMax: limits.inboxMessagesMax,
    clientAddressOf: (id) => {
      const m = byId.get(id);
      return m ? clientAddress(m) : undefined;
    },
    applied: snapshotIndex,
    now,
  });
  const transport = new PeerTransport({
    selfId: options.id,
    members: options.members,
    clusterId,
    selfClientAddress: clientAddress(self),
    listenHost: options.listenHost ?? self.peerHost,
    listenPort: self.peerPort,
    frameSizeBytesMax: limits.frameSizeBytesMax,
    peerConnectionsInboundMax: limits.peerConnectionsInboundMax,
    helloTimeoutMs: limits.firstFrameTimeoutMs,
    sendQueueMessagesMax: limits.sendQueueMessagesMax,
    sendQueueBytesMax: limits.sendQueueBytesMax,
    logger,
    deliver: (message) => {
      driver.stepMessage(message);
      return !driver.inbox.full;
    },
    whenRoom: (resume) => driver.inbox.whenRoom(resume),
    onPeerLost: (peer) => driver.peerDisconnected(peer),
  });
  peers.transport = transport;
  const status = (): StatusResult => {
    const s = driver.status();
    const disk = opened.storage.stats();
    return {
      nodeId: s.id,
      role: s.role,
      term: s.term,
      leaderId: s.leader,
      commitIndex: s.commit,
      appliedIndex: s.applied,
      lastIndex: s.lastIndex,
      members: options.members.map((m) => ({
        id: m.id,
        clientAddress: clientAddress(m),
        peerAddress: peerAddress(m),
      })),
      snapshotIndex: driver.snapshotIndex,
      walBytes: disk.walBytes,
      walSegments: disk.walSegments,
    };
  };
  const clients = new ClientListener({
    listenHost: options.listenHost ?? self.clientHost,
    listenPort: self.clientPort,
    frameSizeBytesMax: limits.frameSizeBytesMax,
    oversizedFrameSkipBytesMax: limits.oversizedFrameSkipBytesMax,
    requestsInFlightPerConnectionMax: limits.requestsInFlightPerConnectionMax,
    clientConnectionsMax: limits.clientConnectionsMax,
    clientConnectionsPerAddressMax: limits.clientConnectionsPerAddressMax,
    clientIdleTimeoutMs: limits.clientIdleTimeoutMs,
    firstFrameTimeoutMs: limits.firstFrameTimeoutMs,
    logger,
    handle: (request, reply) => handleClientRequest(driver, status, request, reply),
    busy: () => driver.inbox.full,
    whenRoom: (resume) => driver.inbox.whenRoom(resume),
  });
  await transport.listen();
  try {
    await clients.listen();
  } catch (error) {
    await transport.close();
    throw error;
  }
  let fail: (error: Error) => void = () => undefined;
  const stopped = new Promise<void>((_, reject) => (fail = reject));
  stopped.catch(() => undefined);
  driver.start((error) => fail(error));
  logger.info(`${options.id} serving clients on ${clientAddress(self)}, peers on ${peerAddress(self)}`, {
    members: options.members.length,
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info(`${options.id} shutting down`);
      // net.Server.close() resolves once every connection is gone, so await it after closing them.
      const listenerClosed = clients.stopAccepting();
      await driver.stop();
      clients.closeConnections();
      await listenerClosed;
      await transport.close();
      await opened.storage.close();
      logger.info(`${options.id} stopped`, { droppedPeerMessages: transport.droppedMessages() });
    })());
  return {
    id: options.id,
    clientAddress: clientAddress(self),
    peerAddress: peerAddress(self),
    seed,
    status,
    stopped,
    close,
  };
}
