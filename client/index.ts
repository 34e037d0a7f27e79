// The raftlab client: finds the leader (tries endpoints, follows NOT_LEADER hints), retries with
// backoff until the operation's deadline, and runs every write in a session so a retried write
// applies once. Every error is a RaftlabError that says whether the operation definitely failed
// (`definite: true`, the lab records `fail`) or may have happened (`false`, recorded `info`).
import type { ClientOp, ClientResult, SnapshotResult, StatusResult } from '../proto/codec.js';
import { RaftlabError, type ErrorInfo } from '../shared/errors.js';
import { Connection, EndpointUnreachable } from './connection.js';
import { resolveOptions, type ClientOptions, type ResolvedClientOptions } from './options.js';
import { Session } from './session.js';

export { RaftlabError } from '../shared/errors.js';
export type { ClientOptions, ClientTestHooks } from './options.js';
export { CLIENT_DEFAULTS } from './options.js';
export type { SnapshotResult, StatusResult } from '../proto/codec.js';

/** Codes that are the operation's real answer: retrying cannot change them. */
const FINAL_CODES: ReadonlySet<RaftlabError['code']> = new Set([
  'KEY_NOT_FOUND',
  'CAS_MISMATCH',
  'TOO_LARGE',
  'BAD_REQUEST',
  'SESSION_EXPIRED',
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface NodeStatusReport {
  readonly endpoint: string;
  readonly status?: StatusResult;
  readonly error?: RaftlabError;
}

export class RaftlabClient {
  readonly options: ResolvedClientOptions;
  readonly session: Session;
  private readonly endpoints: string[];
  private readonly connections = new Map<string, Connection>();
  private leader: string | undefined;
  private lastAsked: string | undefined;
  private cursor = 0;
  private inFlight = 0;
  private closed = false;
  private sessionOpened: Promise<void> | undefined;

  constructor(options: ClientOptions) {
    this.options = resolveOptions(options);
    this.endpoints = [...options.endpoints];
    this.session = new Session(options.clientId);
  }

  /** The endpoint this client currently believes is the leader, if any. */
  get leaderEndpoint(): string | undefined {
    return this.leader;
  }

  async get(key: string): Promise<string | null> {
    const r = await this.getBytes(encoder.encode(key));
    return r === null ? null : decoder.decode(r);
  }

  async getBytes(key: Uint8Array): Promise<Uint8Array | null> {
    const r = await this.execute({ type: 'get', key });
    return r.type === 'get' && r.found ? r.value : null;
  }

  async put(key: string | Uint8Array, value: string | Uint8Array): Promise<void> {
    await this.execute({ type: 'put', key: bytes(key), value: bytes(value) });
  }

  /** Deletes a key; resolves whether it existed. */
  async delete(key: string | Uint8Array): Promise<boolean> {
    const r = await this.execute({ type: 'delete', key: bytes(key) });
    return r.type === 'delete' && r.existed;
  }

  /** Sets `value` if the current value is `expected` (null: if the key is absent); else CAS_MISMATCH. */
  async cas(
    key: string | Uint8Array,
    expected: string | Uint8Array | null,
    value: string | Uint8Array,
  ): Promise<void> {
    await this.execute({
      type: 'cas',
      key: bytes(key),
      expected: expected === null ? null : bytes(expected),
      value: bytes(value),
    });
  }

  /** Appends to the value (an absent key counts as empty); resolves with the value after the append. */
  async append(key: string, value: string): Promise<string> {
    const r = await this.execute({ type: 'append', key: bytes(key), value: bytes(value) });
    return r.type === 'append' ? decoder.decode(r.value) : '';
  }

  /** Status of one node (default: the leader if known, else the first endpoint); no retries. */
  async status(endpoint?: string): Promise<StatusResult> {
    const target = endpoint ?? this.leader ?? this.endpoints[0]!;
    const response = await this.connection(target).request(
      { clientId: 0, sequence: 0, ackedSequence: 0, op: { type: 'status' } },
      this.options.requestTimeoutMs,
    );
    if (response.error) throw toError(response.error);
    if (response.result?.type !== 'status')
      throw new RaftlabError('INTERNAL', `${target} answered status with no status`);
    return response.result.status;
  }

  /**
   * Admin: asks the node at `endpoint` to snapshot its state machine now; no retries. Answered at
   * once; the snapshot is durable when that node's status.snapshotIndex reaches appliedIndex.
   */
  async snapshot(endpoint: string): Promise<SnapshotResult> {
    const response = await this.connection(endpoint).request(
      { clientId: 0, sequence: 0, ackedSequence: 0, op: { type: 'snapshot' } },
      this.options.requestTimeoutMs,
    );
    if (response.error) throw toError(response.error);
    if (response.result?.type !== 'snapshot')
      throw new RaftlabError('INTERNAL', `${endpoint} answered snapshot with no snapshot result`);
    return response.result.snapshot;
  }

  /** Status of every endpoint, errors included (for `lab kv status`). */
  async clusterStatus(): Promise<NodeStatusReport[]> {
    return Promise.all(
      this.endpoints.map(async (endpoint) => {
        try {
          return { endpoint, status: await this.status(endpoint) };
        } catch (error) {
          return { endpoint, error: asRaftlabError(error) };
        }
      }),
    );
  }

  /**
   * The endpoint the last attempt went to (the one that answered, when one did): which node served
   * the last operation, or gave its last error. The lab records it with each operation.
   */
  get lastEndpoint(): string | undefined {
    return this.lastAsked;
  }

  /** Runs one operation with leader discovery, retries and (for writes) a session sequence. */
  async execute(op: ClientOp): Promise<ClientResult> {
    if (this.closed) throw new RaftlabError('UNAVAILABLE', 'client is closed');
    if (this.inFlight >= this.options.requestsInFlightMax)
      throw new RaftlabError(
        'OVERLOADED',
        `more than ${this.options.requestsInFlightMax} operations in flight`,
      );
    const isWrite = op.type !== 'get' && op.type !== 'status' && op.type !== 'snapshot';
    const sequence = isWrite ? this.session.begin() : 0;
    this.inFlight++;
    let opened: (() => void) | undefined;
    if (sequence === 1) this.sessionOpened = new Promise<void>((resolve) => (opened = resolve));
    try {
      // The server creates a session only from a write with nothing unanswered before it; until
      // the first write has finished, a later one could arrive first and be refused as expired.
      if (sequence > 1) await this.sessionOpened;
      return await this.attempt(op, sequence);
    } finally {
      this.inFlight--;
      if (isWrite) this.session.finish(sequence);
      opened?.();
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  private async attempt(op: ClientOp, sequence: number): Promise<ClientResult> {
    const o = this.options;
    const startMs = performance.now();
    const deadline = startMs + o.operationTimeoutMs;
    const unreachable = new Unreachable();
    let maybeHappened: RaftlabError | undefined;
    let last: RaftlabError = new RaftlabError('UNAVAILABLE', 'no attempt was made');
    for (let attempt = 1; ; attempt++) {
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0 || this.closed) break;
      const endpoint = this.leader ?? this.endpoints[this.cursor % this.endpoints.length]!;
      this.lastAsked = endpoint;
      try {
        const drop = o.testHooks?.dropResponse?.(op.type, attempt) ?? false;
        const fields = sequence
          ? { clientId: this.session.clientId, sequence, ackedSequence: this.session.ackedSequence, op }
          : { clientId: 0, sequence: 0, ackedSequence: 0, op };
        // While nothing has connected, connecting may not outlast the unreachable timeout.
        const connectMs = unreachable.all
          ? startMs + o.unreachableTimeoutMs - performance.now()
          : remainingMs;
        const response = await this.connection(endpoint).request(
          fields,
          Math.min(o.requestTimeoutMs, remainingMs),
          drop,
          connectMs,
        );
        if (!response.error && response.result) {
          this.leader = endpoint;
          return response.result;
        }
        last = toError(response.error ?? { code: 'INTERNAL', message: 'empty response', definite: false });
      } catch (error) {
        last = asRaftlabError(error);
      }
      if (FINAL_CODES.has(last.code)) throw last;
      unreachable.note(last);
      if (unreachable.all && performance.now() - startMs >= o.unreachableTimeoutMs) break;
      // The first attempt that may have taken effect names the outcome: later attempts are often cut
      // short by the operation's deadline, and a TIMEOUT from that would hide what really happened.
      if (!last.definite) maybeHappened ??= last;
      // A pinned client's node does not lead: that is the answer (it follows no redirect).
      if (o.pinned === true && last.code === 'NOT_LEADER') break;
      const followedHint = this.redirect(last, endpoint);
      const wakeBy = unreachable.all ? Math.min(deadline, startMs + o.unreachableTimeoutMs) : deadline;
      await sleep(followedHint && attempt === 1 ? 0 : this.backoffMs(attempt), wakeBy);
    }
    if (maybeHappened)
      throw new RaftlabError(
        maybeHappened.code,
        `gave up after ${o.operationTimeoutMs} ms; an attempt may have taken effect (${maybeHappened.message}); last error: ${last.message}`,
        { definite: false },
      );
    throw unreachable.all ? unreachable.error(performance.now() - startMs) : last;
  }

  /** Chooses where the next attempt goes; true when it follows a leader hint. */
  private redirect(error: RaftlabError, endpoint: string): boolean {
    if (this.options.pinned === true) return false;
    if (error.code === 'NOT_LEADER' && error.leaderAddress && error.leaderAddress !== endpoint) {
      if (!this.endpoints.includes(error.leaderAddress)) this.endpoints.push(error.leaderAddress);
      this.leader = error.leaderAddress;
      return true;
    }
    if (this.leader === endpoint || this.leader === undefined) {
      this.leader = undefined;
      this.cursor = (this.endpoints.indexOf(endpoint) + 1) % this.endpoints.length;
    }
    return false;
  }

  private backoffMs(attempt: number): number {
    const o = this.options;
    const ceiling = Math.min(o.retryDelayMsMax, o.retryDelayMsMin * 2 ** Math.min(attempt - 1, 20));
    return ceiling * (0.5 + Math.random() * 0.5);
  }

  private connection(endpoint: string): Connection {
    let c = this.connections.get(endpoint);
    if (!c) {
      c = new Connection(endpoint, this.options.connectTimeoutMs, this.options.frameSizeBytesMax);
      this.connections.set(endpoint, c);
    }
    return c;
  }
}

/** Tracks whether every attempt of an operation failed to connect, and why, per endpoint. */
class Unreachable {
  all = true;
  private readonly reasons = new Map<string, string>();

  note(error: RaftlabError): void {
    if (error instanceof EndpointUnreachable) this.reasons.set(error.endpoint, error.reason);
    else this.all = false;
  }

  /** UNAVAILABLE (definite: nothing was ever sent) naming every endpoint tried and why. */
  error(elapsedMs: number): RaftlabError {
    const list = [...this.reasons].map(([endpoint, reason]) => `${endpoint} (${reason})`).join(', ');
    return new RaftlabError(
      'UNAVAILABLE',
      `no endpoint accepted a connection in ${Math.round(elapsedMs)} ms: ${list}`,
      { definite: true },
    );
  }
}

export function createClient(options: ClientOptions): RaftlabClient {
  return new RaftlabClient(options);
}

function bytes(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? encoder.encode(v) : v;
}

function toError(info: ErrorInfo): RaftlabError {
  return new RaftlabError(info.code, info.message, info);
}

function asRaftlabError(error: unknown): RaftlabError {
  if (error instanceof RaftlabError) return error;
  return new RaftlabError('INTERNAL', error instanceof Error ? error.message : String(error));
}

function sleep(ms: number, deadline: number): Promise<void> {
  const wait = Math.max(0, Math.min(ms, deadline - performance.now()));
  return wait === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, wait));
}
