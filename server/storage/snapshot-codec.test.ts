import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, SnapshotCorruptError } from './index.js';
import { SNAPSHOT_HEADER_BYTES } from './snapshot-codec.js';

const snapshot = {
  meta: { index: 2 ** 40 + 7, term: 2 ** 33 + 1 },
  data: Buffer.from('keys, values and sessions'),
};

function corruptAt(buf: Buffer): SnapshotCorruptError {
  try {
    decodeSnapshot(buf, '/d/snap/x.snap');
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotCorruptError);
    return error as SnapshotCorruptError;
  }
  throw new Error('damaged snapshot decoded without an error');
}

describe('snapshot file codec', () => {
  it('round-trips meta above 2^32 and the data, and an empty image', () => {
    const decoded = decodeSnapshot(encodeSnapshot(snapshot), 'f');
    expect(decoded.meta).toEqual(snapshot.meta);
    expect(Buffer.from(decoded.data).toString()).toBe('keys, values and sessions');
    const empty = decodeSnapshot(
      encodeSnapshot({ meta: { index: 1, term: 1 }, data: new Uint8Array() }),
      'f',
    );
    expect(empty.data.length).toBe(0);
  });

  it('refuses every single flipped byte, naming the file and the offset of the check that failed', () => {
    const good = encodeSnapshot(snapshot);
    const dataEnd = SNAPSHOT_HEADER_BYTES + snapshot.data.length;
    for (let i = 0; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] = bad[i]! ^ 0x10;
      const error = corruptAt(bad);
      expect(error.code).toBe('SNAPSHOT_CORRUPT');
      expect(error.message).toContain('/d/snap/x.snap');
      const expected = i < 8 ? 0 : i < SNAPSHOT_HEADER_BYTES ? 36 : dataEnd;
      expect(error.offset, `flip at byte ${i}: ${error.reason}`).toBe(expected);
    }
  });

  it('refuses the file cut at every length and with bytes appended', () => {
    const good = encodeSnapshot(snapshot);
    for (let n = 0; n < good.length; n++)
      expect(corruptAt(good.subarray(0, n)).code).toBe('SNAPSHOT_CORRUPT');
    expect(corruptAt(Buffer.concat([good, Buffer.from([0])])).reason).toMatch(/header says \d+ bytes/);
  });

  it('refuses to encode an impossible meta (an assertion, not a file)', () => {
    expect(() => encodeSnapshot({ meta: { index: 0, term: 1 }, data: new Uint8Array() })).toThrow(
      /invariant/,
    );
  });
});
