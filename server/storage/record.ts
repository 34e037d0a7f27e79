// The WAL record format. Every record is
//
//   length u32 BE | crc u32 BE | type u8 | payload (length bytes)
//
// where crc = CRC32C(length bytes ‖ type ‖ payload): covering the length too means a damaged length
// inside the file shows up as a checksum failure rather than as a silently mis-parsed stream.
// Payloads (integers big-endian, u64 as two u32 halves, exact up to 2^53):
//   ENTRY      term u64 | index u64 | entry type u8 | data
//   HARD_STATE term u64 | commit u64 | vote (UTF-8, the rest; empty = no vote)
//   HARD_STATE_RECOVERING  term u64 | commit u64 | recoveryIndex u64 | vote (the rest)
//   LOG_START  index u64 | term u64   (the log now starts after this entry: a snapshot covers it)
// The third is written only while a node recovers from lost state (recoveryIndex > 0, rare), so
// the common hard state keeps its format and logs written before it existed replay unchanged.
import type { Entry, EntryType, HardState, SnapshotMeta } from '../raft/types.js';
import { crc32c } from './crc32c.js';

export const RECORD_HEADER_BYTES = 9;
export const RECORD_ENTRY = 1;
export const RECORD_HARD_STATE = 2;
export const RECORD_HARD_STATE_RECOVERING = 3;
export const RECORD_LOG_START = 4;
export type RecordType =
  | typeof RECORD_ENTRY
  | typeof RECORD_HARD_STATE
  | typeof RECORD_HARD_STATE_RECOVERING
  | typeof RECORD_LOG_START;

const ENTRY_FIXED_BYTES = 17;
const HARD_STATE_FIXED_BYTES = 16;
const RECOVERY_INDEX_BYTES = 8;
const LOG_START_BYTES = 16;
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'noop', 'config'];
const TWO_32 = 2 ** 32;

export type WalRecord =
  | { type: 'entry'; entry: Entry }
  | { type: 'hard-state'; hardState: HardState }
  | { type: 'log-start'; meta: SnapshotMeta };

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

/** The checksum of the record at `offset`, recomputed; equal to the stored one when intact. */
export function recordChecksum(buf: Buffer, offset: number, payloadBytes: number): number {
  const crc = crc32c(buf, 0, offset, offset + 4); // the length
  return crc32c(buf, crc, offset + 8, offset + RECORD_HEADER_BYTES + payloadBytes); // type and payload
}

export function encodedSaveBytes(
  hardState: HardState | undefined,
  entries: readonly Entry[],
  logStart?: SnapshotMeta,
): number {
  let bytes = logStart === undefined ? 0 : RECORD_HEADER_BYTES + LOG_START_BYTES;
  for (const e of entries) bytes += RECORD_HEADER_BYTES + ENTRY_FIXED_BYTES + e.data.length;
  if (hardState !== undefined) {
    bytes += RECORD_HEADER_BYTES + hardStateFixedBytes(hardState) + Buffer.byteLength(hardState.vote, 'utf8');
  }
  return bytes;
}

function hardStateFixedBytes(hardState: HardState): number {
  return (hardState.recoveryIndex ?? 0) > 0
    ? HARD_STATE_FIXED_BYTES + RECOVERY_INDEX_BYTES
    : HARD_STATE_FIXED_BYTES;
}

/**
 * The records of one save as one buffer: the log start first (entries after it continue it), then
 * the entries, then the hard state, so a torn save can lose its hard state but never keep a commit
 * index that points past the entries it covers.
 */
export function encodeSave(
  hardState: HardState | undefined,
  entries: readonly Entry[],
  bytes: number,
  logStart?: SnapshotMeta,
): Buffer {
  const buf = Buffer.allocUnsafe(bytes);
  let at = 0;
  if (logStart !== undefined) {
    writeU64(buf, RECORD_HEADER_BYTES, logStart.index);
    writeU64(buf, RECORD_HEADER_BYTES + 8, logStart.term);
    at = sealRecord(buf, 0, RECORD_LOG_START, LOG_START_BYTES);
  }
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
    const fixed = hardStateFixedBytes(hardState);
    writeU64(buf, p, hardState.term);
    writeU64(buf, p + 8, hardState.commit);
    if (fixed > HARD_STATE_FIXED_BYTES) writeU64(buf, p + 16, hardState.recoveryIndex ?? 0);
    const voteBytes = buf.write(hardState.vote, p + fixed, 'utf8');
    const type = fixed > HARD_STATE_FIXED_BYTES ? RECORD_HARD_STATE_RECOVERING : RECORD_HARD_STATE;
    at = sealRecord(buf, at, type, fixed + voteBytes);
  }
  if (at !== bytes) throw new Error(`encodeSave: wrote ${at} bytes, expected ${bytes}`);
  return buf;
}

/**
 * Decodes the checksummed payload at `buf[start, start + length)`; returns a reason string when its
 * contents make no sense. Reads in place: no per-record subarray on this replay hot path.
 */
export function decodePayload(type: number, buf: Buffer, start: number, length: number): WalRecord | string {
  if (type === RECORD_ENTRY) {
    if (length < ENTRY_FIXED_BYTES) return `entry record of ${length} bytes is too short`;
    const entryType = ENTRY_TYPES[buf[start + 16]!];
    if (entryType === undefined) return `unknown entry type ${buf[start + 16]}`;
    // A view into the segment buffer, not a copy: the log keeps every entry in memory anyway, so
    // sharing the buffer costs only its record headers, and replay runs about twice as fast.
    const data = new Uint8Array(
      buf.buffer,
      buf.byteOffset + start + ENTRY_FIXED_BYTES,
      length - ENTRY_FIXED_BYTES,
    );
    return {
      type: 'entry',
      entry: { term: readU64(buf, start), index: readU64(buf, start + 8), type: entryType, data },
    };
  }
  if (type === RECORD_HARD_STATE) {
    if (length < HARD_STATE_FIXED_BYTES) return `hard-state record of ${length} bytes is too short`;
    const vote = buf.toString('utf8', start + HARD_STATE_FIXED_BYTES, start + length);
    return {
      type: 'hard-state',
      hardState: { term: readU64(buf, start), commit: readU64(buf, start + 8), vote },
    };
  }
  if (type === RECORD_HARD_STATE_RECOVERING) {
    const fixed = HARD_STATE_FIXED_BYTES + RECOVERY_INDEX_BYTES;
    if (length < fixed) return `hard-state record of ${length} bytes is too short`;
    const recoveryIndex = readU64(buf, start + 16);
    if (recoveryIndex === 0) return 'recovering hard-state record with recovery index 0';
    const vote = buf.toString('utf8', start + fixed, start + length);
    return {
      type: 'hard-state',
      hardState: { term: readU64(buf, start), commit: readU64(buf, start + 8), vote, recoveryIndex },
    };
  }
  if (type === RECORD_LOG_START) {
    if (length !== LOG_START_BYTES)
      return `log-start record of ${length} bytes (expected ${LOG_START_BYTES})`;
    return { type: 'log-start', meta: { index: readU64(buf, start), term: readU64(buf, start + 8) } };
  }
  return `unknown record type ${type}`;
}
