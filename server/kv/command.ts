// The bytes of one KV command in a log entry (type 'normal'). A compact hand-rolled binary encoding:
// it is decoded on every apply on every replica, so it stays allocation-light and needs no codegen.
//
//   byte 0      format version (1)
//   byte 1      op code: 1 put, 2 delete, 3 cas, 4 append, 5 get; 0x80 set on cas = "expected absent"
//   varint      clientId, sequence, ackedSequence (unsigned, up to 2^53)
//   then per op length-prefixed (varint) byte strings: key [, expected] [, value]
//
// Decoding is strict: a truncated, overlong or trailing-garbage input throws KvCommandError, so a
// corrupt entry never turns into a different command.

export type KvOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'delete'; key: Uint8Array }
  | { type: 'cas'; key: Uint8Array; expected: Uint8Array | null; value: Uint8Array }
  | { type: 'append'; key: Uint8Array; value: Uint8Array }
  | { type: 'get'; key: Uint8Array };

export type KvOpType = KvOp['type'];

/** clientId 0 or sequence 0 means "no session": the command is applied every time it is committed. */
export interface KvCommand {
  clientId: number;
  sequence: number;
  ackedSequence: number;
  op: KvOp;
}

export class KvCommandError extends Error {
  constructor(message: string) {
    super(`bad KV command: ${message}`);
    this.name = 'KvCommandError';
  }
}

const FORMAT_VERSION = 1;
const CAS_EXPECTED_ABSENT = 0x80;
const OP_CODES: Readonly<Record<KvOpType, number>> = { put: 1, delete: 2, cas: 3, append: 4, get: 5 };
const VARINT_BYTES_MAX = 8; // 7 bits each: 56 bits covers every safe integer

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function checkUint(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new KvCommandError(`${name} must be a safe unsigned integer, got ${n}`);
}

class Writer {
  readonly bytes: Uint8Array;
  private offset = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  byte(b: number): void {
    this.bytes[this.offset++] = b;
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.bytes[this.offset++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.bytes[this.offset++] = n;
  }
  blob(b: Uint8Array): void {
    this.varint(b.length);
    this.bytes.set(b, this.offset);
    this.offset += b.length;
  }
}

/** The byte strings an op carries, in wire order. */
function opBlobs(op: KvOp): Uint8Array[] {
  switch (op.type) {
    case 'put':
    case 'append':
      return [op.key, op.value];
    case 'cas':
      return op.expected === null ? [op.key, op.value] : [op.key, op.expected, op.value];
    case 'delete':
    case 'get':
      return [op.key];
  }
}

export function encodeCommand(c: KvCommand): Uint8Array {
  checkUint('clientId', c.clientId);
  checkUint('sequence', c.sequence);
  checkUint('ackedSequence', c.ackedSequence);
  const blobs = opBlobs(c.op);
  let size = 2 + varintSize(c.clientId) + varintSize(c.sequence) + varintSize(c.ackedSequence);
  for (const b of blobs) size += varintSize(b.length) + b.length;
  const w = new Writer(size);
  w.byte(FORMAT_VERSION);
  const absent = c.op.type === 'cas' && c.op.expected === null;
  w.byte(OP_CODES[c.op.type] | (absent ? CAS_EXPECTED_ABSENT : 0));
  w.varint(c.clientId);
  w.varint(c.sequence);
  w.varint(c.ackedSequence);
  for (const b of blobs) w.blob(b);
  return w.bytes;
}

class Reader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}
  byte(): number {
    const b = this.bytes[this.offset++];
    if (b === undefined) throw new KvCommandError('truncated');
    return b;
  }
  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < VARINT_BYTES_MAX; i++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(n)) throw new KvCommandError('integer out of range');
        return n;
      }
      scale *= 0x80;
    }
    throw new KvCommandError('varint too long');
  }
  blob(): Uint8Array {
    const length = this.varint();
    if (this.offset + length > this.bytes.length) throw new KvCommandError('truncated byte string');
    const b = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return b;
  }
  end(): void {
    if (this.offset !== this.bytes.length)
      throw new KvCommandError(`${this.bytes.length - this.offset} trailing bytes`);
  }
}

function decodeOp(code: number, r: Reader): KvOp {
  const absent = (code & CAS_EXPECTED_ABSENT) !== 0;
  const base = code & ~CAS_EXPECTED_ABSENT;
  if (absent && base !== OP_CODES.cas) throw new KvCommandError(`flag 0x80 on op code ${base}`);
  switch (base) {
    case OP_CODES.put:
      return { type: 'put', key: r.blob(), value: r.blob() };
    case OP_CODES.delete:
      return { type: 'delete', key: r.blob() };
    case OP_CODES.cas: {
      const key = r.blob();
      const expected = absent ? null : r.blob();
      return { type: 'cas', key, expected, value: r.blob() };
    }
    case OP_CODES.append:
      return { type: 'append', key: r.blob(), value: r.blob() };
    case OP_CODES.get:
      return { type: 'get', key: r.blob() };
    default:
      throw new KvCommandError(`unknown op code ${base}`);
  }
}

/** Decodes a command; the byte strings are views into `b` (copy them before keeping them). */
export function decodeCommand(b: Uint8Array): KvCommand {
  const r = new Reader(b);
  const version = r.byte();
  if (version !== FORMAT_VERSION) throw new KvCommandError(`unknown format version ${version}`);
  const code = r.byte();
  const clientId = r.varint();
  const sequence = r.varint();
  const ackedSequence = r.varint();
  const op = decodeOp(code, r);
  r.end();
  return { clientId, sequence, ackedSequence, op };
}
