// Deliberately broken variants, switched on only for "testing the testers": the simulator and the
// lab must catch each of them. The default build has none switched on.

export type UnsafeVariant =
  | 'commit-previous-term'
  | 'vote-twice'
  | 'no-log-check-on-vote'
  | 'stale-leader-read'
  | 'no-session-dedup'
  | 'send-before-persist'
  | 'ack-before-fsync'
  | 'lease-read-no-clock-bound';

export const UNSAFE_VARIANTS: readonly UnsafeVariant[] = [
  'commit-previous-term',
  'vote-twice',
  'no-log-check-on-vote',
  'stale-leader-read',
  'no-session-dedup',
  'send-before-persist',
  'ack-before-fsync',
  'lease-read-no-clock-bound',
];

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
  'ack-before-fsync':
    'the WAL treats a write as durable once written: it never fsyncs, so votes, acknowledgements and answers rest on the page cache (lost on a power cut; only the lab power nemesis exposes it)',
  'lease-read-no-clock-bound':
    'the leader serves reads from its lease (Raft thesis 6.4.1) with no bound on clock drift: a leader whose clock runs slow keeps its lease after the others elected a new leader (the lab clock nemesis exposes it)',
};

function isUnsafeVariant(name: string): name is UnsafeVariant {
  return (UNSAFE_VARIANTS as readonly string[]).includes(name);
}

/** Parses a comma-separated list ("" = none); throws an Error naming the valid variants on an unknown name. */
export function parseUnsafe(list: string): ReadonlySet<UnsafeVariant> {
  const result = new Set<UnsafeVariant>();
  for (const raw of list.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!isUnsafeVariant(name)) {
      throw new Error(`unknown unsafe variant "${name}"; valid variants: ${UNSAFE_VARIANTS.join(', ')}`);
    }
    result.add(name);
  }
  return result;
}
