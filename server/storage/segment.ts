// Segment files and how one is read back. The log is a numbered series of files
// (wal/0000000000000001.log, ...); records never span two files, and a new file is started only
// after everything in the previous one was synced, so only the LAST segment can end in a torn write.
import { join } from 'node:path';
import { WalCorruptError } from './errors.js';
import type { WalFs } from './fs.js';
import { decodePayload, RECORD_HEADER_BYTES, recordChecksum, type WalRecord } from './record.js';

const SEGMENT_NAME = /^(\d{16})\.log$/;

export function segmentName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.log`;
}

/** The segment sequence numbers in `walDir`, ascending; a gap means a lost file and is corruption. */
export async function listSegments(fs: WalFs, walDir: string): Promise<number[]> {
  const seqs: number[] = [];
  for (const name of await fs.readdir(walDir)) {
    const match = SEGMENT_NAME.exec(name);
    if (match) seqs.push(Number(match[1]));
  }
  seqs.sort((a, b) => a - b);
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== seqs[i - 1]! + 1) {
      throw new WalCorruptError(join(walDir, segmentName(seqs[i - 1]! + 1)), 0, 'segment file is missing');
    }
  }
  return seqs;
}

export interface SegmentScan {
  /** Bytes of whole, valid records from the start; the file is cut here when `torn` is set. */
  readonly validBytes: number;
  /** Why the tail after `validBytes` was judged a torn write (only ever for the last segment). */
  readonly torn: string | undefined;
}

function allZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Why the bytes at `offset` are not a whole valid record, and whether that can only be a torn
 * final write ('torn') or must be damage to data that may have been acknowledged ('corrupt').
 */
function classify(
  buf: Buffer,
  offset: number,
  isLast: boolean,
): { kind: 'torn' | 'corrupt'; reason: string } | undefined {
  const remaining = buf.length - offset;
  if (remaining < RECORD_HEADER_BYTES) {
    return { kind: isLast ? 'torn' : 'corrupt', reason: `partial record header (${remaining} bytes)` };
  }
  const payloadBytes = buf.readUInt32BE(offset);
  const end = offset + RECORD_HEADER_BYTES + payloadBytes;
  if (end > buf.length) {
    const reason = `partial record (${remaining} of ${RECORD_HEADER_BYTES + payloadBytes} bytes)`;
    return { kind: isLast ? 'torn' : 'corrupt', reason };
  }
  if (recordChecksum(buf, offset, payloadBytes) !== buf.readUInt32BE(offset + 4)) {
    // A torn write damages only the final record; a zero-filled tail is what some filesystems
    // leave when the size was updated but the data blocks were not. The zeros may start inside
    // this record, after its length survived: then only zeros follow its end (a write of several
    // records cut in its first; found by the simulator's WAL disk, which refused to restart).
    const tail = isLast && allZero(buf, end);
    return { kind: tail ? 'torn' : 'corrupt', reason: 'checksum mismatch' };
  }
  return undefined;
}

/**
 * Passes every record of one segment to `onRecord` (with its byte offset, for error messages);
 * throws WalCorruptError for damage that is not a torn tail.
 */
export function scanSegment(
  buf: Buffer,
  file: string,
  isLast: boolean,
  onRecord: (record: WalRecord, offset: number) => void,
): SegmentScan {
  let offset = 0;
  while (offset < buf.length) {
    const problem = classify(buf, offset, isLast);
    if (problem?.kind === 'torn') return { validBytes: offset, torn: `${problem.reason} at byte ${offset}` };
    if (problem) throw new WalCorruptError(file, offset, problem.reason);
    const payloadBytes = buf.readUInt32BE(offset);
    const start = offset + RECORD_HEADER_BYTES;
    const record = decodePayload(buf[offset + 8]!, buf, start, payloadBytes);
    if (typeof record === 'string') throw new WalCorruptError(file, offset, record);
    onRecord(record, offset);
    offset = start + payloadBytes;
  }
  return { validBytes: offset, torn: undefined };
}
