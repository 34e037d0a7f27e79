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
}

/** The core's configuration without what belongs to one life of the node (rng, restart state). */
export type NodeRaftConfig = Omit<RaftConfig, 'rng' | 'initial' | 'applied'>;

export interface NodeConfig {
  readonly raft: NodeRaftConfig;
  readonly kvLimits: Partial<KvLimits>;
}

export function buildNodeConfig(settings: NodeSettings): NodeConfig {
  const ticks = ticksFromMs(settings.tickMs, settings.heartbeatIntervalMs, settings.electionTimeoutMs);
  const limits = { ...DEFAULT_NODE_LIMITS, ...settings.limits };
  return {
    raft: {
      id: settings.id,
      voters: settings.voters,
      ...ticks,
      ...limits,
      preVote: settings.preVote ?? true,
      checkQuorum: true,
      readMode: settings.readMode ?? 'read-index',
      unsafe: settings.unsafe,
    },
    kvLimits: settings.kvLimits ?? {},
  };
}
