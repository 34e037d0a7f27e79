// Options of one simulated run, the fault names of --faults, and the defaults.
import type { UnsafeVariant } from '../server/raft/unsafe.js';

export type FaultName =
  'partition' | 'pause' | 'crash' | 'drop' | 'duplicate' | 'reorder' | 'delay' | 'clock' | 'disk-loss';
export const FAULT_NAMES: readonly FaultName[] = [
  'partition',
  'pause',
  'crash',
  'drop',
  'duplicate',
  'reorder',
  'delay',
  'clock',
];

/** How reads are served: ReadIndex, leases, or a seeded choice per seed (part of every sweep leases). */
export type ReadsChoice = 'index' | 'lease' | 'mixed';
export const READS_CHOICES: readonly ReadsChoice[] = ['index', 'lease', 'mixed'];
/** With --reads mixed, the share of seeds that run with lease reads. */
export const LEASE_SHARE_OF_SEEDS = 0.25;
/**
 * Faults that `all` leaves out. disk-loss breaks Raft's own assumption (what a node made durable
 * stays durable) and needs the operator's recovery; it is asked for by name: `all,disk-loss`.
 */
export const OPT_IN_FAULT_NAMES: readonly FaultName[] = ['disk-loss'];

/**
 * The node's disk: the model (disk.ts, fast, synchronous), the server's real WAL over a simulated
 * file system (wal-disk.ts, sim-fs.ts), or the WAL on a seeded share of the seeds.
 */
export type DiskChoice = 'model' | 'wal' | 'mixed';
export const DISK_CHOICES: readonly DiskChoice[] = ['model', 'wal', 'mixed'];
/** With --disk mixed, the share of seeds that run the real WAL. */
export const WAL_SHARE_OF_SEEDS = 0.25;
/**
 * Variants of the model disk and simulated driver (disk.ts, the nemesis' disk loss): the WAL disk
 * does not implement them, so --disk wal refuses them and --disk mixed keeps such seeds on the model.
 */
export const MODEL_DISK_ONLY_UNSAFE: readonly UnsafeVariant[] = [
  'forget-vote-on-restart',
  'hard-state-no-fsync',
];

/**
 * Variants of the server's real storage (WAL and snapshot store): only the WAL disk runs that code
 * (the model disk runs the correct one).
 */
export const WAL_DISK_UNSAFE: readonly UnsafeVariant[] = [
  'ack-before-fsync',
  'wal-skip-dir-sync-on-roll',
  'snapshot-rename-before-fsync',
];

export interface SimOptions {
  seed: number;
  nodes: number;
  /** Client operations to issue in this run. */
  ops: number;
  /** Concurrent client processes (each runs one operation at a time). */
  clients: number;
  /** Keys the workload touches; few keys mean more contention, so more to check. */
  keys: number;
  faults: ReadonlySet<FaultName>;
  unsafe: ReadonlySet<UnsafeVariant>;
  /** Record a full trace (every event). Off in sweeps; a failing seed is re-run with it on. */
  trace: boolean;
  /** Check the client history for linearizability at the end (needs checker/). */
  checkLinearizability: boolean;
  reads: ReadsChoice;
  disk: DiskChoice;
  /** Nodes take snapshots and compact (seeded thresholds per run); off: logs grow as before. */
  snapshots: boolean;
}

/**
 * Why these options cannot run on the WAL disk (disk-loss, a variant of the model disk, or one that
 * needs snapshots); undefined if they can.
 */
export function walDiskRefusal(o: Pick<SimOptions, 'faults' | 'unsafe'>): string | undefined {
  if (o.faults.has('disk-loss'))
    return 'the disk-loss fault cuts the model disk; it is not built for the WAL disk';
  const variant = MODEL_DISK_ONLY_UNSAFE.find((v) => o.unsafe.has(v));
  if (variant !== undefined) return `the unsafe variant ${variant} lives in the model disk`;
  return undefined;
}

export function parseDisk(text: string): DiskChoice {
  if (!(DISK_CHOICES as readonly string[]).includes(text))
    throw new Error(`unknown --disk "${text}"; valid: ${DISK_CHOICES.join(', ')}`);
  return text as DiskChoice;
}

/**
 * The KV limits in simulation, shrunk from the server's (10,000 sessions, 1,000,000 idle entries)
 * so that seeds evict sessions from a full table and expire idle ones: 5 client slots plus the
 * sessions of processes that ended (sim/client.ts) overflow 8, and an ended process's session is
 * idle for 100 entries within a few hundred operations. An active client writes far more often.
 */
export const SIM_KV_LIMITS = { sessionsMax: 8, sessionIdleEntriesMax: 100 } as const;

export const NS_PER_MS = 1_000_000;

/**
 * A simulated node's timing, as a server's flags give it (--tick-ms, --heartbeat-interval-ms,
 * --election-timeout-ms): server/node/config.ts turns it into ticks for both. Faster than the
 * server's defaults so that a seed sees many elections; every other setting is the server's.
 */
export const SIM_NODE_TIMING = {
  tickMs: 10,
  heartbeatIntervalMs: 20,
  electionTimeoutMs: 100,
} as const;

/** Timing of the simulated world (all simulated nanoseconds). */
export const SIM_TIMING = {
  tickNs: SIM_NODE_TIMING.tickMs * NS_PER_MS,
  /** Per-node clock rate error, as a fraction (a node's tick is tickNs * (1 +- drift)). */
  clockDriftMax: 0.01,
  /** With the clock fault: the per-node drift bound of the run is drawn up to this. */
  clockDriftMaxWithFault: 0.05,
  /** With the delay fault: this share of peer messages arrives after more than an election timeout. */
  longDelayProbability: 0.005,
  longDelayNsMin: 200 * NS_PER_MS,
  longDelayNsMax: 1500 * NS_PER_MS,
  /** A pause resumed with a clock jump delivers at most this many missed ticks at once. */
  clockJumpTicksMax: 60,
  networkDelayNsMin: 200_000,
  networkDelayNsMean: 1 * NS_PER_MS,
  networkDelayNsMax: 40 * NS_PER_MS,
  /** With reorder on, this share of messages gets an extra delay up to reorderDelayNsMax. */
  reorderProbability: 0.1,
  reorderDelayNsMax: 30 * NS_PER_MS,
  dropProbability: 0.03,
  duplicateProbability: 0.03,
  clientAttemptTimeoutNs: 60 * NS_PER_MS,
  clientOpDeadlineNs: 1500 * NS_PER_MS,
  clientRetryBackoffNs: 20 * NS_PER_MS,
  nemesisQuietNsMin: 100 * NS_PER_MS,
  nemesisQuietNsMax: 500 * NS_PER_MS,
  nemesisFaultNsMin: 150 * NS_PER_MS,
  nemesisFaultNsMax: 1200 * NS_PER_MS,
  /** After the last operation and the final heal: the cluster must commit again within this. */
  livenessAfterHealNs: 20_000 * NS_PER_MS,
  /** After the final heal: some node must be leader within this (election timeouts are 100-200 ms). */
  leaderAfterHealNsMax: 3_000 * NS_PER_MS,
  /** From the final heal until converged: terms may rise by at most this many more than leaders elected. */
  termsWithoutLeaderAfterHealMax: 4,
  /** A snapshot save takes 0 to this long on a simulated disk (a crash may come in between). */
  snapshotSaveNsMax: 30 * NS_PER_MS,
  /** The kept-away fault isolates a node at most this long, waiting for the log to be compacted past it. */
  keptAwayNsMax: 4_000 * NS_PER_MS,
} as const;

export function parseFaults(list: string): ReadonlySet<FaultName> {
  const out = new Set<FaultName>();
  for (const raw of list.split(',')) {
    const name = raw.trim();
    if (name === '' || name === 'none') continue;
    if (name === 'all') {
      for (const f of FAULT_NAMES) out.add(f);
      continue;
    }
    if (![...FAULT_NAMES, ...OPT_IN_FAULT_NAMES].includes(name as FaultName)) {
      throw new Error(
        `unknown fault "${name}"; valid: ${[...FAULT_NAMES, ...OPT_IN_FAULT_NAMES].join(', ')}, all (but ${OPT_IN_FAULT_NAMES.join(', ')}), none`,
      );
    }
    out.add(name as FaultName);
  }
  return out;
}

export function parseReads(text: string): ReadsChoice {
  if (!(READS_CHOICES as readonly string[]).includes(text))
    throw new Error(`unknown --reads "${text}"; valid: ${READS_CHOICES.join(', ')}`);
  return text as ReadsChoice;
}

export function formatFaults(faults: ReadonlySet<FaultName>): string {
  if (faults.size === 0) return 'none';
  const optIn = OPT_IN_FAULT_NAMES.filter((f) => faults.has(f));
  if (FAULT_NAMES.every((f) => faults.has(f))) return ['all', ...optIn].join(',');
  return [...FAULT_NAMES.filter((f) => faults.has(f)), ...optIn].join(',');
}

export function defaultSimOptions(overrides: Partial<SimOptions> = {}): SimOptions {
  return {
    seed: 1,
    nodes: 5,
    ops: 2000,
    clients: 5,
    keys: 4,
    faults: new Set(FAULT_NAMES),
    unsafe: new Set(),
    trace: false,
    checkLinearizability: true,
    reads: 'mixed',
    disk: 'model',
    snapshots: true,
    ...overrides,
  };
}
