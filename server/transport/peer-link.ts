// The outbound connection to one peer: dials it, says hello, and drains a bounded send queue.
// Reconnects with exponential backoff and jitter. A full queue drops the message and counts it
// (Raft retransmits); while disconnected, messages are dropped too, since they would be stale by
// the time the peer is back. `write()` returning false pauses the drain until 'drain'.
import { connect, type Socket } from 'node:net';
import { encodeFrame } from '../../proto/framing.js';
import { encodeEnvelope } from '../../proto/codec.js';
import type { Logger } from '../../shared/log.js';

export interface PeerLinkOptions {
  readonly selfId: string;
  readonly peerId: string;
  readonly host: string;
  readonly port: number;
  readonly clusterId: string;
  readonly sendQueueMessagesMax: number;
  readonly sendQueueBytesMax: number;
  readonly reconnectDelayMsMin: number;
  readonly reconnectDelayMsMax: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

type LinkState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed';

export class PeerLink {
  private state: LinkState = 'idle';
  private socket: Socket | undefined;
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queueBytes = 0;
  private draining = false; // waiting for 'drain'
  private drainScheduled = false;
  private reconnectDelayMs: number;
  private timer: NodeJS.Timeout | undefined;
  droppedMessages = 0;
  sentMessages = 0;

  constructor(private readonly options: PeerLinkOptions) {
    this.reconnectDelayMs = options.reconnectDelayMsMin;
  }

  get queuedMessages(): number {
    return this.queue.length - this.queueHead;
  }

  /** Queues one encoded frame; drops (and counts) it when the queue is full or the peer is away. */
  send(frame: Uint8Array): void {
    if (this.state === 'closed') return;
    if (this.state === 'waiting') {
      this.droppedMessages++;
      return;
    }
    const o = this.options;
    if (
      this.queuedMessages >= o.sendQueueMessagesMax ||
      this.queueBytes + frame.length > o.sendQueueBytesMax
    ) {
      this.droppedMessages++;
      if (this.droppedMessages % 1000 === 1)
        o.logger.warn(`send queue to ${o.peerId} full; dropping messages`, { dropped: this.droppedMessages });
      return;
    }
    this.queue.push(frame);
    this.queueBytes += frame.length;
    if (this.state === 'idle') this.dial();
    else if (this.state === 'connected') this.scheduleDrain();
  }

  /** One drain per tick: a Ready's messages to this peer leave in one writev. */
  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    process.nextTick(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  close(): void {
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.socket?.destroy();
    this.clearQueue();
  }

  private dial(): void {
    const o = this.options;
    this.state = 'connecting';
    const socket = connect({
      host: o.host,
      port: o.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 10_000,
    });
    this.socket = socket;
    socket.setTimeout(o.connectTimeoutMs);
    socket.on('timeout', () => socket.destroy(new Error(`connect timed out after ${o.connectTimeoutMs} ms`)));
    socket.on('connect', () => this.onConnect(socket));
    socket.on('drain', () => {
      this.draining = false;
      this.drain();
    });
    // Peers never answer on this connection except with a connection-error before closing.
    socket.on('data', () => undefined);
    socket.on('error', (error) => this.onDown(socket, error.message));
    socket.on('close', () => this.onDown(socket, 'connection closed'));
  }

  private onConnect(socket: Socket): void {
    const o = this.options;
    socket.setTimeout(0);
    this.state = 'connected';
    this.reconnectDelayMs = o.reconnectDelayMsMin;
    o.logger.info(`${o.selfId} connected to peer ${o.peerId} at ${o.host}:${o.port}`);
    socket.write(
      encodeFrame(encodeEnvelope({ kind: 'peer-hello', hello: { from: o.selfId, clusterId: o.clusterId } })),
    );
    this.drain();
  }

  private onDown(socket: Socket, reason: string): void {
    if (socket !== this.socket || this.state === 'closed' || this.state === 'waiting') return;
    const o = this.options;
    const wasConnected = this.state === 'connected';
    socket.destroy();
    this.socket = undefined;
    this.clearQueue();
    this.draining = false;
    this.state = 'waiting';
    if (wasConnected) o.logger.info(`${o.selfId} lost peer ${o.peerId}: ${reason}; reconnecting`);
    else
      o.logger.debug(`${o.selfId} cannot reach peer ${o.peerId}: ${reason}`, {
        retryMs: this.reconnectDelayMs,
      });
    // Full jitter on the upper half: peers restarting together do not dial in lockstep.
    const delay = this.reconnectDelayMs * (0.5 + Math.random() * 0.5);
    this.reconnectDelayMs = Math.min(o.reconnectDelayMsMax, this.reconnectDelayMs * 2);
    this.timer = setTimeout(() => {
      if (this.state === 'waiting') this.dial();
    }, delay);
  }

  private drain(): void {
    const socket = this.socket;
    if (!socket || this.draining || this.state !== 'connected') return;
    socket.cork();
    while (this.queueHead < this.queue.length) {
      const frame = this.queue[this.queueHead]!;
      this.queueHead++;
      this.queueBytes -= frame.length;
      this.sentMessages++;
      if (!socket.write(frame)) {
        this.draining = true;
        break;
      }
    }
    socket.uncork();
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
  }

  private clearQueue(): void {
    this.droppedMessages += this.queuedMessages;
    this.queue = [];
    this.queueHead = 0;
    this.queueBytes = 0;
  }
}
