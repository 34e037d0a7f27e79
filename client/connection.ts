// One TCP connection to one endpoint, with many requests in flight matched by request id
// (pipelining). A request that never reached the socket fails definitely (UNAVAILABLE); one that
// was sent and then lost its connection or its deadline may have happened (CONNECTION_LOST, TIMEOUT).
import { connect, type Socket } from 'node:net';
import { FrameDecoder, FrameError, encodeFrame } from '../proto/framing.js';
import {
  CodecError,
  decodeEnvelope,
  encodeEnvelope,
  type ClientOp,
  type ClientResponse,
} from '../proto/codec.js';
import { RaftlabError } from '../shared/errors.js';

interface Waiter {
  resolve(response: ClientResponse): void;
  reject(error: RaftlabError): void;
  timer: NodeJS.Timeout;
  drop: boolean;
}

export interface RequestFields {
  readonly clientId: number;
  readonly sequence: number;
  readonly ackedSequence: number;
  readonly op: ClientOp;
}

export class Connection {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly waiters = new Map<number, Waiter>();
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

  /** Sends one request and resolves with its response (which may carry an error). */
  async request(fields: RequestFields, timeoutMs: number, dropResponse = false): Promise<ClientResponse> {
    const socket = await this.open();
    const requestId = this.nextRequestId++;
    const frame = encodeFrame(encodeEnvelope({ kind: 'client-request', request: { requestId, ...fields } }));
    return new Promise<ClientResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        reject(new RaftlabError('TIMEOUT', `no response from ${this.endpoint} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(requestId, { resolve, reject, timer, drop: dropResponse });
      this.write(socket, frame);
    });
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
    this.failAll('connection closed by the client');
  }

  private open(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    if (this.closedByUser) return Promise.reject(new RaftlabError('UNAVAILABLE', 'client is closed'));
    this.connecting ??= this.dial().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private dial(): Promise<Socket> {
    const [host, port] = splitEndpoint(this.endpoint);
    return new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 10_000 });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new RaftlabError(
            'UNAVAILABLE',
            `cannot connect to ${this.endpoint} within ${this.connectTimeoutMs} ms`,
          ),
        );
      }, this.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.attach(socket);
        resolve(socket);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new RaftlabError('UNAVAILABLE', `cannot connect to ${this.endpoint}: ${error.message}`));
      });
    });
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    const decoder = new FrameDecoder(this.frameSizeBytesMax);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) this.onFrame(frame);
      } catch (error) {
        if (!(error instanceof FrameError || error instanceof CodecError)) throw error;
        socket.destroy();
        this.failAll(`bad data from ${this.endpoint}: ${error.message}`);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.failAll(`connection to ${this.endpoint} lost`);
    });
  }

  private onFrame(frame: Uint8Array): void {
    const envelope = decodeEnvelope(frame);
    if (envelope.kind === 'connection-error') {
      this.socket?.destroy();
      this.failAll(`${this.endpoint} closed the connection: ${envelope.error.message}`);
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

  private failAll(reason: string): void {
    for (const waiter of this.waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new RaftlabError('CONNECTION_LOST', reason));
    }
    this.waiters.clear();
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
