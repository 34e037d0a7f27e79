// Length-prefixed framing: every frame is a 4-byte big-endian length followed by that many bytes.
// The decoder does no I/O (nats.js style): the transport pushes whatever chunks the socket gives it
// and gets back whole frames. The length is checked against the configured maximum as soon as its
// four bytes are known, before a single byte of the body is kept, so a hostile or confused peer
// cannot make us buffer a gigabyte (porsager/postgres trusts the length; we do not).
import type { ErrorInfo } from '../shared/errors.js';

export const FRAME_HEADER_BYTES = 4;

/** The largest length a 4-byte header can express. */
export const FRAME_SIZE_BYTES_LIMIT = 0xffff_ffff;

export type FrameErrorCode = 'FRAME_TOO_LARGE' | 'FRAME_EMPTY' | 'DECODER_FAILED';

/** Bad framing: the connection that sent it must be closed; `reason` says why, for the log and the peer. */
export class FrameError extends Error {
  readonly code: FrameErrorCode;
  readonly reason: string;
  constructor(code: FrameErrorCode, reason: string) {
    super(`${code}: ${reason}`);
    this.name = 'FrameError';
    this.code = code;
    this.reason = reason;
  }

  /** What to send in the connection-error frame: TOO_LARGE for an oversized frame, else BAD_REQUEST. */
  toErrorInfo(): ErrorInfo {
    const code = this.code === 'FRAME_TOO_LARGE' ? 'TOO_LARGE' : 'BAD_REQUEST';
    return { code, message: `bad framing: ${this.reason}`, definite: true };
  }
}

/** How many leading bytes of a skipped oversized frame are kept (enough to find a request id). */
export const OVERSIZED_PREFIX_BYTES = 24;

/**
 * An oversized frame that the decoder skipped instead of failing (see `oversizedSkipBytesMax`):
 * its content is the frame's first bytes (at most OVERSIZED_PREFIX_BYTES), `frameBytes` the length
 * its header declared. It is a Uint8Array so it travels in order with the ordinary frames; check
 * `instanceof OversizedFrame` before decoding a frame as an envelope.
 */
export class OversizedFrame extends Uint8Array {
  frameBytes = 0;
}

export interface FrameDecoderOptions {
  /**
   * A frame over frameSizeBytesMax but at most this long is read and discarded (keeping only its
   * first bytes) and returned as an OversizedFrame, so the receiver can answer it and keep the
   * connection. Longer frames fail the decoder at their header. Default 0: never skip.
   */
  readonly oversizedSkipBytesMax?: number;
}

/** First capacity of a partial frame's buffer; it doubles as bytes arrive, up to the frame length. */
const PARTIAL_FRAME_BYTES_MIN = 16 * 1024;

/**
 * Splits a byte stream into frames, in O(bytes received). A frame that lies inside one chunk is
 * returned as a view of that chunk (no copy), so the caller must not reuse a chunk's memory after
 * pushing it (Node's socket chunks are fresh buffers). A frame split across chunks is copied into
 * one buffer that grows (doubling) as its bytes arrive: memory follows what was received, never
 * just what a length prefix claims, and a peer trickling one byte per packet costs one byte each,
 * not one chunk object each. After a FrameError the decoder stays failed: the stream has lost its
 * frame boundaries.
 */
export class FrameDecoder {
  readonly frameSizeBytesMax: number;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  private bodyBytes = -1; // length of the frame being read, -1 while its header is incomplete
  private body: Uint8Array | undefined; // the partial frame, when it spans chunks
  private bodyFilled = 0;
  private failure: FrameError | undefined;
  private readonly oversizedSkipBytesMax: number;
  private skipBytes = 0; // bytes of an oversized frame still to discard
  private skipped: OversizedFrame | undefined; // the oversized frame being skipped (its prefix)
  private skippedFilled = 0;

  constructor(frameSizeBytesMax: number, options: FrameDecoderOptions = {}) {
    if (
      !Number.isInteger(frameSizeBytesMax) ||
      frameSizeBytesMax < 1 ||
      frameSizeBytesMax > FRAME_SIZE_BYTES_LIMIT
    ) {
      throw new RangeError(
        `frameSizeBytesMax must be an integer in [1, ${FRAME_SIZE_BYTES_LIMIT}], got ${frameSizeBytesMax}`,
      );
    }
    this.frameSizeBytesMax = frameSizeBytesMax;
    this.oversizedSkipBytesMax = options.oversizedSkipBytesMax ?? 0;
  }

  /** Bytes received but kept, not yet returned as frames (at most one header plus one partial frame). */
  get pendingBytes(): number {
    return this.headerFilled + this.bodyFilled + this.skippedFilled;
  }

  /** Feeds one chunk; returns the frames it completes (possibly none). Throws FrameError on bad framing. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure !== undefined) {
      throw new FrameError('DECODER_FAILED', `decoder already failed: ${this.failure.reason}`);
    }
    const frames: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.skipped !== undefined) {
        at = this.skip(chunk, at);
        if (this.skipBytes === 0) frames.push(this.takeSkipped());
        continue;
      }
      if (this.bodyBytes < 0) {
        at = this.readHeader(chunk, at);
        continue; // a body needs at least one more byte (empty frames are refused)
      }
      if (this.bodyFilled === 0 && chunk.length - at >= this.bodyBytes) {
        frames.push(chunk.subarray(at, at + this.bodyBytes)); // whole frame in this chunk: a view
        at += this.bodyBytes;
        this.bodyBytes = -1;
        continue;
      }
      at = this.fillBody(chunk, at);
      if (this.bodyFilled === this.bodyBytes) frames.push(this.takeBody());
    }
    return frames;
  }

  /** Consumes header bytes from `chunk[at..]`; sets bodyBytes once all four are known. */
  private readHeader(chunk: Uint8Array, at: number): number {
    const count = Math.min(FRAME_HEADER_BYTES - this.headerFilled, chunk.length - at);
    this.header.set(chunk.subarray(at, at + count), this.headerFilled);
    this.headerFilled += count;
    if (this.headerFilled === FRAME_HEADER_BYTES) {
      const h = this.header;
      // `>>> 0` keeps the top bit from making the length negative.
      const length = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
      this.headerFilled = 0;
      this.checkLength(length);
      if (length > this.frameSizeBytesMax) this.startSkipping(length);
      else this.bodyBytes = length;
    }
    return at + count;
  }

  private checkLength(length: number): void {
    if (length > this.frameSizeBytesMax && length > this.oversizedSkipBytesMax) {
      const reason = `frame length ${length} bytes exceeds frameSizeBytesMax ${this.frameSizeBytesMax}`;
      this.fail(new FrameError('FRAME_TOO_LARGE', reason));
    }
    if (length === 0)
      this.fail(new FrameError('FRAME_EMPTY', 'zero-length frame (an envelope is never empty)'));
  }

  /** Copies what `chunk[at..]` holds of the partial frame, growing its buffer as needed. */
  private fillBody(chunk: Uint8Array, at: number): number {
    const count = Math.min(this.bodyBytes - this.bodyFilled, chunk.length - at);
    const needed = this.bodyFilled + count;
    if (this.body === undefined || this.body.length < needed) {
      const capacity = Math.min(
        this.bodyBytes,
        Math.max(needed, PARTIAL_FRAME_BYTES_MIN, 2 * (this.body?.length ?? 0)),
      );
      const grown = new Uint8Array(capacity);
      if (this.body !== undefined) grown.set(this.body.subarray(0, this.bodyFilled));
      this.body = grown;
    }
    this.body.set(chunk.subarray(at, at + count), this.bodyFilled);
    this.bodyFilled = needed;
    return at + count;
  }

  private startSkipping(length: number): void {
    const skipped = new OversizedFrame(Math.min(length, OVERSIZED_PREFIX_BYTES));
    skipped.frameBytes = length;
    this.skipped = skipped;
    this.skippedFilled = 0;
    this.skipBytes = length;
  }

  /** Discards what `chunk[at..]` holds of an oversized frame, keeping its first bytes. */
  private skip(chunk: Uint8Array, at: number): number {
    const skipped = this.skipped!;
    const count = Math.min(this.skipBytes, chunk.length - at);
    const keep = Math.min(skipped.length - this.skippedFilled, count);
    skipped.set(chunk.subarray(at, at + keep), this.skippedFilled);
    this.skippedFilled += keep;
    this.skipBytes -= count;
    return at + count;
  }

  private takeSkipped(): OversizedFrame {
    const skipped = this.skipped!;
    this.skipped = undefined;
    this.skippedFilled = 0;
    return skipped;
  }

  private takeBody(): Uint8Array {
    const frame = this.body!; // its capacity never exceeds bodyBytes, so it is exactly full
    this.body = undefined;
    this.bodyFilled = 0;
    this.bodyBytes = -1;
    return frame;
  }

  private fail(error: FrameError): never {
    this.failure = error;
    this.skipped = undefined;
    this.body = undefined;
    this.bodyFilled = 0;
    this.headerFilled = 0;
    throw error;
  }
}

function checkFrameLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > FRAME_SIZE_BYTES_LIMIT) {
    throw new RangeError(`frame length must be an integer in [1, ${FRAME_SIZE_BYTES_LIMIT}], got ${length}`);
  }
}

/** The 4-byte big-endian header for a payload of `length` bytes (for writev-style sends). */
export function encodeFrameHeader(length: number): Buffer {
  checkFrameLength(length);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(length, 0);
  return header;
}

/** One frame: the header followed by a copy of `payload`, ready for `socket.write`. */
export function encodeFrame(payload: Uint8Array): Buffer {
  checkFrameLength(payload.length);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}
