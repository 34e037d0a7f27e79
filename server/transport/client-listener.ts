// The client port: many requests in flight per connection, matched by request id (pipelining),
// bounded by requestsInFlightPerConnectionMax (past it: OVERLOADED, definite). Reading pauses when
// the client does not read its responses (write() returned false) or the driver's inbox is full.
// Connections are bounded in number (in all and per remote address) and in time: one that sends no
// complete frame within firstFrameTimeoutMs (a slowloris), or sits idle with nothing in flight for
// clientIdleTimeoutMs, is closed. At a limit, a new connection takes the place of the oldest one
// (in the limit's scope) that has not sent a complete frame yet: such a connection is being served
// nothing, and this keeps a flood of silent connections from locking clients out until the
// first-frame timeout. With no such connection, the new one is refused with a connection-error
// frame (OVERLOADED, definite, the reason) and closed; connected clients keep being served.
import { createServer, type Server, type Socket } from 'node:net';
import { peekRequestId, type ClientRequest, type ClientResponse } from '../../proto/codec.js';
import type { OversizedFrame } from '../../proto/framing.js';
import type { Logger } from '../../shared/log.js';
import { endWithError, FramedSocket, ProtocolViolation } from './framed-socket.js';
import { RateLimitedLog } from './rate-limited-log.js';

export type RequestHandler = (request: ClientRequest, reply: (response: ClientResponse) => void) => void;

export interface ClientListenerOptions {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly frameSizeBytesMax: number;
  readonly oversizedFrameSkipBytesMax: number;
  readonly requestsInFlightPerConnectionMax: number;
  readonly clientConnectionsMax: number;
  readonly clientConnectionsPerAddressMax: number;
  readonly clientIdleTimeoutMs: number;
  readonly firstFrameTimeoutMs: number;
  readonly logger: Logger;
  readonly handle: RequestHandler;
  /** True while the driver cannot take more input. */
  readonly busy: () => boolean;
  readonly whenRoom: (resume: () => void) => void;
}

/** Refusals and timeouts are logged at most once per key and interval (a flood must not flood the log). */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export class ClientListener {
  private server: Server | undefined;
  private readonly connections = new Set<ClientConnection>();
  private readonly perAddress = new Map<string, number>();
  /** Connections with no complete frame yet, oldest first (Set keeps insertion order). */
  private readonly frameless = new Set<ClientConnection>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly refusals: RateLimitedLog;

  constructor(private readonly options: ClientListenerOptions) {
    this.refusals = new RateLimitedLog(options.logger, REFUSAL_LOG_INTERVAL_MS);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<void> {
    const server = createServer({ noDelay: true, keepAlive: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.listenPort, this.options.listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A quarter of the shorter timeout: a connection is closed within 1.25 times its timeout.
    const o = this.options;
    const sweepMs = Math.max(10, Math.min(1000, Math.min(o.firstFrameTimeoutMs, o.clientIdleTimeoutMs) / 4));
    this.sweepTimer = setInterval(() => this.sweep(), sweepMs).unref();
  }

  /** Stops accepting; existing connections stay until closeConnections(). */
  stopAccepting(): Promise<void> {
    clearInterval(this.sweepTimer);
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  closeConnections(): void {
    for (const c of this.connections) c.framed.destroy('shutting down');
  }

  private accept(socket: Socket): void {
    const o = this.options;
    const address = socket.remoteAddress ?? 'unknown';
    const refusal = this.makeRoom(address);
    if (refusal !== undefined) {
      this.refusals.warn(`limit ${address}`, `refused a client connection from ${address}: ${refusal}`);
      const message = `connection refused: ${refusal}; retry later or elsewhere`;
      endWithError(socket, { code: 'OVERLOADED', message, definite: true }, 0);
      return;
    }
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    const connection: ClientConnection = new ClientConnection(socket, o, {
      spoke: () => this.frameless.delete(connection),
      gone: (reason) => {
        this.release(connection);
        if (reason && reason !== 'shutting down' && !connection.closedByServer)
          this.refusals.warn(
            `closed ${address} ${reason}`,
            `closed client connection ${connection.remote}: ${reason}`,
          );
      },
    });
    this.connections.add(connection);
    this.frameless.add(connection);
  }

  /**
   * Frees a place for a connection from `address` when a limit is reached, by closing the oldest
   * connection in the limit's scope that has sent no complete frame; returns why not when none has.
   */
  private makeRoom(address: string): string | undefined {
    const o = this.options;
    if (this.connections.size >= o.clientConnectionsMax) {
      const oldest = this.frameless.values().next().value;
      if (oldest === undefined)
        return `${this.connections.size} client connections are open (clientConnectionsMax ${o.clientConnectionsMax})`;
      this.evict(oldest, `clientConnectionsMax ${o.clientConnectionsMax}`);
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= o.clientConnectionsPerAddressMax) {
      const oldest = oldestFrom(this.frameless, address);
      if (oldest === undefined)
        return `${fromAddress} client connections from ${address} are open (clientConnectionsPerAddressMax ${o.clientConnectionsPerAddressMax})`;
      this.evict(oldest, `clientConnectionsPerAddressMax ${o.clientConnectionsPerAddressMax}`);
    }
    return undefined;
  }

  private evict(connection: ClientConnection, limit: string): void {
    this.refusals.warn(
      `evict ${connection.address}`,
      `closed client connection ${connection.remote}: no frame yet and a new connection needed its place (${limit})`,
    );
    this.release(connection); // now: its socket may linger a moment before 'close'
    connection.closeByServer(
      'OVERLOADED',
      `connection closed: it sent no frame and a new connection needed its place (${limit})`,
    );
  }

  /** Forgets a connection in the counts; idempotent (eviction releases before the socket closes). */
  private release(connection: ClientConnection): void {
    if (!this.connections.delete(connection)) return;
    this.frameless.delete(connection);
    const left = (this.perAddress.get(connection.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(connection.address, left);
    else this.perAddress.delete(connection.address);
  }

  /** Closes connections past their first-frame or idle timeout. */
  private sweep(): void {
    const o = this.options;
    const nowMs = performance.now();
    for (const c of this.connections) {
      if (c.framed.isClosed) continue; // closing already (lingering for its error frame)
      const quietMs = nowMs - Math.max(c.framed.lastFrameAtMs, c.lastSentAtMs);
      if (c.framed.framesRead === 0 && quietMs >= o.firstFrameTimeoutMs) {
        const reason = `no complete frame within ${o.firstFrameTimeoutMs} ms of connecting (firstFrameTimeoutMs)`;
        this.refusals.warn(`first frame ${c.address}`, `closed client connection ${c.remote}: ${reason}`);
        c.closeByServer('UNAVAILABLE', `connection closed: ${reason}`);
      } else if (c.framed.framesRead > 0 && c.inFlight === 0 && quietMs >= o.clientIdleTimeoutMs) {
        const reason = `idle for ${o.clientIdleTimeoutMs} ms with nothing in flight (clientIdleTimeoutMs)`;
        o.logger.debug(`closed client connection ${c.remote}: ${reason}`);
        c.closeByServer('UNAVAILABLE', `connection closed: ${reason}`);
      }
    }
  }
}

function oldestFrom(frameless: ReadonlySet<ClientConnection>, address: string): ClientConnection | undefined {
  for (const c of frameless) if (c.address === address) return c;
  return undefined;
}

class ClientConnection {
  readonly framed: FramedSocket;
  readonly remote: string;
  readonly address: string;
  inFlight = 0;
  lastSentAtMs = 0;
  closedByServer = false;
  private writeBlocked = false;
  private spoke = false;

  constructor(
    socket: Socket,
    private readonly options: ClientListenerOptions,
    private readonly events: { spoke(): void; gone(reason: string | undefined): void },
  ) {
    this.address = socket.remoteAddress ?? 'unknown';
    this.remote = `${this.address}:${socket.remotePort}`;
    this.framed = new FramedSocket(socket, options, {
      onEnvelope: (envelope) => {
        if (envelope.kind !== 'client-request')
          throw new ProtocolViolation(`a ${envelope.kind} frame is not allowed on the client port`);
        this.firstFrame();
        this.onRequest(envelope.request);
      },
      onOversized: (frame) => {
        this.firstFrame();
        this.onOversized(frame);
      },
      onClose: (reason) => events.gone(reason),
    });
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.maybeResume();
    });
  }

  /** Closed by the listener (a timeout, an eviction): nothing unread happened, so definite. */
  closeByServer(code: 'UNAVAILABLE' | 'OVERLOADED', message: string): void {
    this.closedByServer = true;
    this.framed.closeWithError({ code, message, definite: true });
  }

  private firstFrame(): void {
    if (this.spoke) return;
    this.spoke = true;
    this.events.spoke();
  }

  /**
   * A request over frameSizeBytesMax, read and discarded: answered TOO_LARGE (definite) when its
   * request id can be read from its first bytes, so the connection stays; otherwise it closes.
   */
  private onOversized(frame: OversizedFrame): void {
    const message = `request frame of ${frame.frameBytes} bytes exceeds frameSizeBytesMax ${this.options.frameSizeBytesMax}`;
    const requestId = peekRequestId(frame);
    if (requestId === undefined) throw new ProtocolViolation(`bad framing: ${message}`, 'TOO_LARGE');
    this.send({ requestId, error: { code: 'TOO_LARGE', message, definite: true } });
  }

  private onRequest(request: ClientRequest): void {
    if (this.inFlight >= this.options.requestsInFlightPerConnectionMax) {
      this.send({
        requestId: request.requestId,
        error: {
          code: 'OVERLOADED',
          message: `more than ${this.options.requestsInFlightPerConnectionMax} requests in flight on one connection`,
          definite: true,
        },
      });
      return;
    }
    this.inFlight++;
    let answered = false;
    this.options.handle(request, (response) => {
      if (answered) throw new Error(`assertion failed: request ${request.requestId} answered twice`);
      answered = true;
      this.inFlight--;
      this.send(response);
    });
    if (this.options.busy()) {
      this.framed.socket.pause();
      this.options.whenRoom(() => this.maybeResume());
    }
  }

  private send(response: ClientResponse): void {
    if (this.framed.isClosed) return;
    this.lastSentAtMs = performance.now();
    if (!this.framed.send({ kind: 'client-response', response }) && !this.writeBlocked) {
      this.writeBlocked = true;
      this.framed.socket.pause();
    }
  }

  private maybeResume(): void {
    if (!this.writeBlocked && !this.options.busy() && !this.framed.isClosed) this.framed.socket.resume();
  }
}
