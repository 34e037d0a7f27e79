// The real parts behind LabDeps: the runtimes (chaos/runtime), the client library, the checker
// and the report writer.
import { checkHistoryParallel } from '../checker/index.js';
import { writeCounterexampleViews } from '../checker/index.js';
import { createClient } from '../client/index.js';
import { writeReport } from './report/index.js';
import type { LabDeps } from './lab-deps.js';
import { forkRandom } from './random.js';
import { LocalRuntime } from './runtime/local/local-runtime.js';

export function realDeps(): LabDeps {
  return {
    selectRuntime: async (choice, { seed, log }) => {
      const random = forkRandom(seed, 'packet-loss');
      if (choice === 'docker') throw new Error('the docker runtime is not wired in yet');
      return {
        runtime: new LocalRuntime({ random: () => random.next(), log }),
        reason: 'asked for with --runtime local',
      };
    },
    clients:
      (endpoints, { requestTimeoutMs, operationTimeoutMs }) =>
      () =>
        createClient({ endpoints, requestTimeoutMs, operationTimeoutMs }),
    status: async (endpoint, timeoutMs) => {
      const client = createClient({
        endpoints: [endpoint],
        requestTimeoutMs: timeoutMs,
        operationTimeoutMs: timeoutMs,
        connectTimeoutMs: timeoutMs,
      });
      try {
        const status = await client.status(endpoint);
        return { id: status.nodeId, role: status.role, term: status.term, leader: status.leaderId };
      } finally {
        client.close();
      }
    },
    check: (events, { timeLimitMs }) => checkHistoryParallel(events, { timeLimitMs }),
    writeCounterexampleViews: (events, result, dir) => writeCounterexampleViews(events, result, dir),
    writeReport: (runDir) => writeReport(runDir),
  };
}
