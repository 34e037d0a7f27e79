// Finding the leader and waiting for recovery, through the nodes' status calls.
import type { LabDeps, NodeStatus } from './lab-deps.js';
import { sleep } from './sleep.js';

/** The leader of the highest term any answering node knows of, or null. */
export function leaderOf(statuses: readonly NodeStatus[]): string | null {
  let best: NodeStatus | undefined;
  for (const status of statuses) {
    if (status.leader === '') continue;
    if (best === undefined || status.term > best.term) best = status;
  }
  return best?.leader ?? null;
}

export async function findLeader(
  deps: Pick<LabDeps, 'status'>,
  endpoints: ReadonlyMap<string, string>,
  timeoutMs: number,
): Promise<string | null> {
  const answers = await Promise.allSettled(
    [...endpoints.values()].map((endpoint) => deps.status(endpoint, timeoutMs)),
  );
  const statuses = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
  return leaderOf(statuses);
}

/**
 * Waits until a leader answers its own status call as leader: the cluster can serve again.
 * Returns the leader and how long it took, or null at the deadline.
 */
export async function waitForLeader(
  deps: Pick<LabDeps, 'status'>,
  endpoints: ReadonlyMap<string, string>,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<string | null> {
  const started = performance.now();
  while (performance.now() - started < deadlineMs && signal?.aborted !== true) {
    const leader = await findLeader(deps, endpoints, 500);
    const endpoint = leader === null ? undefined : endpoints.get(leader);
    if (leader !== null && endpoint !== undefined) {
      const own = await deps.status(endpoint, 500).catch(() => null);
      if (own?.role === 'leader') return leader;
    }
    await sleep(100, signal);
  }
  return null;
}
