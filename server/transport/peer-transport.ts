// The peer port (like etcd's): each node dials every other node for the messages it sends
// (one PeerLink each) and accepts their connections for the messages it receives. An accepted
// connection must open with a peer-hello from a member of this cluster; after that only Raft
// messages addressed to this node are allowed. Reading pauses while the driver's inbox is full.
import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame } from '../../proto/framing.js';
import { encodeEnvelope, type Envelope } from '../../proto/codec.js';
import type { Message } from '../raft/types.js';
import type { MemberAddress } from '../../shared/config.js';
import type { Logger } from '../../shared/log.js';
import { FramedSocket, ProtocolViolation } from './framed-socket.js';
import { PeerLink } from './peer-link.js';

export interface PeerTransportOptions {
  readonly selfId: string;
  readonly members: readonly MemberAddress[];
  readonly clusterId: string;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly frameSizeBytesMax: number;
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

  constructor(private readonly options: PeerTransportOptions) {
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
    const log = this.options.logger;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let peer: string | undefined;
    const framed: FramedSocket = new FramedSocket(socket, this.options.frameSizeBytesMax, {
      onEnvelope: (envelope) => {
        peer = this.checkEnvelope(envelope, peer);
        if (envelope.kind === 'raft' && !this.options.deliver(envelope.message)) this.pause(framed);
      },
      onClose: (reason) => {
        this.inbound.delete(framed);
        if (peer !== undefined) this.options.onPeerLost?.(peer);
        if (reason && reason !== 'shutting down')
          log.warn(`closed peer connection from ${peer ?? remote}: ${reason}`);
        else log.debug(`peer connection from ${peer ?? remote} closed`);
      },
    });
    this.inbound.add(framed);
  }

  /** Enforces the peer-port protocol; returns the peer id once the hello was seen. */
  private checkEnvelope(envelope: Envelope, peer: string | undefined): string {
    if (peer === undefined) {
      if (envelope.kind !== 'peer-hello')
        throw new ProtocolViolation(
          `expected peer-hello as the first frame on the peer port, got ${envelope.kind}`,
        );
      const { from, clusterId } = envelope.hello;
      if (clusterId !== this.options.clusterId)
        throw new ProtocolViolation(
          `peer ${from} is in cluster "${clusterId}", not "${this.options.clusterId}"`,
        );
      if (!this.links.has(from))
        throw new ProtocolViolation(`peer-hello from ${from}, not a member of this cluster`);
      this.options.logger.debug(`accepted peer connection from ${from}`);
      return from;
    }
    if (envelope.kind !== 'raft')
      throw new ProtocolViolation(`a ${envelope.kind} frame is not allowed on the peer port`);
    if (envelope.message.from !== peer || envelope.message.to !== this.options.selfId)
      throw new ProtocolViolation(
        `raft message ${envelope.message.from}->${envelope.message.to} on the connection from ${peer}`,
      );
    return peer;
  }

  private pause(framed: FramedSocket): void {
    framed.socket.pause();
    this.options.whenRoom(() => framed.socket.resume());
  }
}
