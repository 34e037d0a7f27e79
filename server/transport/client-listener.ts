// The client port: many requests in flight per connection, matched by request id (pipelining),
// bounded by requestsInFlightPerConnectionMax (past it: OVERLOADED, definite). Reading pauses when
// the client does not read its responses (write() returned false) or the driver's inbox is full.
import { createServer, type Server, type Socket } from 'node:net';
import type { ClientRequest, ClientResponse } from '../../proto/codec.js';
import type { Logger } from '../../shared/log.js';
import { FramedSocket, ProtocolViolation } from './framed-socket.js';

export type RequestHandler = (request: ClientRequest, reply: (response: ClientResponse) => void) => void;

export interface ClientListenerOptions {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly frameSizeBytesMax: number;
  readonly requestsInFlightPerConnectionMax: number;
  readonly clientConnectionsMax: number;
  readonly logger: Logger;
  readonly handle: RequestHandler;
  /** True while the driver cannot take more input. */
  readonly busy: () => boolean;
  readonly whenRoom: (resume: () => void) => void;
}

export class ClientListener {
  private server: Server | undefined;
  private readonly connections = new Set<ClientConnection>();

  constructor(private readonly options: ClientListenerOptions) {}

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
  }

  /** Stops accepting; existing connections stay until closeConnections(). */
  stopAccepting(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  closeConnections(): void {
    for (const c of this.connections) c.framed.destroy('shutting down');
  }

  private accept(socket: Socket): void {
    const log = this.options.logger;
    if (this.connections.size >= this.options.clientConnectionsMax) {
      log.warn(`refused a client connection: ${this.options.clientConnectionsMax} already open`);
      socket.destroy();
      return;
    }
    const connection = new ClientConnection(socket, this.options, () => this.connections.delete(connection));
    this.connections.add(connection);
  }
}

class ClientConnection {
  readonly framed: FramedSocket;
  private inFlight = 0;
  private writeBlocked = false;
  private readonly remote: string;

  constructor(
    socket: Socket,
    private readonly options: ClientListenerOptions,
    onGone: () => void,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.framed = new FramedSocket(socket, options.frameSizeBytesMax, {
      onEnvelope: (envelope) => {
        if (envelope.kind !== 'client-request')
          throw new ProtocolViolation(`a ${envelope.kind} frame is not allowed on the client port`);
        this.onRequest(envelope.request);
      },
      onClose: (reason) => {
        onGone();
        if (reason && reason !== 'shutting down')
          options.logger.warn(`closed client connection ${this.remote}: ${reason}`);
      },
    });
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.maybeResume();
    });
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
    if (!this.framed.send({ kind: 'client-response', response }) && !this.writeBlocked) {
      this.writeBlocked = true;
      this.framed.socket.pause();
    }
  }

  private maybeResume(): void {
    if (!this.writeBlocked && !this.options.busy() && !this.framed.isClosed) this.framed.socket.resume();
  }
}
