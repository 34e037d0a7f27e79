// The small client surface the workload needs; `lab run` adapts the real client library
// (client/index.ts) to it, and the tests pass fakes.

export interface LabClient {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  cas(key: string, expected: string | null, value: string): Promise<void>;
  append(key: string, value: string): Promise<string>;
  close(): Promise<void> | void;
  /** The node that served (or last answered) this client's latest operation, when known. */
  servedBy?(): string | undefined;
}

/**
 * How the lab's clients pick the node they talk to (`--client-mode`):
 *  - pinned: each client talks only to its home node, as Jepsen's clients are bound to nodes; a
 *    node that is not leader answers NOT_LEADER (a definite fail), and a node that wrongly believes
 *    it still leads is asked again and again, which is what exposes stale reads and lost writes;
 *  - leader: each client asks its home node first, then follows NOT_LEADER hints to the leader;
 *  - mixed: half the workers pinned, half following the leader (one of each per node at `2n`).
 */
export type ClientMode = 'pinned' | 'leader' | 'mixed';
export const CLIENT_MODES: readonly ClientMode[] = ['pinned', 'leader', 'mixed'];

/**
 * One client per logical process: a retired process's client is closed and a new one made. A
 * client asks its `home` node first; a `pinned` one asks nothing else.
 */
export type ClientFactory = (process: number, home: number, pinned: boolean) => LabClient;

export interface ErrorOutcome {
  type: 'fail' | 'info';
  code: string;
}

/**
 * A definite error means the operation did not happen (`fail`); anything else may have happened
 * (`info`). Unknown throwables are treated as indeterminate: claiming a failure we cannot prove
 * would let the checker call a correct server wrong.
 */
export function classifyError(error: unknown): ErrorOutcome {
  if (typeof error === 'object' && error !== null && 'code' in error && 'definite' in error) {
    const { code, definite } = error as { code: unknown; definite: unknown };
    if (typeof code === 'string' && typeof definite === 'boolean') {
      return { type: definite ? 'fail' : 'info', code };
    }
  }
  return { type: 'info', code: 'INTERNAL' };
}
