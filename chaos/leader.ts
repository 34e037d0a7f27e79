// What "the cluster has a leader" means, once for the lab, the runtimes and `lab cluster`: a node
// says it leads term T and a majority of the cluster names it leader of term T (a node that only
// believes it leads, cut off from the rest, does not count). Plus finding a leader to aim a fault at.
import type { LabDeps, NodeStatus } from './lab-deps.js';
import { sleep } from './sleep.js';

/**
 * The leader a majority of a cluster of `clusterSize` nodes agrees on, or null. Every node that
 * answered reports its own view (id, role, term, the leader it follows).
 */
export function agreedLeader(statuses: readonly NodeStatus[], clusterSize: number): string | null {
  for (const candidate of statuses) {
    if (candidate.role !== 'leader') continue;
    const agree = statuses.filter((s) => s.leader === candidate.id && s.term === candidate.term).length;
    if (agree > clusterSize / 2) return candidate.id;
  }
  return null;
}

/**
 * A fault's target "the leader": the leader of the highest term any answering node knows of, or
 * null. Looser than agreedLeader on purpose: during a partition no majority may agree, and the
 * nemesis still aims at the node most recently known to lead.
 */
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
  return leaderOf(await statuses(deps, endpoints, timeoutMs));
}

async function statuses(
  deps: Pick<LabDeps, 'status'>,
  endpoints: ReadonlyMap<string, string>,
  timeoutMs: number,
): Promise<NodeStatus[]> {
  const answers = await Promise.allSettled(
    [...endpoints.values()].map((endpoint) => deps.status(endpoint, timeoutMs)),
  );
  return answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
}

/** Waits until a majority agrees on a leader (agreedLeader): the cluster can serve. Null at the deadline. */
export async function waitForLeader(
  deps: Pick<LabDeps, 'status'>,
  endpoints: ReadonlyMap<string, string>,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<string | null> {
  const started = performance.now();
  while (performance.now() - started < deadlineMs && signal?.aborted !== true) {
    const leader = agreedLeader(await statuses(deps, endpoints, 500), endpoints.size);
    if (leader !== null) return leader;
    await sleep(100, signal);
  }
  return null;
}
