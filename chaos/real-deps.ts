// The real parts behind LabDeps: the runtimes (chaos/runtime), the client library, the checker
// and the report writer.
import { checkHistoryAsync } from '../checker/index.js';
import { writeCounterexampleViews } from '../checker/index.js';
import { createClient } from '../client/index.js';
import type { ClientTestHooks } from '../client/options.js';
import { writeReport } from './report/index.js';
import type { LabDeps } from './lab-deps.js';
import { forkRandom } from './random.js';
import { selectRuntime } from './runtime/select.js';

export function realDeps(): LabDeps {
  return {
    selectRuntime: async (choice, { seed, log }) => {
      const random = forkRandom(seed, 'packet-loss');
      return selectRuntime(choice, { random: () => random.next(), log });
    },
    clients: (nodes, { requestTimeoutMs, operationTimeoutMs, clientResponseLoss, seed, aliases }) => {
      const testHooks = responseLoss(clientResponseLoss, seed);
      const endpoints = [...nodes.values()];
      const nodeOf = new Map([
        ...(aliases ?? []),
        ...[...nodes].map(([node, endpoint]) => [endpoint, node] as const),
      ]);
      return (_process, home, pinned) => {
        const list = rotate(endpoints, home);
        const client = createClient({
          endpoints: pinned ? list.slice(0, 1) : list,
          requestTimeoutMs,
          operationTimeoutMs,
          testHooks,
          pinned,
        });
        const servedBy = () => {
          const endpoint = client.lastEndpoint;
          return endpoint === undefined ? undefined : (nodeOf.get(endpoint) ?? endpoint);
        };
        return Object.assign(client, { servedBy });
      };
    },
    status: async (endpoint, timeoutMs) => {
      const client = createClient({
        endpoints: [endpoint],
        requestTimeoutMs: timeoutMs,
        operationTimeoutMs: timeoutMs,
        connectTimeoutMs: timeoutMs,
      });
      try {
        const status = await client.status(endpoint);
        return {
          id: status.nodeId,
          role: status.role,
          term: status.term,
          leader: status.leaderId,
          lastIndex: status.lastIndex,
          snapshotIndex: status.snapshotIndex,
        };
      } finally {
        client.close();
      }
    },
    check: (events, { timeLimitMs }) => checkHistoryAsync(events, { timeLimitMs }),
    writeCounterexampleViews: (events, result, dir) => writeCounterexampleViews(events, result, dir),
    writeReport: (runDir) => writeReport(runDir),
  };
}

/**
 * Throws away that fraction of responses, as a lossy network between client and server would: the
 * attempt times out and is retried, so a write that took effect arrives again (what exactly-once
 * sessions must absorb). One stream for all clients, forked from the run's seed.
 */
function responseLoss(fraction: number, seed: number): ClientTestHooks | undefined {
  if (fraction <= 0) return undefined;
  const random = forkRandom(seed, 'client-response-loss');
  return { dropResponse: () => random.next() < fraction };
}

/** The list starting at index `first` (wrapping), so a client asks its home node first. */
function rotate<T>(items: readonly T[], first: number): T[] {
  const start = items.length === 0 ? 0 : first % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
