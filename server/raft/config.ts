// The core's configuration, in ticks and counts (only the driver knows milliseconds), and its
// validation: a bad config is a clear error at construction, never a misbehaving node later.
import type { UnsafeVariant } from './unsafe.js';
import type { Entry, HardState, NodeId, Rng, Snapshot } from './types.js';

export type ReadMode = 'read-index' | 'lease';

export interface RaftConfig {
  id: NodeId;
  /** All voters, including this node. */
  voters: readonly NodeId[];
  electionTimeoutTicksMin: number;
  electionTimeoutTicksMax: number;
  heartbeatIntervalTicks: number;
  /** Entries per append message. */
  appendEntriesMax: number;
  /** Entry payload bytes per append message (a single larger entry still goes alone). */
  appendBytesMax: number;
  /** Unacknowledged appends per follower in replicate state. */
  inflightAppendsMax: number;
  /** Uncommitted entries in the leader's log before propose() answers OVERLOADED. */
  proposalsPendingMax: number;
  /** Reads queued or awaiting confirmation before readIndex() answers OVERLOADED. */
  readsPendingMax: number;
  /** InstallSnapshot chunk size (default DEFAULT_SNAPSHOT_LIMITS). */
  snapshotChunkBytes?: number;
  /** Unacknowledged snapshot chunks per follower. */
  snapshotChunksInflightMax?: number;
  /** Largest snapshot a follower buffers; a larger one is refused (SNAPSHOT_REJECTED notice). */
  snapshotBytesMax?: number;
  preVote: boolean;
  checkQuorum: boolean;
  readMode: ReadMode;
  unsafe: ReadonlySet<UnsafeVariant>;
  rng: Rng;
  /**
   * Restart from storage: the log starts after `snapshot` (when there is one) and `entries` are the
   * entries after it; the node keeps the snapshot to send to followers that need it.
   */
  initial?: { hardState: HardState; entries: readonly Entry[]; snapshot?: Snapshot | undefined };
  /** Index the state machine has already applied (0 on a fresh start). */
  applied?: number;
  /**
   * This node lost acknowledged state (its data directory says so, or the operator does): start
   * recovering, i.e. neither vote nor campaign until caught up (recovery.ts).
   */
  recovering?: boolean;
}

/** The snapshot limits of a node whose config leaves them out. */
export const DEFAULT_SNAPSHOT_LIMITS = {
  snapshotChunkBytes: 1024 * 1024,
  snapshotChunksInflightMax: 4,
  snapshotBytesMax: 512 * 1024 * 1024,
} as const;

function positiveInteger(config: RaftConfig, name: keyof RaftConfig): void {
  const value = config[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`raft config: ${name} must be a positive integer, got ${String(value)}`);
  }
}

export function validateConfig(config: RaftConfig): void {
  for (const name of [
    'electionTimeoutTicksMin',
    'electionTimeoutTicksMax',
    'heartbeatIntervalTicks',
    'appendEntriesMax',
    'appendBytesMax',
    'inflightAppendsMax',
    'proposalsPendingMax',
    'readsPendingMax',
  ] as const) {
    positiveInteger(config, name);
  }
  for (const name of ['snapshotChunkBytes', 'snapshotChunksInflightMax', 'snapshotBytesMax'] as const) {
    if (config[name] !== undefined) positiveInteger(config, name);
  }
  if (config.electionTimeoutTicksMax < config.electionTimeoutTicksMin) {
    throw new RangeError('raft config: electionTimeoutTicksMax must be >= electionTimeoutTicksMin');
  }
  if (config.heartbeatIntervalTicks >= config.electionTimeoutTicksMin) {
    throw new RangeError('raft config: heartbeatIntervalTicks must be < electionTimeoutTicksMin');
  }
  if (!config.voters.includes(config.id)) {
    throw new RangeError(
      `raft config: voters [${config.voters.join(', ')}] must include this node ${config.id}`,
    );
  }
  if (new Set(config.voters).size !== config.voters.length) {
    throw new RangeError(`raft config: duplicate voter in [${config.voters.join(', ')}]`);
  }
  if (config.readMode === 'lease' && !config.checkQuorum) {
    throw new RangeError(
      'raft config: readMode "lease" requires checkQuorum (followers must honour the lease)',
    );
  }
}
