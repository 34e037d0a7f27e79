// The outbound connection to one peer: dials it, says hello, and drains a bounded send queue.
// Reconnects with exponential backoff and jitter. A full queue drops the message and counts it
// (Raft retransmits); while disconnected, messages are dropped too, since they would be stale by
// the time the peer is back. `write()` returning false pauses the drain until 'drain'.
// The delay is reset only by a connection that lasted: a peer that accepts and then refuses us (a
// node of another cluster on the address we were given) is redialled at reconnectDelayMsMax, not
// in a tight loop, and its reason is logged (rate-limited).
import { connect, type Socket } from 'node:net';
import { FrameDecoder, FrameError, encodeFrame } from '../../proto/framing.js';
import { CodecError, decodeEnvelope, encodeEnvelope } from '../../proto/codec.js';
import type { Logger } from '../../shared/log.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** A refusal by the same peer is logged at most once per this interval. */
const REFUSAL_LOG_INTERVAL_MS = 30_000;

export interface PeerLinkOptions {
  readonly selfId: string;
  readonly peerId: string;
  readonly host: string;
  readonly port: number;
  readonly clusterId: string;
  /** Largest frame read back from the peer (it only ever sends a connection-error). */
  readonly frameSizeBytesMax: number;
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
  private connectedAtMs = 0;
  private refused = false; // the last connection was refused: connect/lose lines go to debug
  private readonly refusals: RateLimitedLog;
  droppedMessages = 0;
  sentMessages = 0;

  constructor(private readonly options: PeerLinkOptions) {
    this.reconnectDelayMs = options.reconnectDelayMsMin;
    this.refusals = new RateLimitedLog(options.logger, REFUSAL_LOG_INTERVAL_MS);
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
    const decoder = new FrameDecoder(o.frameSizeBytesMax);
    socket.on('data', (chunk: Buffer) => this.onData(socket, decoder, chunk));
    socket.on('error', (error) => this.onDown(socket, error.message));
    socket.on('close', () => this.onDown(socket, 'connection closed'));
  }

  private onConnect(socket: Socket): void {
    const o = this.options;
    socket.setTimeout(0);
    this.state = 'connected';
    this.connectedAtMs = performance.now();
    const line = `${o.selfId} connected to peer ${o.peerId} at ${o.host}:${o.port}`;
    if (this.refused) o.logger.debug(line);
    else o.logger.info(line);
    const hello = { from: o.selfId, clusterId: o.clusterId, to: o.peerId };
    socket.write(encodeFrame(encodeEnvelope({ kind: 'peer-hello', hello })));
    this.drain();
  }

  /** The only frame a peer sends back is the reason it is closing the connection. */
  private onData(socket: Socket, decoder: FrameDecoder, chunk: Buffer): void {
    const o = this.options;
    let reason: string;
    try {
      const envelope = decoder.push(chunk).map(decodeEnvelope).at(0);
      if (envelope === undefined) return;
      reason =
        envelope.kind === 'connection-error'
          ? envelope.error.message
          : `it sent a ${envelope.kind} frame on our outbound link`;
    } catch (error) {
      if (!(error instanceof FrameError || error instanceof CodecError)) throw error;
      reason = `it sent bytes that are not frames (${error.message})`;
    }
    this.refusals.warn(
      reason,
      `${o.selfId}: peer ${o.peerId} at ${o.host}:${o.port} refused this node: ${reason}`,
    );
    this.refused = true;
    this.onDown(socket, `refused: ${reason}`);
  }

  private onDown(socket: Socket, reason: string): void {
    if (socket !== this.socket || this.state === 'closed' || this.state === 'waiting') return;
    const o = this.options;
    const wasConnected = this.state === 'connected';
    const lastedMs = wasConnected ? performance.now() - this.connectedAtMs : 0;
    // Only a connection that lasted resets the backoff; a refusal right after connecting does not.
    if (lastedMs >= o.reconnectDelayMsMax) {
      this.reconnectDelayMs = o.reconnectDelayMsMin;
      this.refused = false;
    }
    socket.destroy();
    this.socket = undefined;
    this.clearQueue();
    this.draining = false;
    this.state = 'waiting';
    if (wasConnected && !this.refused)
      o.logger.info(`${o.selfId} lost peer ${o.peerId}: ${reason}; reconnecting`);
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
