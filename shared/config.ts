// Server configuration: the cluster map (`--cluster n1=HOST:CPORT/PPORT,...` or a JSON file),
// timeouts in milliseconds (converted to core ticks here, the only place that knows both), and
// every named limit with its default.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LogFormat, LogLevel } from './log.js';

export interface MemberAddress {
  readonly id: string;
  readonly clientHost: string;
  readonly clientPort: number;
  readonly peerHost: string;
  readonly peerPort: number;
}

export interface ServerLimits {
  /** Largest frame accepted on either port; a longer length prefix closes the connection. */
  readonly frameSizeBytesMax: number;
  /** Requests one client connection may have in flight; past it the answer is OVERLOADED. */
  readonly requestsInFlightPerConnectionMax: number;
  /** Frames up to this long over frameSizeBytesMax are read, discarded and answered TOO_LARGE; longer ones close the connection. */
  readonly oversizedFrameSkipBytesMax: number;
  /** Client connections open at once; more are refused (OVERLOADED, definite). */
  readonly clientConnectionsMax: number;
  /** Client connections open at once from one remote address; more from it are refused. */
  readonly clientConnectionsPerAddressMax: number;
  /** A client connection with nothing in flight and no frame for this long is closed. */
  readonly clientIdleTimeoutMs: number;
  /** A client connection that sends no complete frame this long after connecting is closed (and a peer connection without a hello). */
  readonly firstFrameTimeoutMs: number;
  /** Inbound connections on the peer port open at once; more are refused. */
  readonly peerConnectionsInboundMax: number;
  /** Encoded messages queued for one peer; full means drop and count (Raft tolerates loss). */
  readonly sendQueueMessagesMax: number;
  /** Bytes queued for one peer. */
  readonly sendQueueBytesMax: number;
  /** Inputs (peer messages, proposals, reads) waiting for the driver; past it sockets pause. */
  readonly inboxMessagesMax: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  frameSizeBytesMax: 4 * 1024 * 1024,
  requestsInFlightPerConnectionMax: 1024,
  oversizedFrameSkipBytesMax: 64 * 1024 * 1024,
  clientConnectionsMax: 4096,
  clientConnectionsPerAddressMax: 1024,
  clientIdleTimeoutMs: 5 * 60_000,
  firstFrameTimeoutMs: 10_000,
  peerConnectionsInboundMax: 256,
  sendQueueMessagesMax: 4096,
  sendQueueBytesMax: 64 * 1024 * 1024,
  inboxMessagesMax: 16_384,
};

export interface ServerOptions {
  readonly id: string;
  readonly members: readonly MemberAddress[];
  /** Carried in every peer hello; default clusterIdOf(members). */
  readonly clusterId?: string;
  readonly dataDir: string;
  readonly tickMs: number;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly unsafe: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Seed of the core's Rng (election timeouts); logged at start so a run can be replayed. */
  readonly seed?: number;
  /** Bind address override for both listeners (default: the host given for this node). */
  readonly listenHost?: string;
  readonly limits?: Partial<ServerLimits>;
  /**
   * --rejoin-after-data-loss: this node lost its data (disk lost or wiped, log truncated); start it
   * in recovery, without votes or campaigns until it has caught up (docs/storage.md, A lost disk).
   */
  readonly rejoinAfterDataLoss?: boolean;
  /**
   * When to snapshot and compact, and the InstallSnapshot chunk size (--snapshot-entries,
   * --snapshot-tail-entries, --snapshot-chunk-bytes); absent fields take the node defaults.
   */
  readonly snapshot?: {
    readonly snapshotEntries?: number;
    readonly snapshotTailEntries?: number;
    readonly snapshotChunkBytes?: number;
  };
  /**
   * --wal-segment-bytes: a new WAL segment starts past this size. After a snapshot only whole
   * segments are deleted, so the WAL keeps up to one segment more than the snapshots need.
   */
  readonly walSegmentBytes?: number;
  /** Logger sink override (tests); default stderr. */
  readonly logWrite?: (line: string) => void;
}

export const DEFAULT_TICK_MS = 10;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 100;
export const DEFAULT_ELECTION_TIMEOUT_MS = 1000;

/** Parses `n1=127.0.0.1:7001/7101,n2=...` (client port / peer port). */
export function parseClusterSpec(spec: string): MemberAddress[] {
  const members = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(parseMember);
  if (members.length === 0) throw new Error('--cluster names no members');
  const ids = new Set(members.map((m) => m.id));
  if (ids.size !== members.length) throw new Error(`--cluster names a member twice: ${spec}`);
  return members;
}

function parseMember(text: string): MemberAddress {
  const match = /^([A-Za-z0-9_.-]+)=(.+):(\d+)\/(\d+)$/.exec(text);
  if (!match) throw new Error(`bad cluster member "${text}": expected ID=HOST:CLIENTPORT/PEERPORT`);
  const [, id, host, clientPort, peerPort] = match as unknown as [string, string, string, string, string];
  return {
    id,
    clientHost: host,
    clientPort: parsePort(clientPort, text),
    peerHost: host,
    peerPort: parsePort(peerPort, text),
  };
}

function parsePort(text: string, context: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`bad port ${text} in "${context}"`);
  return port;
}

/**
 * A cluster file: `{ "members": [{ "id": "n1", "client": "10.0.0.1:7001", "peer": "10.0.0.1:7101" }] }`
 * (client and peer may be on different hosts).
 */
export function loadClusterFile(path: string): MemberAddress[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read cluster file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const list = (parsed as { members?: unknown }).members;
  if (!Array.isArray(list)) throw new Error(`${path}: expected { "members": [...] }`);
  return list.map((raw, i) => memberFromJson(raw, `${path} member ${i}`));
}

function memberFromJson(raw: unknown, context: string): MemberAddress {
  const m = raw as { id?: unknown; client?: unknown; peer?: unknown };
  if (typeof m.id !== 'string' || typeof m.client !== 'string' || typeof m.peer !== 'string')
    throw new Error(`${context}: needs string fields id, client (host:port), peer (host:port)`);
  const client = splitHostPort(m.client, context);
  const peer = splitHostPort(m.peer, context);
  return {
    id: m.id,
    clientHost: client.host,
    clientPort: client.port,
    peerHost: peer.host,
    peerPort: peer.port,
  };
}

export function splitHostPort(text: string, context = text): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  if (at <= 0) throw new Error(`bad address "${text}" in ${context}: expected HOST:PORT`);
  return { host: text.slice(0, at), port: parsePort(text.slice(at + 1), context) };
}

/**
 * The default cluster id: a hash of every member's id and client address, in id order. Two
 * clusters that merely share node ids (n1, n2, n3 on other ports) differ, and a node started with
 * another member list is refused by the peers; the order of the members does not matter. Peer
 * addresses are left out on purpose: they may differ from node to node for the same cluster (the
 * lab's local runtime gives each node its own proxy address for every peer, and NAT does the
 * same), while client addresses are what clients and `status` use, the same everywhere.
 * `--cluster-id` overrides it.
 */
export function clusterIdOf(members: readonly MemberAddress[]): string {
  const canonical = [...members]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((m) => `${m.id}=${clientAddress(m)}`)
    .join(',');
  return `c-${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/** Checks an explicit --cluster-id: 1..128 characters of [A-Za-z0-9_.:-]. */
export function parseClusterId(text: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(text))
    throw new Error(`--cluster-id must be 1-128 characters of A-Z a-z 0-9 _ . : - (got "${text}")`);
  return text;
}

export function clientAddress(m: MemberAddress): string {
  return `${m.clientHost}:${m.clientPort}`;
}

export function peerAddress(m: MemberAddress): string {
  return `${m.peerHost}:${m.peerPort}`;
}

export function formatClusterSpec(members: readonly MemberAddress[]): string {
  return members.map((m) => `${m.id}=${m.clientHost}:${m.clientPort}/${m.peerPort}`).join(',');
}

export interface TickConfig {
  readonly heartbeatIntervalTicks: number;
  readonly electionTimeoutTicksMin: number;
  readonly electionTimeoutTicksMax: number;
}

/** Milliseconds to ticks; the election timeout is randomized in [T, 2T] by the core, as in etcd. */
export function ticksFromMs(
  tickMs: number,
  heartbeatIntervalMs: number,
  electionTimeoutMs: number,
): TickConfig {
  if (!(tickMs >= 1)) throw new Error(`--tick-ms must be at least 1 (got ${tickMs})`);
  const heartbeatIntervalTicks = Math.max(1, Math.round(heartbeatIntervalMs / tickMs));
  const electionTimeoutTicksMin = Math.max(1, Math.round(electionTimeoutMs / tickMs));
  if (electionTimeoutTicksMin <= heartbeatIntervalTicks)
    throw new Error(
      `election timeout (${electionTimeoutMs} ms) must be longer than the heartbeat interval (${heartbeatIntervalMs} ms)`,
    );
  return {
    heartbeatIntervalTicks,
    electionTimeoutTicksMin,
    electionTimeoutTicksMax: 2 * electionTimeoutTicksMin,
  };
}
