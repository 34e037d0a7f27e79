// What `lab run` needs from the other parts (runtime, client, checker, reports), as one record, so
// the orchestration can run against fakes in tests. real-deps.ts wires the real ones.
import type { CheckResult } from '../checker/check.js';
import type { HistoryEvent } from '../checker/history-types.js';
import type { RuntimeChoice } from './options.js';
import type { Runtime } from './runtime/types.js';
import type { ClientFactory } from './workload/client.js';

export interface NodeStatus {
  id: string;
  role: string;
  term: number;
  leader: string;
  /** The node's last log index and newest durable snapshot (absent from stand-ins that do not say). */
  lastIndex?: number;
  snapshotIndex?: number;
}

export interface LabDeps {
  /** The runtime to use and why (e.g. "docker: engine reachable at /var/run/docker.sock"). */
  selectRuntime(
    choice: RuntimeChoice | undefined,
    context: { seed: number; log: (message: string) => void },
  ): Promise<{ runtime: Runtime; reason: string }>;
  /** Clients that talk to the cluster through the client library; endpoints: node -> client address. */
  clients(
    endpoints: ReadonlyMap<string, string>,
    settings: {
      requestTimeoutMs: number;
      operationTimeoutMs: number;
      /** Fraction of responses to discard as lost (--client-response-loss). */
      clientResponseLoss: number;
      /** The run's seed: loss draws come from a stream forked from it. */
      seed: number;
      /** Other addresses of the nodes (what their redirects name) -> node. */
      aliases?: ReadonlyMap<string, string>;
    },
  ): ClientFactory;
  /** One node's view of the cluster (its status call). */
  status(endpoint: string, timeoutMs: number): Promise<NodeStatus>;
  check(events: readonly HistoryEvent[], options: { timeLimitMs: number }): Promise<CheckResult>;
  writeCounterexampleViews(events: readonly HistoryEvent[], result: CheckResult, dir: string): string[];
  writeReport?(runDir: string): Promise<string>;
}
