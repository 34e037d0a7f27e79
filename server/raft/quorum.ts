// Majority arithmetic, independent of roles and messages (etcd's quorum/ package).

/** Votes needed out of `voters`. */
export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * The largest value that a majority has reached: sort descending, take the quorum-th.
 * Sorts `values` in place (callers pass a reused scratch array, so no allocation per call).
 */
export function quorumValue(values: number[], count: number): number {
  for (let i = 1; i < count; i++) {
    const v = values[i] ?? 0;
    let j = i - 1;
    while (j >= 0 && (values[j] ?? 0) < v) {
      values[j + 1] = values[j] ?? 0;
      j--;
    }
    values[j + 1] = v;
  }
  return values[quorumSize(count) - 1] ?? 0;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Outcome of an election among `voters` given the grants and rejections seen so far. */
export function voteResult(granted: number, rejected: number, voters: number): VoteResult {
  const q = quorumSize(voters);
  if (granted >= q) return 'won';
  if (rejected > voters - q) return 'lost';
  return 'pending';
}
