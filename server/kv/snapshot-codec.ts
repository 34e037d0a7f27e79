// The byte format of a key-value snapshot: a small, versioned, length-prefixed layout written and
// read here only (protobuf would need a schema change for an internal image; this is 120 lines).
//   magic "RLKV", version u8, applied f64, key count u32, then per key: bytes key, bytes value;
//   session count u32, then per session (oldest idle first): clientId f64, lastIndex f64, floor f64,
//   result count u32, per result: sequence f64, result; expired-client count u32, clientId f64 each.
//   bytes = u32 length + raw; a result = u8 kind (0 error, 1 ok) then, for ok, u8 flags
//   (1 found, 2 existed, 4 has value, 8 found present, 16 existed present) [+ bytes value]; for an
//   error: string code, string message, u8 definite, string leaderHint, string leaderAddress.
// Numbers are float64: indexes, sequences and client ids are integers below 2^53.
import type { ErrorCodeName } from '../../shared/errors.js';
import type { SessionResult } from './session.js';

const MAGIC = [0x52, 0x4c, 0x4b, 0x56]; // "RLKV"
const VERSION = 1;

export class SnapshotFormatError extends Error {}

export class ByteWriter {
  private buffer = new Uint8Array(1024);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.length++, v);
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.length, v);
    this.length += 8;
  }

  bytes(v: Uint8Array): void {
    this.u32(v.length);
    this.room(v.length);
    this.buffer.set(v, this.length);
    this.length += v.length;
  }

  string(v: string): void {
    this.bytes(new TextEncoder().encode(v));
  }

  header(): void {
    for (const b of MAGIC) this.u8(b);
    this.u8(VERSION);
  }

  result(r: SessionResult): void {
    if (!r.ok) {
      this.u8(0);
      this.string(r.error.code);
      this.string(r.error.message);
      this.u8(r.error.definite ? 1 : 0);
      this.string(r.error.leaderHint ?? '');
      this.string(r.error.leaderAddress ?? '');
      return;
    }
    this.u8(1);
    const flags =
      (r.found === true ? 1 : 0) |
      (r.existed === true ? 2 : 0) |
      (r.value !== undefined ? 4 : 0) |
      (r.found !== undefined ? 8 : 0) |
      (r.existed !== undefined ? 16 : 0);
    this.u8(flags);
    if (r.value !== undefined) this.bytes(r.value);
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private at = 0;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private need(bytes: number): void {
    if (this.at + bytes > this.data.length)
      throw new SnapshotFormatError(`snapshot truncated at byte ${this.at} (needs ${bytes} more)`);
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at);
    this.at += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.at);
    this.at += 8;
    return v;
  }

  bytes(): Uint8Array {
    const length = this.u32();
    this.need(length);
    const v = this.data.slice(this.at, this.at + length);
    this.at += length;
    return v;
  }

  string(): string {
    return new TextDecoder().decode(this.bytes());
  }

  header(): void {
    for (const b of MAGIC) if (this.u8() !== b) throw new SnapshotFormatError('not a key-value snapshot');
    const version = this.u8();
    if (version !== VERSION)
      throw new SnapshotFormatError(`snapshot version ${version}, expected ${VERSION}`);
  }

  result(): SessionResult {
    if (this.u8() === 0) {
      const code = this.string() as ErrorCodeName;
      const message = this.string();
      const definite = this.u8() === 1;
      const leaderHint = this.string();
      const leaderAddress = this.string();
      const error = {
        code,
        message,
        definite,
        ...(leaderHint !== '' ? { leaderHint } : {}),
        ...(leaderAddress !== '' ? { leaderAddress } : {}),
      };
      return { ok: false, error };
    }
    const flags = this.u8();
    const r: { ok: true; found?: boolean; value?: Uint8Array; existed?: boolean } = { ok: true };
    if (flags & 8) r.found = (flags & 1) !== 0;
    if (flags & 16) r.existed = (flags & 2) !== 0;
    if (flags & 4) r.value = this.bytes();
    return r;
  }

  end(): void {
    if (this.at !== this.data.length)
      throw new SnapshotFormatError(`${this.data.length - this.at} bytes after the end of the snapshot`);
  }
}
