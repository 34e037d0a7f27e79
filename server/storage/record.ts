// The WAL record format. Every record is
//
//   length u32 BE | crc u32 BE | type u8 | payload (length bytes)
//
// where crc = CRC32C(length bytes ‖ type ‖ payload): covering the length too means a damaged length
// inside the file shows up as a checksum failure rather than as a silently mis-parsed stream.
// Payloads (integers big-endian, u64 as two u32 halves, exact up to 2^53):
//   ENTRY      term u64 | index u64 | entry type u8 | data
//   HARD_STATE term u64 | commit u64 | vote (UTF-8, the rest; empty = no vote)
import type { Entry, EntryType, HardState } from '../raft/types.js';
import { crc32c } from './crc32c.js';

export const RECORD_HEADER_BYTES = 9;
export const RECORD_ENTRY = 1;
export const RECORD_HARD_STATE = 2;
export type RecordType = typeof RECORD_ENTRY | typeof RECORD_HARD_STATE;

const ENTRY_FIXED_BYTES = 17;
const HARD_STATE_FIXED_BYTES = 16;
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'noop', 'config'];
const TWO_32 = 2 ** 32;

export type WalRecord = { type: 'entry'; entry: Entry } | { type: 'hard-state'; hardState: HardState };

function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_32), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

/** Fills in the header of a record whose payload is already at `offset + RECORD_HEADER_BYTES`. */
function sealRecord(buf: Buffer, offset: number, type: RecordType, payloadBytes: number): number {
  buf.writeUInt32BE(payloadBytes, offset);
  buf[offset + 8] = type;
  buf.writeUInt32BE(recordChecksum(buf, offset, payloadBytes), offset + 4);
  return offset + RECORD_HEADER_BYTES + payloadBytes;
}

/** The checksum stored for the record at `offset`, recomputed; equal to the stored one when intact. */
export function recordChecksum(buf: Buffer, offset: number, payloadBytes: number): number {
  const payloadStart = offset + RECORD_HEADER_BYTES;
  let crc = crc32c(buf.subarray(offset, offset + 4));
  crc = crc32c(buf.subarray(offset + 8, payloadStart), crc);
  return crc32c(buf.subarray(payloadStart, payloadStart + payloadBytes), crc);
}

export function encodedSaveBytes(hardState: HardState | undefined, entries: readonly Entry[]): number {
  let bytes = 0;
  for (const e of entries) bytes += RECORD_HEADER_BYTES + ENTRY_FIXED_BYTES + e.data.length;
  if (hardState !== undefined) {
    bytes += RECORD_HEADER_BYTES + HARD_STATE_FIXED_BYTES + Buffer.byteLength(hardState.vote, 'utf8');
  }
  return bytes;
}

/**
 * The records of one save as one buffer: the entries first, then the hard state, so a torn save
 * can lose its hard state but never keep a commit index that points past the entries it covers.
 */
export function encodeSave(
  hardState: HardState | undefined,
  entries: readonly Entry[],
  bytes: number,
): Buffer {
  const buf = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const e of entries) {
    const p = at + RECORD_HEADER_BYTES;
    writeU64(buf, p, e.term);
    writeU64(buf, p + 8, e.index);
    buf[p + 16] = ENTRY_TYPES.indexOf(e.type);
    buf.set(e.data, p + ENTRY_FIXED_BYTES);
    at = sealRecord(buf, at, RECORD_ENTRY, ENTRY_FIXED_BYTES + e.data.length);
  }
  if (hardState !== undefined) {
    const p = at + RECORD_HEADER_BYTES;
    writeU64(buf, p, hardState.term);
    writeU64(buf, p + 8, hardState.commit);
    const voteBytes = buf.write(hardState.vote, p + HARD_STATE_FIXED_BYTES, 'utf8');
    at = sealRecord(buf, at, RECORD_HARD_STATE, HARD_STATE_FIXED_BYTES + voteBytes);
  }
  if (at !== bytes) throw new Error(`encodeSave: wrote ${at} bytes, expected ${bytes}`);
  return buf;
}

/** Decodes a checksummed payload; returns a reason string when its contents make no sense. */
export function decodePayload(type: number, payload: Buffer): WalRecord | string {
  if (type === RECORD_ENTRY) {
    if (payload.length < ENTRY_FIXED_BYTES) return `entry record of ${payload.length} bytes is too short`;
    const entryType = ENTRY_TYPES[payload[16]!];
    if (entryType === undefined) return `unknown entry type ${payload[16]}`;
    // Copy the data out so the entries do not pin the whole segment buffer in memory.
    const data = new Uint8Array(payload.subarray(ENTRY_FIXED_BYTES));
    return {
      type: 'entry',
      entry: { term: readU64(payload, 0), index: readU64(payload, 8), type: entryType, data },
    };
  }
  if (type === RECORD_HARD_STATE) {
    if (payload.length < HARD_STATE_FIXED_BYTES)
      return `hard-state record of ${payload.length} bytes is too short`;
    const vote = payload.toString('utf8', HARD_STATE_FIXED_BYTES);
    return {
      type: 'hard-state',
      hardState: { term: readU64(payload, 0), commit: readU64(payload, 8), vote },
    };
  }
  return `unknown record type ${type}`;
}
