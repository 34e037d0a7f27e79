import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  encodeFrameHeader,
  FrameDecoder,
  FrameError,
  OVERSIZED_PREFIX_BYTES,
  OversizedFrame,
} from './framing.js';

function stream(payloads: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(payloads.map((p) => encodeFrame(p)));
}

function decodeAll(decoder: FrameDecoder, chunks: readonly Uint8Array[]): Uint8Array[] {
  return chunks.flatMap((chunk) => decoder.push(chunk)).map((f) => Uint8Array.from(f));
}

const payloads = [
  Uint8Array.of(1),
  Uint8Array.from(Buffer.from('hello, raft')),
  new Uint8Array(300).map((_, i) => i & 0xff),
  Uint8Array.of(0, 0, 0, 0),
  Uint8Array.of(0xff, 0xfe),
];

describe('FrameDecoder', () => {
  it('yields the same frames for every split point of a valid stream (nats.js byte-by-byte test)', () => {
    const bytes = stream(payloads);
    for (let split = 0; split <= bytes.length; split++) {
      const frames = decodeAll(new FrameDecoder(1024), [bytes.subarray(0, split), bytes.subarray(split)]);
      expect(frames).toEqual(payloads);
    }
  });

  it('yields the same frames for every PAIR of split points of a short stream (three chunks)', () => {
    const small = [4, 6, 5, 2, 1].map((n, k) => Uint8Array.from({ length: n }, (_, i) => k * 16 + i));
    const bytes = stream(small);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const chunks = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
        expect(decodeAll(new FrameDecoder(64), chunks), `splits ${i}, ${j}`).toEqual(small);
      }
    }
  });

  it('yields the same frames when fed one byte at a time', () => {
    const bytes = stream(payloads);
    const decoder = new FrameDecoder(1024);
    const frames = decodeAll(
      decoder,
      Array.from(bytes, (b) => Uint8Array.of(b)),
    );
    expect(frames).toEqual(payloads);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('yields the same frames for any chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 12 }),
        (frames, cuts) => {
          const bytes = stream(frames);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let from = 0;
          for (const p of [...points, bytes.length]) {
            chunks.push(bytes.subarray(from, p));
            from = p;
          }
          expect(decodeAll(new FrameDecoder(256), chunks)).toEqual(frames);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reassembles a 100 KB frame trickled one byte at a time, with pendingBytes counting what arrived', () => {
    const payload = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
    const bytes = encodeFrame(payload);
    const decoder = new FrameDecoder(1 << 20);
    let frames: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) {
      frames = decoder.push(bytes.subarray(i, i + 1));
      if (i === 50_000) expect(decoder.pendingBytes).toBe(50_001 - 4);
      if (i < bytes.length - 1) expect(frames).toEqual([]);
    }
    expect(frames).toHaveLength(1);
    expect(Buffer.from(frames[0]!).equals(Buffer.from(payload))).toBe(true);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('returns a frame that lies inside one chunk as a view of that chunk (no copy)', () => {
    const chunk = encodeFrame(Uint8Array.of(5, 6, 7));
    const [frame] = new FrameDecoder(16).push(chunk);
    expect(frame!.buffer).toBe(chunk.buffer);
  });

  it('keeps a partial frame pending until its last byte arrives', () => {
    const decoder = new FrameDecoder(64);
    const bytes = encodeFrame(Uint8Array.of(7, 8, 9));
    expect(decoder.push(bytes.subarray(0, 6))).toEqual([]);
    expect(decoder.pendingBytes).toBe(2);
    expect(decoder.push(bytes.subarray(6)).map((f) => Array.from(f))).toEqual([[7, 8, 9]]);
  });

  it('accepts a frame of exactly frameSizeBytesMax', () => {
    const decoder = new FrameDecoder(16);
    expect(decoder.push(encodeFrame(new Uint8Array(16)))).toHaveLength(1);
  });

  it('rejects an oversized length as soon as the header is complete, before the body arrives', () => {
    const decoder = new FrameDecoder(16);
    const header = encodeFrameHeader(17);
    expect(decoder.push(header.subarray(0, 3))).toEqual([]);
    let error: unknown;
    try {
      decoder.push(header.subarray(3));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FrameError);
    expect((error as FrameError).code).toBe('FRAME_TOO_LARGE');
    expect((error as FrameError).reason).toMatch(/17 bytes exceeds frameSizeBytesMax 16/);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('rejects an oversized length even when the body bytes come in the same chunk', () => {
    const decoder = new FrameDecoder(4);
    expect(() => decoder.push(encodeFrame(new Uint8Array(5)))).toThrow(FrameError);
  });

  it('rejects a zero-length frame', () => {
    const decoder = new FrameDecoder(16);
    expect(() => decoder.push(Uint8Array.of(0, 0, 0, 0))).toThrow(/FRAME_EMPTY/);
  });

  it('stays failed after an error (the stream has lost its frame boundaries)', () => {
    const decoder = new FrameDecoder(16);
    expect(() => decoder.push(Uint8Array.of(0, 0, 0, 0))).toThrow(FrameError);
    expect(() => decoder.push(encodeFrame(Uint8Array.of(1)))).toThrow(
      /DECODER_FAILED: decoder already failed/,
    );
  });

  it('rejects an HTTP request sent to the port (its first four bytes are a huge length)', () => {
    const decoder = new FrameDecoder(1 << 20);
    expect(() => decoder.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toThrow(
      /frame length 1195725856 bytes exceeds/,
    );
  });

  it('on garbage either returns frames within the limit or throws FrameError, nothing else', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const decoder = new FrameDecoder(32);
        try {
          for (const frame of decodeAll(decoder, chunks)) {
            expect(frame.length).toBeGreaterThan(0);
            expect(frame.length).toBeLessThanOrEqual(32);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(FrameError);
        }
        expect(decoder.pendingBytes).toBeLessThanOrEqual(4 + 32);
      }),
      { numRuns: 300 },
    );
  });

  it('skips an oversized frame within oversizedSkipBytesMax and returns its first bytes, at every split point', () => {
    const big = Uint8Array.from({ length: 100 }, (_, i) => i);
    const bytes = stream([Uint8Array.of(1, 2), big, Uint8Array.of(3)]);
    for (let split = 0; split <= bytes.length; split++) {
      const decoder = new FrameDecoder(16, { oversizedSkipBytesMax: 1000 });
      const frames = [bytes.subarray(0, split), bytes.subarray(split)].flatMap((c) => decoder.push(c));
      expect(frames.map((f) => f instanceof OversizedFrame)).toEqual([false, true, false]);
      const skipped = frames[1] as OversizedFrame;
      expect(skipped.frameBytes).toBe(100);
      expect(Array.from(skipped)).toEqual(Array.from(big.subarray(0, OVERSIZED_PREFIX_BYTES)));
      expect(Array.from(frames[2]!)).toEqual([3]);
      expect(decoder.pendingBytes).toBe(0);
    }
  });

  it('keeps at most a prefix of a skipped frame, one byte at a time', () => {
    const decoder = new FrameDecoder(8, { oversizedSkipBytesMax: 1 << 20 });
    const bytes = encodeFrame(new Uint8Array(5000).fill(7));
    const frames: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) {
      frames.push(...decoder.push(bytes.subarray(i, i + 1)));
      expect(decoder.pendingBytes).toBeLessThanOrEqual(OVERSIZED_PREFIX_BYTES + 4);
    }
    expect(frames).toHaveLength(1);
    expect((frames[0] as OversizedFrame).frameBytes).toBe(5000);
  });

  it('still fails at the header when a frame is over oversizedSkipBytesMax too', () => {
    const decoder = new FrameDecoder(8, { oversizedSkipBytesMax: 100 });
    expect(() => decoder.push(encodeFrameHeader(101))).toThrow(/101 bytes exceeds frameSizeBytesMax 8/);
  });

  it('refuses a maximum that a 4-byte header cannot express', () => {
    expect(() => new FrameDecoder(0)).toThrow(RangeError);
    expect(() => new FrameDecoder(2 ** 32)).toThrow(RangeError);
  });
});

describe('encodeFrame', () => {
  it('writes a big-endian length then the payload', () => {
    expect(Array.from(encodeFrame(Uint8Array.of(0xaa, 0xbb)))).toEqual([0, 0, 0, 2, 0xaa, 0xbb]);
    expect(Array.from(encodeFrameHeader(0x01020304))).toEqual([1, 2, 3, 4]);
  });

  it('refuses an empty payload (the decoder would reject it)', () => {
    expect(() => encodeFrame(new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('FrameError.toErrorInfo', () => {
  it('maps an oversized frame to TOO_LARGE and other framing errors to BAD_REQUEST, both definite', () => {
    const big = new FrameError('FRAME_TOO_LARGE', 'frame length 9 bytes exceeds frameSizeBytesMax 8');
    expect(big.toErrorInfo()).toEqual({
      code: 'TOO_LARGE',
      message: `bad framing: ${big.reason}`,
      definite: true,
    });
    expect(new FrameError('FRAME_EMPTY', 'x').toErrorInfo().code).toBe('BAD_REQUEST');
  });
});
