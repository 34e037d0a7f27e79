// A TCP socket speaking length-prefixed Envelopes: frames in through the I/O-free FrameDecoder
// (length checked against the limit before buffering), envelopes out with socket backpressure
// visible to the caller. Any bad input closes this one connection with a reason, sending a
// connection-error frame first where the stream still allows it.
import type { Socket } from 'node:net';
import { FrameDecoder, FrameError, encodeFrame } from '../../proto/framing.js';
import { CodecError, decodeEnvelope, encodeEnvelope, type Envelope } from '../../proto/codec.js';
import type { ErrorInfo } from '../../shared/errors.js';

export interface FramedSocketHandlers {
  /** One decoded envelope. Throw a ProtocolViolation to close the connection with its reason. */
  onEnvelope(envelope: Envelope): void;
  /** The connection is gone; `reason` is set when it was closed for bad input or an error. */
  onClose(reason: string | undefined): void;
}

/** Thrown by a handler when an envelope is valid but not allowed here (a peer frame on the client port). */
export class ProtocolViolation extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ProtocolViolation';
  }
}

export class FramedSocket {
  private readonly decoder: FrameDecoder;
  private closed = false;
  private closeReason: string | undefined;
  private finished = false;
  private corked = false;

  constructor(
    readonly socket: Socket,
    frameSizeBytesMax: number,
    private readonly handlers: FramedSocketHandlers,
  ) {
    this.decoder = new FrameDecoder(frameSizeBytesMax);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(`socket error: ${error.message}`, false));
    socket.on('close', () => this.finish());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Writes one envelope; false means the socket buffer is full (wait for 'drain'). */
  send(envelope: Envelope): boolean {
    if (this.closed) return false;
    this.corkUntilNextTick();
    return this.socket.write(encodeFrame(encodeEnvelope(envelope)));
  }

  /**
   * Applying one batch of committed entries answers many requests in the same tick: cork the
   * socket so they leave in one writev instead of one syscall each.
   */
  private corkUntilNextTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  /** Writes an already-encoded frame. */
  sendFrame(frame: Uint8Array): boolean {
    if (this.closed) return false;
    return this.socket.write(frame);
  }

  /** Closes after trying to tell the other side why (a connection-error frame). */
  closeWithError(error: ErrorInfo): void {
    if (this.closed) return;
    this.closeReason = error.message;
    this.closed = true;
    this.socket.end(encodeFrame(encodeEnvelope({ kind: 'connection-error', error })));
    this.socket.removeAllListeners('data');
    // A peer that never reads must not keep the socket: give the error frame a moment, then destroy.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  destroy(reason?: string): void {
    if (!this.closed) this.closeReason = reason;
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Uint8Array[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (error instanceof FrameError) return this.fail(`bad framing: ${error.reason}`, true);
      throw error;
    }
    for (const frame of frames) {
      if (this.closed) return;
      try {
        this.handlers.onEnvelope(decodeEnvelope(frame));
      } catch (error) {
        if (error instanceof CodecError) return this.fail(`bad envelope: ${error.reason}`, true);
        if (error instanceof ProtocolViolation) return this.fail(error.reason, true);
        throw error;
      }
    }
  }

  private fail(reason: string, tellPeer: boolean): void {
    if (this.closed) return;
    if (tellPeer) this.closeWithError({ code: 'BAD_REQUEST', message: reason, definite: true });
    else this.destroy(reason);
    this.closeReason = reason;
  }

  private finish(): void {
    this.closed = true;
    if (this.finished) return;
    this.finished = true;
    this.handlers.onClose(this.closeReason);
  }
}
