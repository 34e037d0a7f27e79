// Deliberately broken variants, switched on only for "testing the testers": the simulator and the
// lab must catch each of them. The default build has none switched on.

export type UnsafeVariant =
  | 'commit-previous-term'
  | 'vote-twice'
  | 'no-log-check-on-vote'
  | 'stale-leader-read'
  | 'no-session-dedup'
  | 'send-before-persist'
  | 'forget-vote-on-restart'
  | 'hard-state-no-fsync'
  | 'local-session-expiry'
  | 'no-pre-vote'
  | 'no-lost-state-guard'
  | 'reprobe-at-match'
  | 'ack-before-fsync'
  | 'lease-read-no-clock-bound'
  | 'wal-skip-dir-sync-on-roll'
  | 'install-older-snapshot'
  | 'snapshot-without-sessions'
  | 'compact-unsnapshotted'
  | 'snapshot-rename-before-fsync';

export const UNSAFE_VARIANTS: readonly UnsafeVariant[] = [
  'commit-previous-term',
  'vote-twice',
  'no-log-check-on-vote',
  'stale-leader-read',
  'no-session-dedup',
  'send-before-persist',
  'forget-vote-on-restart',
  'hard-state-no-fsync',
  'local-session-expiry',
  'no-pre-vote',
  'no-lost-state-guard',
  'reprobe-at-match',
  'ack-before-fsync',
  'lease-read-no-clock-bound',
  'wal-skip-dir-sync-on-roll',
  'install-older-snapshot',
  'snapshot-without-sessions',
  'compact-unsnapshotted',
  'snapshot-rename-before-fsync',
];

/**
 * Variants only the simulator implements (in its simulated driver and disk): the real server runs
 * its correct code with these names, so `lab run` must not offer them as a test of the lab.
 */
export const SIMULATOR_ONLY_UNSAFE: ReadonlySet<UnsafeVariant> = new Set([
  'forget-vote-on-restart',
  'hard-state-no-fsync',
  'no-pre-vote',
  'wal-skip-dir-sync-on-roll',
  'snapshot-rename-before-fsync',
]);

/**
 * Variants the simulator's model disk does not model (docs/simulator.md): ack-before-fsync breaks
 * the real WAL's fsync, so the lab's power nemesis and the simulator's WAL disk (--disk wal)
 * expose it. On the model disk the simulator accepts it and runs the correct code.
 */
export const LAB_ONLY_UNSAFE: ReadonlySet<UnsafeVariant> = new Set(['ack-before-fsync']);

/** The variants a real server (lab server, lab run --server-unsafe) implements. */
export const SERVER_UNSAFE_VARIANTS: readonly UnsafeVariant[] = UNSAFE_VARIANTS.filter(
  (v) => !SIMULATOR_ONLY_UNSAFE.has(v),
);

/** One line per variant, for --help texts and docs. */
export const UNSAFE_DESCRIPTIONS: Readonly<Record<UnsafeVariant, string>> = {
  'commit-previous-term':
    'a leader commits entries of earlier terms by counting replicas (and appends no no-op), the bug of Raft paper Figure 8',
  'vote-twice': 'a node grants its vote to a second candidate in the same term',
  'no-log-check-on-vote':
    'a node grants votes without checking that the candidate log is at least as up to date',
  'stale-leader-read':
    'a node that believes it is leader serves reads at once from its commit index, without a ReadIndex round, and a leader cut off from a majority does not step down (no check-quorum)',
  'no-session-dedup':
    'the key-value state machine applies a retried write again instead of returning the original result',
  'send-before-persist':
    "the node shell sends a Ready's messages (votes, append acknowledgements) before its entries and hard state are durable, instead of after the fsync",
  'forget-vote-on-restart':
    'the stored vote is lost on restart (the driver persists the term but not the vote), so a restarted node may vote again in the same term',
  'hard-state-no-fsync':
    'the driver fsyncs only Readies that carry entries, so a vote, term or commit change it was told to sync is lost in a crash',
  'local-session-expiry':
    'client sessions expire by a count of commands this process applied rather than by log index, so a restarted replica expires different sessions than the others',
  'no-pre-vote':
    'nodes campaign without a pre-vote round (a cut-off node raises its term on every election timeout and disrupts the leader when it returns)',
  'no-lost-state-guard':
    'a node that lost acknowledged log entries votes and campaigns at once instead of waiting until it has caught up (and lab server starts on a data directory whose log is gone)',
  'reprobe-at-match':
    'the leader answers every rejection with a new probe, clamped at the follower recorded match, and ignores log-lost rejections: a follower that lost acknowledged entries is never brought back, and the two trade rejections without pause (issue 10)',
  'ack-before-fsync':
    'the WAL treats a write as durable once written: it never fsyncs, so votes, acknowledgements and answers rest on the page cache (lost on a power cut; the lab power nemesis and lab sim --disk wal expose it)',
  'wal-skip-dir-sync-on-roll':
    'the WAL does not fsync the directory after creating a new segment file: its records are fdatasynced, but a power cut can lose the file name and with it the whole segment (lab sim --disk wal only)',
  'lease-read-no-clock-bound':
    'the leader serves reads from its lease (Raft thesis 6.4.1) with no bound on clock drift: a leader whose clock runs slow keeps its lease after the others elected a new leader (the lab clock nemesis exposes it)',
  'install-older-snapshot':
    'a follower installs any complete snapshot it receives, even one older than its commit index (a late or duplicated transfer rolls its state machine back)',
  'snapshot-without-sessions':
    'the key-value snapshot leaves out the client-session table, so a node restored from it applies a retried write a second time',
  'compact-unsnapshotted':
    'the node shell compacts its log and releases the disk entries as soon as it takes a snapshot, before the snapshot is durable (a crash in between loses committed entries)',
  'snapshot-rename-before-fsync':
    "the snapshot store renames a snapshot's temp file to its name without fsyncing its bytes first: a power cut can leave the name over lost or torn bytes after the WAL was released (lab sim --disk wal only)",
};

function isUnsafeVariant(name: string): name is UnsafeVariant {
  return (UNSAFE_VARIANTS as readonly string[]).includes(name);
}

/** Parses a comma-separated list ("" = none); throws an Error naming the valid variants on an unknown name. */
export function parseUnsafe(
  list: string,
  valid: readonly UnsafeVariant[] = UNSAFE_VARIANTS,
): ReadonlySet<UnsafeVariant> {
  const result = new Set<UnsafeVariant>();
  for (const raw of list.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!isUnsafeVariant(name) || !valid.includes(name)) {
      const simOnly =
        isUnsafeVariant(name) && SIMULATOR_ONLY_UNSAFE.has(name) ? ' (it exists in lab sim only)' : '';
      throw new Error(`unknown unsafe variant "${name}"${simOnly}; valid variants: ${valid.join(', ')}`);
    }
    result.add(name);
  }
  return result;
}

/** parseUnsafe for a real server: a simulator-only variant would run the correct code under its name. */
export function parseServerUnsafe(list: string): ReadonlySet<UnsafeVariant> {
  return parseUnsafe(list, SERVER_UNSAFE_VARIANTS);
}
