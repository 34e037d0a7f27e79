// One TCP connection to one endpoint, with many requests in flight matched by request id
// (pipelining). A request that never reached the socket fails definitely (UNAVAILABLE, or
// TOO_LARGE when it is over frameSizeBytesMax, checked before anything is sent); one that was sent
// and then lost its connection or its deadline may have happened (CONNECTION_LOST, TIMEOUT). When
// the server closes the connection with a connection-error, it says how many requests it had read:
// the ones after those were never read, so they fail definitely (the first with the server's error).
import { connect, type Socket } from 'node:net';
import { FrameDecoder, FrameError } from '../proto/framing.js';
import {
  CodecError,
  decodeEnvelope,
  encodeEnvelopeFrame,
  type ClientOp,
  type ClientResponse,
} from '../proto/codec.js';
import { RaftlabError, type ErrorInfo } from '../shared/errors.js';

interface Waiter {
  resolve(response: ClientResponse): void;
  reject(error: RaftlabError): void;
  timer: NodeJS.Timeout;
  drop: boolean;
  socket: Socket;
  /** 1 for the first request written to `socket`, 2 for the next... (the server reads in this order). */
  ordinal: number;
}

export interface RequestFields {
  readonly clientId: number;
  readonly sequence: number;
  readonly ackedSequence: number;
  readonly op: ClientOp;
}

/** No TCP connection could be made to the endpoint (refused, unreachable, timed out): definite. */
export class EndpointUnreachable extends RaftlabError {
  constructor(
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super('UNAVAILABLE', `cannot connect to ${endpoint}: ${reason}`, { definite: true });
  }
}

export class Connection {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private readonly written = new WeakMap<Socket, number>(); // requests written to each socket
  private nextRequestId = 1;
  private closedByUser = false;
  private corked = false;

  constructor(
    readonly endpoint: string,
    private readonly connectTimeoutMs: number,
    private readonly frameSizeBytesMax: number,
  ) {}

  get inFlight(): number {
    return this.waiters.size;
  }

  /**
   * Sends one request and resolves with its response (which may carry an error). `timeoutMs`
   * bounds the whole attempt, connecting included; `connectTimeoutMs` (default the connection's)
   * bounds connecting.
   */
  async request(
    fields: RequestFields,
    timeoutMs: number,
    dropResponse = false,
    connectTimeoutMs = this.connectTimeoutMs,
  ): Promise<ClientResponse> {
    const startMs = performance.now();
    const requestId = this.nextRequestId++;
    const frame = this.encode(requestId, fields);
    const socket = await this.open(Math.max(1, Math.min(this.connectTimeoutMs, connectTimeoutMs, timeoutMs)));
    const remainingMs = Math.max(1, timeoutMs - (performance.now() - startMs));
    return new Promise<ClientResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        reject(new RaftlabError('TIMEOUT', `no response from ${this.endpoint} within ${timeoutMs} ms`));
      }, remainingMs);
      const ordinal = (this.written.get(socket) ?? 0) + 1;
      this.written.set(socket, ordinal);
      this.waiters.set(requestId, { resolve, reject, timer, drop: dropResponse, socket, ordinal });
      this.write(socket, frame);
    });
  }

  /** The request's frame; over frameSizeBytesMax it is refused here, before touching the network. */
  private encode(requestId: number, fields: RequestFields): Uint8Array {
    try {
      return encodeEnvelopeFrame(
        { kind: 'client-request', request: { requestId, ...fields } },
        this.frameSizeBytesMax,
      );
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new RaftlabError(
        'TOO_LARGE',
        `request not sent: ${error.message} (the client's limit; the server's may be lower)`,
        { definite: true },
      );
    }
  }

  /** Requests issued in the same tick leave in one writev (cork until the next tick). */
  private write(socket: Socket, frame: Uint8Array): void {
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(frame);
  }

  close(): void {
    this.closedByUser = true;
    this.socket?.destroy();
    this.failAll(undefined, 'connection closed by the client');
  }

  private open(connectTimeoutMs: number): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    if (this.closedByUser) return Promise.reject(new RaftlabError('UNAVAILABLE', 'client is closed'));
    this.connecting ??= this.dial(connectTimeoutMs).finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private dial(connectTimeoutMs: number): Promise<Socket> {
    const [host, port] = splitEndpoint(this.endpoint);
    return new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 10_000 });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new EndpointUnreachable(this.endpoint, `no connection within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.attach(socket);
        resolve(socket);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new EndpointUnreachable(this.endpoint, error.message));
      });
    });
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    const decoder = new FrameDecoder(this.frameSizeBytesMax);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) this.onFrame(socket, frame);
      } catch (error) {
        if (!(error instanceof FrameError || error instanceof CodecError)) throw error;
        socket.destroy();
        this.failAll(socket, `bad data from ${this.endpoint}: ${error.message}`);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.failAll(socket, `connection to ${this.endpoint} lost`);
    });
  }

  private onFrame(socket: Socket, frame: Uint8Array): void {
    const envelope = decodeEnvelope(frame);
    if (envelope.kind === 'connection-error') {
      socket.destroy();
      this.failRefused(socket, envelope.error, envelope.requestsRead);
      return;
    }
    if (envelope.kind !== 'client-response')
      throw new CodecError('UNKNOWN_KIND', `unexpected ${envelope.kind}`);
    const waiter = this.waiters.get(envelope.response.requestId);
    if (!waiter || waiter.drop) return; // answered after its timeout, or dropped by a test hook
    this.waiters.delete(envelope.response.requestId);
    clearTimeout(waiter.timer);
    waiter.resolve(envelope.response);
  }

  /**
   * The server closed `socket` after reading `requestsRead` of its requests: those may have
   * happened; the next one is what the error is about; later ones were never read.
   */
  private failRefused(socket: Socket, error: ErrorInfo, requestsRead: number): void {
    const said = `${this.endpoint} closed the connection: ${error.message}`;
    for (const [id, waiter] of this.waiters) {
      if (waiter.socket !== socket) continue;
      this.waiters.delete(id);
      clearTimeout(waiter.timer);
      if (waiter.ordinal <= requestsRead) waiter.reject(new RaftlabError('CONNECTION_LOST', said));
      else if (waiter.ordinal === requestsRead + 1)
        waiter.reject(new RaftlabError(error.code, said, { definite: error.definite }));
      else waiter.reject(new RaftlabError('UNAVAILABLE', `not read: ${said}`, { definite: true }));
    }
  }

  /** Fails the requests sent on `socket` (all of them when undefined) as CONNECTION_LOST. */
  private failAll(socket: Socket | undefined, reason: string): void {
    for (const [id, waiter] of this.waiters) {
      if (socket !== undefined && waiter.socket !== socket) continue;
      this.waiters.delete(id);
      clearTimeout(waiter.timer);
      waiter.reject(new RaftlabError('CONNECTION_LOST', reason));
    }
  }
}

/** HOST:PORT, with an IPv6 host in brackets ([::1]:7001) as in URLs; the host comes back bare. */
export function splitEndpoint(endpoint: string): [string, number] {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint))
    throw new Error(`bad endpoint "${endpoint}": give HOST:PORT, not a URL`);
  const at = endpoint.lastIndexOf(':');
  const port = Number(endpoint.slice(at + 1));
  const host = endpoint.slice(0, Math.max(at, 0)).replace(/^\[(.*)\]$/, '$1');
  if (at <= 0 || host === '' || !/^\d+$/.test(endpoint.slice(at + 1)) || port < 1 || port > 65535)
    throw new Error(`bad endpoint "${endpoint}": expected HOST:PORT (an IPv6 host in brackets: [::1]:7001)`);
  return [host, port];
}
