// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4 metadata and
// etcd's WAL. Slicing-by-8: eight 256-entry tables let the inner loop consume 8 bytes per step
// instead of 1 (about 5x faster than the byte-wise loop in V8). Written here rather than taken from
// npm because it is 40 lines, has no native build step, and is pinned by the RFC 3720 vectors in
// crc32c.test.ts.

const POLYNOMIAL = 0x82f63b78;

function makeTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    t0[n] = c >>> 0;
  }
  // tables[k][n] = CRC of byte n followed by k zero bytes.
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let k = 1; k < 8; k++) {
      c = (t0[c & 0xff]! ^ (c >>> 8)) >>> 0;
      tables[k]![n] = c;
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = makeTables() as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

/**
 * Continues a CRC32C over `bytes[from, to)` (pass the previous result as `crc` to checksum pieces
 * in turn). The range parameters spare callers a subarray per call, which costs more than the
 * checksum itself for small records.
 */
export function crc32c(bytes: Uint8Array, crc = 0, from = 0, to = bytes.length): number {
  let c = ~crc >>> 0;
  let i = from;
  const end8 = to - ((to - from) % 8);
  for (; i < end8; i += 8) {
    const lo = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      T7[lo & 0xff]! ^
      T6[(lo >>> 8) & 0xff]! ^
      T5[(lo >>> 16) & 0xff]! ^
      T4[lo >>> 24]! ^
      T3[bytes[i + 4]!]! ^
      T2[bytes[i + 5]!]! ^
      T1[bytes[i + 6]!]! ^
      T0[bytes[i + 7]!]!;
  }
  for (; i < to; i++) c = T0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The textbook bit-at-a-time CRC32C, kept as the reference the fast version is tested against. */
export function crc32cBitwise(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
  }
  return ~c >>> 0;
}
