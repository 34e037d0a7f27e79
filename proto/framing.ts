// Length-prefixed framing: every frame is a 4-byte big-endian length followed by that many bytes.
// The decoder does no I/O (nats.js style): the transport pushes whatever chunks the socket gives it
// and gets back whole frames. The length is checked against the configured maximum as soon as its
// four bytes are known, before a single byte of the body is kept, so a hostile or confused peer
// cannot make us buffer a gigabyte (porsager/postgres trusts the length; we do not).
import type { ErrorInfo } from './errors.js';

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

/**
 * Splits a byte stream into frames. Chunks are kept in a list (never concatenated per push);
 * a frame that lies inside one chunk is returned as a view of that chunk without copying, so the
 * caller must not reuse a chunk's memory after pushing it (Node's socket chunks are fresh buffers).
 * After a FrameError the decoder stays failed: the stream has lost its frame boundaries.
 */
export class FrameDecoder {
  readonly frameSizeBytesMax: number;
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  private bufferedBytes = 0; // unconsumed bytes across all chunks
  private bodyBytes = -1; // length of the frame being read, -1 while its header is incomplete
  private failure: FrameError | undefined;

  constructor(frameSizeBytesMax: number) {
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
  }

  /** Bytes received but not yet returned as frames (at most one header plus one frame body). */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  /** Feeds one chunk; returns the frames it completes (possibly none). Throws FrameError on bad framing. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure !== undefined) {
      throw new FrameError('DECODER_FAILED', `decoder already failed: ${this.failure.reason}`);
    }
    const frames: Uint8Array[] = [];
    if (chunk.length === 0) return frames;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    for (;;) {
      if (this.bodyBytes < 0) {
        if (this.bufferedBytes < FRAME_HEADER_BYTES) break;
        this.bodyBytes = this.readLength();
      }
      if (this.bufferedBytes < this.bodyBytes) break;
      frames.push(this.take(this.bodyBytes));
      this.bodyBytes = -1;
    }
    return frames;
  }

  private readLength(): number {
    const header = this.take(FRAME_HEADER_BYTES);
    // `>>> 0` keeps the top bit from making the length negative.
    const length = ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
    if (length > this.frameSizeBytesMax) {
      this.fail(
        new FrameError(
          'FRAME_TOO_LARGE',
          `frame length ${length} bytes exceeds frameSizeBytesMax ${this.frameSizeBytesMax}`,
        ),
      );
    }
    if (length === 0)
      this.fail(new FrameError('FRAME_EMPTY', 'zero-length frame (an envelope is never empty)'));
    return length;
  }

  private fail(error: FrameError): never {
    this.failure = error;
    this.chunks = [];
    this.bufferedBytes = 0;
    this.head = 0;
    throw error;
  }

  /** Removes `n` buffered bytes (n <= bufferedBytes): a view when they lie in one chunk, else a copy. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    const available = first.length - this.head;
    if (available >= n) {
      const view = first.subarray(this.head, this.head + n);
      this.consume(n);
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const count = Math.min(chunk.length - this.head, n - filled);
      out.set(chunk.subarray(this.head, this.head + count), filled);
      filled += count;
      this.consume(count);
    }
    return out;
  }

  /** Advances past `n` bytes of the first chunk (n <= what it has left). */
  private consume(n: number): void {
    this.head += n;
    this.bufferedBytes -= n;
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
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
