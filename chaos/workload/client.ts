// The small client surface the workload needs; `lab run` adapts the real client library
// (client/index.ts) to it, and the tests pass fakes.

export interface LabClient {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  cas(key: string, expected: string | null, value: string): Promise<void>;
  append(key: string, value: string): Promise<string>;
  close(): Promise<void> | void;
}

/**
 * One client per logical process: a retired process's client is closed and a new one made. A
 * client asks its `home` node first (Jepsen binds clients to nodes), then follows leader hints.
 */
export type ClientFactory = (process: number, home: number) => LabClient;

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
