// Deliberately broken variants, switched on only for "testing the testers": the simulator and the
// lab must catch each of them. The default build has none switched on.

export type UnsafeVariant =
  | 'commit-previous-term'
  | 'vote-twice'
  | 'no-log-check-on-vote'
  | 'stale-leader-read'
  | 'no-session-dedup'
  | 'no-lost-state-guard'
  | 'reprobe-at-match';

export const UNSAFE_VARIANTS: readonly UnsafeVariant[] = [
  'commit-previous-term',
  'vote-twice',
  'no-log-check-on-vote',
  'stale-leader-read',
  'no-session-dedup',
  'no-lost-state-guard',
  'reprobe-at-match',
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
  'no-lost-state-guard':
    'a node that lost acknowledged log entries votes and campaigns at once instead of waiting until it has caught up (and lab server starts on a data directory whose log is gone)',
  'reprobe-at-match':
    'the leader answers every rejection with a new probe, clamped at the follower recorded match, and ignores log-lost rejections: a follower that lost acknowledged entries is never brought back, and the two trade rejections without pause (issue 10)',
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
