// "Is the cluster up": every client port accepts and one node is leader that the others agree on.
// The lab (and the runtime tests and benchmark) call this after start().
import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from '../../client/index.js';
import type { NodeHandle } from './types.js';

export interface LeaderInfo {
  leader: string;
  term: number;
  elapsedMs: number;
}

/**
 * Polls the nodes' status until a node reports itself leader and a majority of the nodes name it
 * in the same term; rejects after timeoutMs with what each node last said.
 */
export async function waitForLeader(handles: readonly NodeHandle[], timeoutMs = 30_000): Promise<LeaderInfo> {
  const started = Date.now();
  const client = createClient({ endpoints: handles.map((h) => h.clientEndpoint), requestTimeoutMs: 1000 });
  let last = 'no answer yet';
  try {
    while (Date.now() - started < timeoutMs) {
      const reports = await client.clusterStatus();
      const leaders = reports.filter((r) => r.status?.role === 'leader').map((r) => r.status);
      for (const leader of leaders) {
        if (leader === undefined) continue;
        const agree = reports.filter(
          (r) => r.status?.leaderId === leader.nodeId && r.status.term === leader.term,
        );
        if (agree.length > handles.length / 2)
          return { leader: leader.nodeId, term: leader.term, elapsedMs: Date.now() - started };
      }
      last = reports
        .map(
          (r) =>
            `${r.endpoint}: ${r.status ? `${r.status.role} term ${r.status.term} leader ${r.status.leaderId || '-'}` : (r.error?.message ?? '?')}`,
        )
        .join('; ');
      await delay(100);
    }
  } finally {
    client.close();
  }
  throw new Error(`no leader elected within ${timeoutMs} ms (${last})`);
}
