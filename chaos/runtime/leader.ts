// "Is the cluster up" for the runtimes' tests, the startup benchmark and `lab cluster start`: every
// client port accepts and a majority agrees on a leader (chaos/leader.ts, the one definition).
import { createClient } from '../../client/index.js';
import type { NodeStatus } from '../lab-deps.js';
import { agreedLeader } from '../leader.js';
import { sleep } from '../sleep.js';
import type { NodeHandle } from './types.js';

export interface LeaderInfo {
  leader: string;
  term: number;
  elapsedMs: number;
}

/** Polls the nodes' status until a majority agrees on a leader; rejects after timeoutMs with what each node last said. */
export async function waitForLeader(handles: readonly NodeHandle[], timeoutMs = 30_000): Promise<LeaderInfo> {
  const started = Date.now();
  const client = createClient({ endpoints: handles.map((h) => h.clientEndpoint), requestTimeoutMs: 1000 });
  let last = 'no answer yet';
  try {
    while (Date.now() - started < timeoutMs) {
      const reports = await client.clusterStatus();
      const statuses: NodeStatus[] = reports.flatMap((r) =>
        r.status === undefined
          ? []
          : [{ id: r.status.nodeId, role: r.status.role, term: r.status.term, leader: r.status.leaderId }],
      );
      const leader = agreedLeader(statuses, handles.length);
      const term = statuses.find((s) => s.id === leader)?.term;
      if (leader !== null && term !== undefined) return { leader, term, elapsedMs: Date.now() - started };
      last = reports
        .map(
          (r) =>
            `${r.endpoint}: ${r.status ? `${r.status.role} term ${r.status.term} leader ${r.status.leaderId || '-'}` : (r.error?.message ?? '?')}`,
        )
        .join('; ');
      await sleep(100);
    }
  } finally {
    client.close();
  }
  throw new Error(`no leader elected within ${timeoutMs} ms (${last})`);
}
