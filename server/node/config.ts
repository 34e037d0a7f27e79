// The one place that turns a node's user-facing settings (milliseconds, member ids, unsafe
// variants, named limits) into the Raft core's and the state machine's configuration. The server
// and the simulator both build their nodes here, so a simulated node runs with the limits and
// features a real one runs with; only the timing differs, and it is passed in as settings.
import type { RaftConfig, ReadMode } from '../raft/config.js';
import type { UnsafeVariant } from '../raft/unsafe.js';
import type { KvLimits } from '../kv/state-machine.js';
import { ticksFromMs } from '../../shared/config.js';

/** Per-node limits of the core and the state machine (each a named maximum, rule of the project). */
export interface NodeLimits {
  /** Entries per append message. */
  readonly appendEntriesMax: number;
  /** Entry payload bytes per append message. */
  readonly appendBytesMax: number;
  /** Unacknowledged appends per follower. */
  readonly inflightAppendsMax: number;
  /** Uncommitted entries before a proposal is refused with OVERLOADED. */
  readonly proposalsPendingMax: number;
  /** Reads awaiting confirmation before a read is refused with OVERLOADED. */
  readonly readsPendingMax: number;
}

export const DEFAULT_NODE_LIMITS: NodeLimits = {
  appendEntriesMax: 512,
  appendBytesMax: 1024 * 1024,
  inflightAppendsMax: 256,
  proposalsPendingMax: 8192,
  readsPendingMax: 8192,
};

/** When a node snapshots its state machine and compacts its log, and how it sends snapshots. */
export interface SnapshotSettings {
  /** Take a snapshot when applied - last snapshot index >= this (0 = never). */
  readonly snapshotEntries: number;
  /** Entries kept after compaction for followers a little behind: compact(snapshotIndex - this). */
  readonly snapshotTailEntries: number;
  /** InstallSnapshot chunk size. */
  readonly snapshotChunkBytes: number;
}

export const DEFAULT_SNAPSHOT_SETTINGS: SnapshotSettings = {
  snapshotEntries: 10_000,
  snapshotTailEntries: 1_000,
  snapshotChunkBytes: 1024 * 1024,
};

/** Throws a RangeError naming the setting that is out of range. */
export function validateSnapshotSettings(s: SnapshotSettings): void {
  for (const name of ['snapshotEntries', 'snapshotTailEntries'] as const) {
    if (!Number.isInteger(s[name]) || s[name] < 0)
      throw new RangeError(`${name} must be a non-negative integer, got ${String(s[name])}`);
  }
  if (!Number.isInteger(s.snapshotChunkBytes) || s.snapshotChunkBytes < 1)
    throw new RangeError(
      `snapshotChunkBytes must be a positive integer, got ${String(s.snapshotChunkBytes)}`,
    );
}

export interface NodeSettings {
  readonly id: string;
  readonly voters: readonly string[];
  readonly tickMs: number;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly unsafe: ReadonlySet<UnsafeVariant>;
  readonly limits?: Partial<NodeLimits>;
  readonly kvLimits?: Partial<KvLimits>;
  /** How leaders confirm reads (default ReadIndex; the simulator runs some seeds with leases). */
  readonly readMode?: ReadMode;
  /** Pre-vote rounds before elections (default on; off only for an unsafe simulator variant). */
  readonly preVote?: boolean;
  /** Snapshot thresholds (defaults DEFAULT_SNAPSHOT_SETTINGS). */
  readonly snapshot?: Partial<SnapshotSettings>;
}

/** The core's configuration without what belongs to one life of the node (rng, restart state). */
export type NodeRaftConfig = Omit<RaftConfig, 'rng' | 'initial' | 'applied'>;

export interface NodeConfig extends SnapshotSettings {
  readonly raft: NodeRaftConfig;
  readonly kvLimits: Partial<KvLimits>;
}

export function buildNodeConfig(settings: NodeSettings): NodeConfig {
  const ticks = ticksFromMs(settings.tickMs, settings.heartbeatIntervalMs, settings.electionTimeoutMs);
  const limits = { ...DEFAULT_NODE_LIMITS, ...settings.limits };
  const snapshot = { ...DEFAULT_SNAPSHOT_SETTINGS, ...settings.snapshot };
  validateSnapshotSettings(snapshot);
  return {
    ...snapshot,
    raft: {
      id: settings.id,
      voters: settings.voters,
      ...ticks,
      ...limits,
      snapshotChunkBytes: snapshot.snapshotChunkBytes,
      preVote: settings.preVote ?? true,
      checkQuorum: true,
      // UNSAFE lease-read-no-clock-bound: lease reads, which are safe only while every clock runs
      // at the same rate (the lease is counted in the leader's ticks, the vote hold-off in the
      // followers'); nothing here bounds the drift, so a slow leader clock breaks them.
      readMode: settings.unsafe.has('lease-read-no-clock-bound')
        ? 'lease'
        : (settings.readMode ?? 'read-index'),
      unsafe: settings.unsafe,
    },
    kvLimits: settings.kvLimits ?? {},
  };
}
