// The peer port (like etcd's): each node dials every other node for the messages it sends
// (one PeerLink each) and accepts their connections for the messages it receives. An accepted
// connection must open with a peer-hello from a member of this cluster (same cluster id, a member's
// node id, addressed to this node); after that only Raft messages addressed to this node are
// allowed. Anything else is refused with the reason (sent to the dialler and logged, rate-limited:
// a stray node of another cluster redials forever). Reading pauses while the driver's inbox is full.
import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame } from '../../proto/framing.js';
import { encodeEnvelope, type Envelope } from '../../proto/codec.js';
import type { Message } from '../raft/types.js';
import type { MemberAddress } from '../../shared/config.js';
import type { Logger } from '../../shared/log.js';
import { endWithError, FramedSocket, ProtocolViolation } from './framed-socket.js';
import { PeerLink } from './peer-link.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** A refused dialler is logged at most once per reason per this interval. */
const REFUSAL_LOG_INTERVAL_MS = 30_000;

export interface PeerTransportOptions {
  readonly selfId: string;
  readonly members: readonly MemberAddress[];
  readonly clusterId: string;
  /** This node's client address, named when a client mistakes the peer port for it. */
  readonly selfClientAddress: string;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly frameSizeBytesMax: number;
  /** Inbound peer connections open at once (members reconnect; strays must not pile up). */
  readonly peerConnectionsInboundMax: number;
  /** An inbound connection without a valid peer-hello this long after connecting is closed. */
  readonly helloTimeoutMs: number;
  readonly sendQueueMessagesMax: number;
  readonly sendQueueBytesMax: number;
  readonly logger: Logger;
  /** Delivers a received message; returns false when the receiver is full (reading pauses). */
  readonly deliver: (message: Message) => boolean;
  /** Calls `resume` when the receiver has room again. */
  readonly whenRoom: (resume: () => void) => void;
  /** A peer's inbound connection closed (after its hello). */
  readonly onPeerLost?: (peer: string) => void;
}

export class PeerTransport {
  private readonly links = new Map<string, PeerLink>();
  private readonly inbound = new Set<FramedSocket>();
  private server: Server | undefined;
  private readonly refusals: RateLimitedLog;

  constructor(private readonly options: PeerTransportOptions) {
    this.refusals = new RateLimitedLog(options.logger, REFUSAL_LOG_INTERVAL_MS);
    for (const m of options.members) {
      if (m.id === options.selfId) continue;
      this.links.set(
        m.id,
        new PeerLink({
          selfId: options.selfId,
          peerId: m.id,
          host: m.peerHost,
          port: m.peerPort,
          clusterId: options.clusterId,
          frameSizeBytesMax: options.frameSizeBytesMax,
          sendQueueMessagesMax: options.sendQueueMessagesMax,
          sendQueueBytesMax: options.sendQueueBytesMax,
          reconnectDelayMsMin: 20,
          reconnectDelayMsMax: 1000,
          connectTimeoutMs: 1000,
          logger: options.logger,
        }),
      );
    }
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
  }

  send(messages: readonly Message[]): void {
    for (const message of messages) {
      const link = this.links.get(message.to);
      if (!link) throw new Error(`assertion failed: message to unknown peer ${message.to}`);
      link.send(encodeFrame(encodeEnvelope({ kind: 'raft', message })));
    }
  }

  droppedMessages(): number {
    let dropped = 0;
    for (const link of this.links.values()) dropped += link.droppedMessages;
    return dropped;
  }

  async close(): Promise<void> {
    for (const link of this.links.values()) link.close();
    for (const socket of this.inbound) socket.destroy('shutting down');
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const o = this.options;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.inbound.size >= o.peerConnectionsInboundMax) {
      const reason = `${this.inbound.size} inbound peer connections are open (peerConnectionsInboundMax ${o.peerConnectionsInboundMax})`;
      this.refusals.warn('inbound limit', `refused a peer connection from ${remote}: ${reason}`);
      endWithError(
        socket,
        { code: 'OVERLOADED', message: `connection refused: ${reason}`, definite: true },
        0,
      );
      return;
    }
    let peer: string | undefined;
    const framed: FramedSocket = new FramedSocket(socket, o, {
      onEnvelope: (envelope) => {
        peer = this.checkEnvelope(envelope, peer);
        if (envelope.kind === 'raft' && !o.deliver(envelope.message)) this.pause(framed);
      },
      onClose: (reason) => {
        clearTimeout(helloTimer);
        this.inbound.delete(framed);
        if (peer !== undefined) o.onPeerLost?.(peer);
        if (reason && reason !== 'shutting down')
          this.refusals.warn(reason, `closed peer connection from ${peer ?? remote}: ${reason}`);
        else o.logger.debug(`peer connection from ${peer ?? remote} closed`);
      },
    });
    const helloTimer = setTimeout(() => {
      if (peer !== undefined) return;
      const message = `no peer-hello within ${o.helloTimeoutMs} ms of connecting`;
      framed.closeWithError({ code: 'UNAVAILABLE', message, definite: true });
    }, o.helloTimeoutMs).unref();
    this.inbound.add(framed);
  }

  /** Enforces the peer-port protocol; returns the peer id once the hello was seen. */
  private checkEnvelope(envelope: Envelope, peer: string | undefined): string {
    if (peer === undefined) return this.checkHello(envelope);
    if (envelope.kind !== 'raft')
      throw new ProtocolViolation(`a ${envelope.kind} frame is not allowed on the peer port`);
    if (envelope.message.from !== peer || envelope.message.to !== this.options.selfId)
      throw new ProtocolViolation(
        `raft message ${envelope.message.from}->${envelope.message.to} on the connection from ${peer}`,
      );
    return peer;
  }

  private checkHello(envelope: Envelope): string {
    const o = this.options;
    if (envelope.kind === 'client-request')
      throw new ProtocolViolation(
        `expected peer-hello as the first frame on the peer port, got client-request: this is the peer port of ${o.selfId}; clients use its client port ${o.selfClientAddress}`,
      );
    if (envelope.kind !== 'peer-hello')
      throw new ProtocolViolation(
        `expected peer-hello as the first frame on the peer port, got ${envelope.kind}`,
      );
    const { from, clusterId, to } = envelope.hello;
    if (clusterId !== o.clusterId)
      throw new ProtocolViolation(
        `refused peer ${from}: it is in cluster "${clusterId}", this node (${o.selfId}) is in cluster "${o.clusterId}"`,
      );
    if (!this.links.has(from))
      throw new ProtocolViolation(
        `refused peer ${from}: not a member of cluster "${o.clusterId}" (${o.selfId} is this node)`,
      );
    if (to !== '' && to !== o.selfId)
      throw new ProtocolViolation(`refused peer ${from}: it dialled ${to}, but this is ${o.selfId}`);
    o.logger.debug(`accepted peer connection from ${from}`);
    return from;
  }

  private pause(framed: FramedSocket): void {
    framed.socket.pause();
    this.options.whenRoom(() => framed.socket.resume());
  }
}
