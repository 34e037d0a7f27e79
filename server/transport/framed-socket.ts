// A TCP socket speaking length-prefixed Envelopes: frames in through the I/O-free FrameDecoder
// (length checked against the limit before buffering), envelopes out with socket backpressure
// visible to the caller. Any bad input closes this one connection with a reason, sending a
// connection-error frame first where the stream still allows it.
import type { Socket } from 'node:net';
import { FrameDecoder, FrameError, OversizedFrame, encodeFrame } from '../../proto/framing.js';
import { CodecError, decodeEnvelope, encodeEnvelope, type Envelope } from '../../proto/codec.js';
import type { ErrorInfo } from '../../shared/errors.js';

export interface FramedSocketHandlers {
  /** One decoded envelope. Throw a ProtocolViolation to close the connection with its reason. */
  onEnvelope(envelope: Envelope): void;
  /**
   * A frame over frameSizeBytesMax that the decoder skipped (only with oversizedSkipBytesMax);
   * without this handler it closes the connection with TOO_LARGE.
   */
  onOversized?(frame: OversizedFrame): void;
  /** The connection is gone; `reason` is set when it was closed for bad input or an error. */
  onClose(reason: string | undefined): void;
}

/** Thrown by a handler when an envelope is valid but not allowed here (a peer frame on the client port). */
export class ProtocolViolation extends Error {
  readonly code: ErrorInfo['code'];
  constructor(
    readonly reason: string,
    code: ErrorInfo['code'] = 'BAD_REQUEST',
  ) {
    super(reason);
    this.name = 'ProtocolViolation';
    this.code = code;
  }
}

/** How long a closing connection waits for the other side to read its error frame and hang up. */
export const CLOSE_LINGER_MS = 1000;
/** Closing connections allowed to linger at once; past it they close as soon as the frame is written. */
export const LINGERING_SOCKETS_MAX = 1024;
let lingering = 0;

/**
 * Sends a connection-error frame and ends the socket. Reading goes on, discarding, so unread input
 * does not make the kernel answer with a reset that could overtake the error frame; a peer that
 * neither reads nor hangs up is destroyed after CLOSE_LINGER_MS. When LINGERING_SOCKETS_MAX are
 * already lingering (a flood of refused connections), the socket is destroyed once the frame is
 * handed to the kernel instead, so a flood cannot hold file descriptors for long.
 */
export function endWithError(socket: Socket, error: ErrorInfo, requestsRead: number): void {
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  const frame = encodeFrame(encodeEnvelope({ kind: 'connection-error', error, requestsRead }));
  if (lingering >= LINGERING_SOCKETS_MAX) {
    socket.end(frame, () => socket.destroy());
    return;
  }
  lingering++;
  socket.once('close', () => lingering--);
  socket.end(frame);
  setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
}

export interface FramedSocketOptions {
  readonly frameSizeBytesMax: number;
  readonly oversizedFrameSkipBytesMax?: number;
}

export class FramedSocket {
  private readonly decoder: FrameDecoder;
  private closed = false;
  private closeReason: string | undefined;
  private finished = false;
  private corked = false;
  /** Frames handled without closing the connection (on the client port: requests read). */
  framesRead = 0;
  /** performance.now() when the last frame was read, or when the connection opened. */
  lastFrameAtMs = performance.now();

  constructor(
    readonly socket: Socket,
    options: FramedSocketOptions,
    private readonly handlers: FramedSocketHandlers,
  ) {
    this.decoder = new FrameDecoder(options.frameSizeBytesMax, {
      oversizedSkipBytesMax: handlers.onOversized ? (options.oversizedFrameSkipBytesMax ?? 0) : 0,
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(`socket error: ${error.message}`, undefined));
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
    endWithError(this.socket, error, this.framesRead);
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
      if (error instanceof FrameError) return this.fail(error.toErrorInfo().message, error.toErrorInfo());
      throw error;
    }
    for (const frame of frames) {
      if (this.closed) return;
      try {
        this.handle(frame);
      } catch (error) {
        if (error instanceof CodecError) return this.fail(error.toErrorInfo().message, error.toErrorInfo());
        if (error instanceof ProtocolViolation)
          return this.fail(error.reason, { code: error.code, message: error.reason, definite: true });
        throw error;
      }
      this.framesRead++;
    }
    // One clock read per chunk, not per frame: the idle and first-frame timeouts are seconds long.
    if (frames.length > 0) this.lastFrameAtMs = performance.now();
  }

  private handle(frame: Uint8Array): void {
    if (!(frame instanceof OversizedFrame)) return this.handlers.onEnvelope(decodeEnvelope(frame));
    const limit = this.decoder.frameSizeBytesMax;
    const reason = `frame length ${frame.frameBytes} bytes exceeds frameSizeBytesMax ${limit}`;
    if (!this.handlers.onOversized) throw new ProtocolViolation(`bad framing: ${reason}`, 'TOO_LARGE');
    this.handlers.onOversized(frame);
  }

  /** Closes for `reason`; with `tell`, sends it to the other side first (definite: nothing was read). */
  private fail(reason: string, tell: ErrorInfo | undefined): void {
    if (this.closed) return;
    if (tell) this.closeWithError(tell);
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
