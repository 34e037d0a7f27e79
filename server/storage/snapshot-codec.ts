// The snapshot file format: pure encode/decode, no I/O (the store in snapshot-store.ts does the
// files). One file holds one snapshot:
//
//   offset 0   magic       8 bytes "RLABSNAP"
//   offset 8   version     u32 BE (1)
//   offset 12  index       u64 BE   the last log index the state covers
//   offset 20  term        u64 BE   that entry's term
//   offset 28  dataBytes   u64 BE
//   offset 36  headerCrc   u32 BE   CRC32C of bytes 0..36
//   offset 40  data        dataBytes bytes (KvStateMachine.snapshot())
//   then       dataCrc     u32 BE   CRC32C of the data
//
// The header has its own checksum so that a damaged length or index is reported as such (and at its
// offset) instead of as a data checksum failure somewhere else.
import type { Snapshot } from '../raft/types.js';
import { crc32c } from './crc32c.js';
import { SnapshotCorruptError } from './errors.js';

export const SNAPSHOT_MAGIC = 'RLABSNAP';
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 40;
const HEADER_CRC_OFFSET = 36;
const TRAILER_BYTES = 4;
const TWO_32 = 2 ** 32;

function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_32), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

/** The bytes of a snapshot file. */
export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const { meta, data } = snapshot;
  if (
    !Number.isSafeInteger(meta.index) ||
    meta.index < 1 ||
    !Number.isSafeInteger(meta.term) ||
    meta.term < 1
  )
    throw new Error(`snapshot invariant: meta must be positive integers, got ${JSON.stringify(meta)}`);
  const buf = Buffer.allocUnsafe(SNAPSHOT_HEADER_BYTES + data.length + TRAILER_BYTES);
  buf.write(SNAPSHOT_MAGIC, 0, 'latin1');
  buf.writeUInt32BE(SNAPSHOT_VERSION, 8);
  writeU64(buf, 12, meta.index);
  writeU64(buf, 20, meta.term);
  writeU64(buf, 28, data.length);
  buf.writeUInt32BE(crc32c(buf, 0, 0, HEADER_CRC_OFFSET), HEADER_CRC_OFFSET);
  buf.set(data, SNAPSHOT_HEADER_BYTES);
  buf.writeUInt32BE(crc32c(data), SNAPSHOT_HEADER_BYTES + data.length);
  return buf;
}

/** Decodes a snapshot file; throws SnapshotCorruptError naming `file` and the offset of the damage. */
export function decodeSnapshot(buf: Buffer, file: string): Snapshot {
  const fail = (offset: number, reason: string): never => {
    throw new SnapshotCorruptError(file, offset, reason);
  };
  if (buf.length < SNAPSHOT_HEADER_BYTES)
    fail(buf.length, `file of ${buf.length} bytes is shorter than the ${SNAPSHOT_HEADER_BYTES}-byte header`);
  if (buf.toString('latin1', 0, 8) !== SNAPSHOT_MAGIC) fail(0, `bad magic (not a raftlab snapshot)`);
  if (crc32c(buf, 0, 0, HEADER_CRC_OFFSET) !== buf.readUInt32BE(HEADER_CRC_OFFSET))
    fail(HEADER_CRC_OFFSET, 'header checksum mismatch');
  const version = buf.readUInt32BE(8);
  if (version !== SNAPSHOT_VERSION)
    fail(8, `unsupported version ${version} (this build reads ${SNAPSHOT_VERSION})`);
  const meta = { index: readU64(buf, 12), term: readU64(buf, 20) };
  if (meta.index < 1 || meta.term < 1) fail(12, `impossible meta index ${meta.index} term ${meta.term}`);
  const dataBytes = readU64(buf, 28);
  const expected = SNAPSHOT_HEADER_BYTES + dataBytes + TRAILER_BYTES;
  if (buf.length !== expected)
    fail(
      Math.min(buf.length, expected),
      `header says ${expected} bytes in all but the file holds ${buf.length}`,
    );
  const dataEnd = SNAPSHOT_HEADER_BYTES + dataBytes;
  if (crc32c(buf, 0, SNAPSHOT_HEADER_BYTES, dataEnd) !== buf.readUInt32BE(dataEnd))
    fail(dataEnd, `data checksum mismatch (data at bytes ${SNAPSHOT_HEADER_BYTES}..${dataEnd})`);
  return { meta, data: buf.subarray(SNAPSHOT_HEADER_BYTES, dataEnd) };
}
