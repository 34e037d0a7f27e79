// Client options with their explicit defaults (no hidden library defaults at call sites).

export interface ClientOptions {
  /** Client addresses (host:port) of some or all nodes; the leader is found from them. */
  readonly endpoints: readonly string[];
  /** How long one attempt waits for its response before it is abandoned as TIMEOUT (indeterminate). */
  readonly requestTimeoutMs?: number;
  /** Total time an operation may take across retries before the client gives up. */
  readonly operationTimeoutMs?: number;
  /** How long to wait for a TCP connection to an endpoint. */
  readonly connectTimeoutMs?: number;
  /**
   * An operation gives up (UNAVAILABLE, definite, naming each endpoint and why) once it has tried
   * this long without any endpoint accepting a connection, before operationTimeoutMs if shorter.
   */
  readonly unreachableTimeoutMs?: number;
  /** First delay between retries; doubles each retry up to retryDelayMsMax, with jitter. */
  readonly retryDelayMsMin?: number;
  readonly retryDelayMsMax?: number;
  /** Operations this client may have in flight; past it, an operation fails with OVERLOADED (definite). */
  readonly requestsInFlightMax?: number;
  /** Largest frame sent or accepted: a larger request fails TOO_LARGE (definite) without being sent. */
  readonly frameSizeBytesMax?: number;
  /**
   * Talk only to the first endpoint: never follow a NOT_LEADER hint nor move to another endpoint.
   * A NOT_LEADER answer then ends the operation (definite, unless an earlier attempt may have taken
   * effect). The lab binds clients to nodes this way, as Jepsen does: a client of a node that wrongly
   * believes it leads keeps asking that node, which is what exposes stale reads and lost writes.
   */
  readonly pinned?: boolean;
  /** Session id; default: a random 53-bit id from node:crypto. */
  readonly clientId?: number;
  /** Fault-injection hooks for tests and the lab (never set in production). */
  readonly testHooks?: ClientTestHooks;
}

export interface ClientTestHooks {
  /** Return true to throw away the response of this attempt, as if the network lost it. */
  dropResponse?(op: string, attempt: number): boolean;
}

export type ResolvedClientOptions = Required<Omit<ClientOptions, 'clientId' | 'testHooks' | 'pinned'>> &
  Pick<ClientOptions, 'clientId' | 'testHooks' | 'pinned'>;

export const CLIENT_DEFAULTS = {
  requestTimeoutMs: 2000,
  operationTimeoutMs: 10_000,
  connectTimeoutMs: 1000,
  unreachableTimeoutMs: 10_000,
  retryDelayMsMin: 20,
  retryDelayMsMax: 500,
  requestsInFlightMax: 4096,
  frameSizeBytesMax: 4 * 1024 * 1024,
} as const;

export function resolveOptions(options: ClientOptions): ResolvedClientOptions {
  if (options.endpoints.length === 0) throw new Error('createClient needs at least one endpoint');
  const resolved = { ...CLIENT_DEFAULTS, ...stripUndefined(options) };
  for (const name of Object.keys(CLIENT_DEFAULTS) as (keyof typeof CLIENT_DEFAULTS)[]) {
    const value = resolved[name];
    if (!(typeof value === 'number' && value > 0))
      throw new Error(`client option ${name} must be positive (got ${value})`);
  }
  return resolved;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
