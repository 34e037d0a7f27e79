// The wire codec: plain TypeScript data <-> protobuf bytes, through the static code generated from
// proto/raftlab.proto (no runtime reflection on the hot path). Decoding validates what the rest of
// the server relies on (a known kind, a body, known enum values, indexes below 2^53) and throws
// CodecError otherwise, so bad input closes one connection instead of reaching the core.
import protobuf from 'protobufjs/minimal.js';
import { raftlab } from './generated/raftlab.js';
import type { ErrorCodeName, ErrorInfo } from '../shared/errors.js';
import { FRAME_HEADER_BYTES, FRAME_SIZE_BYTES_LIMIT } from './framing.js';
import type { Entry, EntryType, Message, NodeId, Role } from '../server/raft/types.js';

// ---------------------------------------------------------------- plain types (mirror the proto)

export type ClientOp =
  | { readonly type: 'get'; readonly key: Uint8Array }
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: Uint8Array }
  /** `expected: null` means "succeed only if the key is absent" (expected_absent on the wire). */
  | {
      readonly type: 'cas';
      readonly key: Uint8Array;
      readonly expected: Uint8Array | null;
      readonly value: Uint8Array;
    }
  | { readonly type: 'append'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'status' }
  /** Admin: snapshot the state machine now (answered locally, like status). */
  | { readonly type: 'snapshot' };

export type ClientOpType = ClientOp['type'];

export interface ClientRequest {
  readonly requestId: number;
  readonly clientId: number;
  readonly sequence: number;
  readonly ackedSequence: number;
  readonly op: ClientOp;
}

export interface Member {
  readonly id: NodeId;
  readonly clientAddress: string;
  readonly peerAddress: string;
}

export interface StatusResult {
  readonly nodeId: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly leaderId: NodeId | '';
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly members: readonly Member[];
  /** The newest durable snapshot's index (0 = none). */
  readonly snapshotIndex: number;
  readonly walBytes: number;
  readonly walSegments: number;
}

export interface SnapshotResult {
  /** False when a snapshot is already being saved or nothing was applied since the last one. */
  readonly started: boolean;
  readonly appliedIndex: number;
  readonly snapshotIndex: number;
}

export type ClientResult =
  | { readonly type: 'get'; readonly found: boolean; readonly value: Uint8Array }
  | { readonly type: 'put' }
  | { readonly type: 'delete'; readonly existed: boolean }
  | { readonly type: 'cas' }
  | { readonly type: 'append'; readonly value: Uint8Array }
  | { readonly type: 'status'; readonly status: StatusResult }
  | { readonly type: 'snapshot'; readonly snapshot: SnapshotResult };

/** A response carries a result, an error, or both; never neither (decodeEnvelope refuses that). */
export interface ClientResponse {
  readonly requestId: number;
  readonly error?: ErrorInfo;
  readonly result?: ClientResult;
}

export interface PeerHello {
  readonly from: NodeId;
  readonly clusterId: string;
  /** The node the dialler meant to reach ('' when unknown). */
  readonly to: NodeId | '';
}

export type Envelope =
  | { readonly kind: 'client-request'; readonly request: ClientRequest }
  | { readonly kind: 'client-response'; readonly response: ClientResponse }
  | { readonly kind: 'peer-hello'; readonly hello: PeerHello }
  | { readonly kind: 'raft'; readonly message: Message }
  /** `requestsRead`: request frames the sender read from this connection before closing it. */
  | { readonly kind: 'connection-error'; readonly error: ErrorInfo; readonly requestsRead: number };

export type EnvelopeKind = Envelope['kind'];

export type CodecErrorCode = 'MALFORMED' | 'UNKNOWN_KIND' | 'INVALID_FIELD';

/** Bytes that are not a valid envelope; the connection that sent them is closed with `reason`. */
export class CodecError extends Error {
  readonly code: CodecErrorCode;
  readonly reason: string;
  constructor(code: CodecErrorCode, reason: string, options?: { cause?: unknown }) {
    super(`${code}: ${reason}`, options);
    this.name = 'CodecError';
    this.code = code;
    this.reason = reason;
  }

  /** What to send in the connection-error frame before closing. */
  toErrorInfo(): ErrorInfo {
    return { code: 'BAD_REQUEST', message: `bad envelope: ${this.reason}`, definite: true };
  }
}

// ---------------------------------------------------------------- enums

const ERROR_CODES: Readonly<Record<ErrorCodeName, raftlab.ErrorCode>> = {
  NOT_LEADER: raftlab.ErrorCode.NOT_LEADER,
  UNAVAILABLE: raftlab.ErrorCode.UNAVAILABLE,
  TIMEOUT: raftlab.ErrorCode.TIMEOUT,
  KEY_NOT_FOUND: raftlab.ErrorCode.KEY_NOT_FOUND,
  CAS_MISMATCH: raftlab.ErrorCode.CAS_MISMATCH,
  TOO_LARGE: raftlab.ErrorCode.TOO_LARGE,
  BAD_REQUEST: raftlab.ErrorCode.BAD_REQUEST,
  SESSION_EXPIRED: raftlab.ErrorCode.SESSION_EXPIRED,
  OVERLOADED: raftlab.ErrorCode.OVERLOADED,
  CONNECTION_LOST: raftlab.ErrorCode.CONNECTION_LOST,
  SHUTTING_DOWN: raftlab.ErrorCode.SHUTTING_DOWN,
  INTERNAL: raftlab.ErrorCode.INTERNAL,
};
const ERROR_NAMES = new Map<number, ErrorCodeName>(
  Object.entries(ERROR_CODES).map(([name, code]) => [code, name as ErrorCodeName]),
);

export function errorCodeToProto(name: ErrorCodeName): raftlab.ErrorCode {
  return ERROR_CODES[name];
}

/** The name of a wire error code, or undefined for 0 (unspecified) and codes this build does not know. */
export function errorCodeFromProto(code: number): ErrorCodeName | undefined {
  return ERROR_NAMES.get(code);
}

const ENTRY_TYPES: Readonly<Record<EntryType, raftlab.EntryType>> = {
  normal: raftlab.EntryType.ENTRY_NORMAL,
  noop: raftlab.EntryType.ENTRY_NOOP,
  config: raftlab.EntryType.ENTRY_CONFIG,
};
const ENTRY_TYPE_NAMES: readonly EntryType[] = ['normal', 'noop', 'config'];
const ROLES: ReadonlySet<string> = new Set<Role>(['follower', 'pre-candidate', 'candidate', 'leader']);

// ---------------------------------------------------------------- scalar helpers

/** Largest `high` word of a uint64 that still fits in a safe integer (2^53 - 1). */
const SAFE_HIGH_MAX = 0x1f_ffff;

/**
 * protobufjs decodes uint64 as a Long when the `long` package is installed (it is, and
 * `--force-number` does not change the static decoder), so convert here and refuse values that a
 * JavaScript number cannot hold exactly.
 */
function u64(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return 0;
  const long = value as { high: number; toNumber(): number };
  if (long.high > SAFE_HIGH_MAX || long.high < 0) {
    throw new CodecError('INVALID_FIELD', `${field} is above 2^53 and cannot be represented exactly`);
  }
  return long.toNumber();
}

/** A decoded `bytes` field as a plain Uint8Array view (no copy) of the frame: valid while the frame is. */
function bytes(value: Uint8Array | null | undefined): Uint8Array {
  if (value === null || value === undefined) return new Uint8Array(0);
  return value.constructor === Uint8Array
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.length);
}

function invalid(reason: string): never {
  throw new CodecError('INVALID_FIELD', reason);
}

// ---------------------------------------------------------------- errors

function errorToProto(e: ErrorInfo): raftlab.Error.$Properties {
  return {
    code: ERROR_CODES[e.code],
    message: e.message,
    definite: e.definite,
    leaderHint: e.leaderHint ?? '',
    leaderAddress: e.leaderAddress ?? '',
  };
}

function errorFromProto(p: raftlab.Error.$Properties): ErrorInfo {
  const code = errorCodeFromProto(p.code ?? 0);
  if (code === undefined) invalid(`unknown error code ${p.code ?? 0}`);
  const info: { -readonly [K in keyof ErrorInfo]: ErrorInfo[K] } = {
    code,
    message: p.message ?? '',
    definite: p.definite ?? false,
  };
  if (p.leaderHint) info.leaderHint = p.leaderHint;
  if (p.leaderAddress) info.leaderAddress = p.leaderAddress;
  return info;
}

// ---------------------------------------------------------------- client requests

// Client messages are built by assignment, not object spread (see raftMessageToProto).

function requestToProto(r: ClientRequest): raftlab.ClientRequest.$Properties {
  const { requestId, clientId, sequence, ackedSequence, op } = r;
  const p: raftlab.ClientRequest.$Properties = { requestId, clientId, sequence, ackedSequence };
  switch (op.type) {
    case 'get':
      p.get = { key: op.key };
      break;
    case 'put':
      p.put = { key: op.key, value: op.value };
      break;
    case 'delete':
      p.delete = { key: op.key };
      break;
    case 'cas':
      p.cas =
        op.expected === null
          ? { key: op.key, expectedAbsent: true, value: op.value }
          : { key: op.key, expected: op.expected, value: op.value };
      break;
    case 'append':
      p.append = { key: op.key, value: op.value };
      break;
    case 'status':
      p.status = {};
      break;
    case 'snapshot':
      p.snapshot = {};
      break;
  }
  return p;
}

function opFromProto(p: raftlab.ClientRequest): ClientOp {
  switch (p.op) {
    case 'get':
      return { type: 'get', key: bytes(p.get?.key) };
    case 'put':
      return { type: 'put', key: bytes(p.put?.key), value: bytes(p.put?.value) };
    case 'delete':
      return { type: 'delete', key: bytes(p.delete?.key) };
    case 'cas': {
      const cas = p.cas!;
      const expected = cas.expectedAbsent ? null : bytes(cas.expected);
      return { type: 'cas', key: bytes(cas.key), expected, value: bytes(cas.value) };
    }
    case 'append':
      return { type: 'append', key: bytes(p.append?.key), value: bytes(p.append?.value) };
    case 'status':
      return { type: 'status' };
    case 'snapshot':
      return { type: 'snapshot' };
    default:
      return invalid('client request has no known op');
  }
}

function requestFromProto(p: raftlab.ClientRequest): ClientRequest {
  return {
    requestId: u64(p.requestId, 'requestId'),
    clientId: u64(p.clientId, 'clientId'),
    sequence: u64(p.sequence, 'sequence'),
    ackedSequence: u64(p.ackedSequence, 'ackedSequence'),
    op: opFromProto(p),
  };
}

// ---------------------------------------------------------------- client responses

function statusToProto(s: StatusResult): raftlab.StatusResult.$Properties {
  return {
    nodeId: s.nodeId,
    role: s.role,
    term: s.term,
    leaderId: s.leaderId,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    lastIndex: s.lastIndex,
    members: s.members.map((m) => ({ id: m.id, clientAddress: m.clientAddress, peerAddress: m.peerAddress })),
    snapshotIndex: s.snapshotIndex,
    walBytes: s.walBytes,
    walSegments: s.walSegments,
  };
}

function statusFromProto(p: raftlab.StatusResult.$Properties): StatusResult {
  const role = p.role ?? '';
  if (!ROLES.has(role)) invalid(`status has unknown role "${role}"`);
  return {
    nodeId: p.nodeId ?? '',
    role: role as Role,
    term: u64(p.term, 'status.term'),
    leaderId: p.leaderId ?? '',
    commitIndex: u64(p.commitIndex, 'status.commitIndex'),
    appliedIndex: u64(p.appliedIndex, 'status.appliedIndex'),
    lastIndex: u64(p.lastIndex, 'status.lastIndex'),
    members: (p.members ?? []).map((m) => ({
      id: m.id ?? '',
      clientAddress: m.clientAddress ?? '',
      peerAddress: m.peerAddress ?? '',
    })),
    snapshotIndex: u64(p.snapshotIndex, 'status.snapshotIndex'),
    walBytes: u64(p.walBytes, 'status.walBytes'),
    walSegments: u64(p.walSegments, 'status.walSegments'),
  };
}

function setResult(p: raftlab.ClientResponse.$Properties, r: ClientResult): void {
  switch (r.type) {
    case 'get':
      p.get = { found: r.found, value: r.value };
      break;
    case 'put':
      p.put = {};
      break;
    case 'delete':
      p.delete = { existed: r.existed };
      break;
    case 'cas':
      p.cas = {};
      break;
    case 'append':
      p.append = { value: r.value };
      break;
    case 'status':
      p.status = statusToProto(r.status);
      break;
    case 'snapshot':
      p.snapshot = { ...r.snapshot };
      break;
  }
}

function resultFromProto(p: raftlab.ClientResponse): ClientResult | undefined {
  switch (p.result) {
    case 'get':
      return { type: 'get', found: p.get?.found ?? false, value: bytes(p.get?.value) };
    case 'put':
      return { type: 'put' };
    case 'delete':
      return { type: 'delete', existed: p.delete?.existed ?? false };
    case 'cas':
      return { type: 'cas' };
    case 'append':
      return { type: 'append', value: bytes(p.append?.value) };
    case 'status':
      return { type: 'status', status: statusFromProto(p.status!) };
    case 'snapshot': {
      const s = p.snapshot!;
      const snapshot = {
        started: s.started ?? false,
        appliedIndex: u64(s.appliedIndex, 'snapshot.appliedIndex'),
        snapshotIndex: u64(s.snapshotIndex, 'snapshot.snapshotIndex'),
      };
      return { type: 'snapshot', snapshot };
    }
    default:
      return undefined;
  }
}

function responseToProto(r: ClientResponse): raftlab.ClientResponse.$Properties {
  const p: raftlab.ClientResponse.$Properties = { requestId: r.requestId };
  if (r.error !== undefined) p.error = errorToProto(r.error);
  if (r.result !== undefined) setResult(p, r.result);
  return p;
}

function responseFromProto(p: raftlab.ClientResponse): ClientResponse {
  const requestId = u64(p.requestId, 'requestId');
  const result = resultFromProto(p);
  const error = p.error ? errorFromProto(p.error) : undefined;
  if (result === undefined && error === undefined)
    invalid('client response has neither a result nor an error');
  const response: { -readonly [K in keyof ClientResponse]: ClientResponse[K] } = { requestId };
  if (error !== undefined) response.error = error;
  if (result !== undefined) response.result = result;
  return response;
}

// ---------------------------------------------------------------- raft messages

function entryToProto(e: Entry): raftlab.Entry.$Properties {
  return { term: e.term, index: e.index, type: ENTRY_TYPES[e.type], data: e.data };
}

/**
 * Entry data is COPIED out of the frame: entries live in the Raft log for good, and a view would
 * keep the whole socket chunk it came in (up to 64 KiB) alive per entry. Other byte fields stay
 * views (no copy); they are short-lived.
 */
function entryFromProto(p: raftlab.Entry.$Properties): Entry {
  const type = ENTRY_TYPE_NAMES[p.type ?? 0];
  if (type === undefined) invalid(`unknown entry type ${p.type}`);
  const data = p.data ? new Uint8Array(p.data) : new Uint8Array(0);
  return { term: u64(p.term, 'entry.term'), index: u64(p.index, 'entry.index'), type, data };
}

// No object spread in these two: protobufjs's encoder and V8 are markedly slower (about 10x in
// bench/wire.ts) on objects built by spreading than on plain literals, and this is the hot path.

/** A Raft message from the core as the wire's RaftMessage. */
export function raftMessageToProto(m: Message): raftlab.RaftMessage.$Properties {
  const { from, to, term } = m;
  switch (m.type) {
    case 'append': {
      const entries = m.entries.map(entryToProto);
      const { prevLogIndex, prevLogTerm, commit } = m;
      return { from, to, term, append: { prevLogIndex, prevLogTerm, entries, commit } };
    }
    case 'append-response': {
      const { success, matchIndex, rejectIndex, hintIndex, hintTerm, logLost } = m;
      return {
        from,
        to,
        term,
        appendResponse: { success, matchIndex, rejectIndex, hintIndex, hintTerm, logLost },
      };
    }
    case 'vote':
      return {
        from,
        to,
        term,
        vote: { preVote: m.preVote, lastLogIndex: m.lastLogIndex, lastLogTerm: m.lastLogTerm },
      };
    case 'vote-response':
      return { from, to, term, voteResponse: { preVote: m.preVote, granted: m.granted } };
    case 'heartbeat':
      return { from, to, term, heartbeat: { commit: m.commit, context: m.context } };
    case 'heartbeat-response':
      return { from, to, term, heartbeatResponse: { context: m.context } };
    case 'snapshot': {
      const { metaIndex, metaTerm, offset, data, done, totalBytes } = m;
      return { from, to, term, snapshot: { metaIndex, metaTerm, offset, data, done, totalBytes } };
    }
    case 'snapshot-response': {
      const { snapshotIndex, nextOffset, rejected } = m;
      return { from, to, term, snapshotResponse: { snapshotIndex, nextOffset, rejected } };
    }
  }
}

/** A wire RaftMessage as the core's Message; throws CodecError when it has no body or bad fields. */
export function raftMessageFromProto(p: raftlab.RaftMessage): Message {
  const from = p.from ?? '';
  const to = p.to ?? '';
  if (from === '' || to === '') invalid('raft message without from/to');
  const term = u64(p.term, 'term');
  switch (p.body) {
    case 'append':
      return appendFromProto(from, to, term, p.append!);
    case 'appendResponse': {
      const r = p.appendResponse!;
      return {
        type: 'append-response',
        from,
        to,
        term,
        success: r.success ?? false,
        matchIndex: u64(r.matchIndex, 'matchIndex'),
        rejectIndex: u64(r.rejectIndex, 'rejectIndex'),
        hintIndex: u64(r.hintIndex, 'hintIndex'),
        hintTerm: u64(r.hintTerm, 'hintTerm'),
        logLost: r.logLost ?? false,
      };
    }
    case 'vote': {
      const v = p.vote!;
      const lastLogIndex = u64(v.lastLogIndex, 'lastLogIndex');
      const lastLogTerm = u64(v.lastLogTerm, 'lastLogTerm');
      return { type: 'vote', from, to, term, preVote: v.preVote ?? false, lastLogIndex, lastLogTerm };
    }
    case 'voteResponse': {
      const v = p.voteResponse!;
      return {
        type: 'vote-response',
        from,
        to,
        term,
        preVote: v.preVote ?? false,
        granted: v.granted ?? false,
      };
    }
    case 'heartbeat': {
      const h = p.heartbeat!;
      return {
        type: 'heartbeat',
        from,
        to,
        term,
        commit: u64(h.commit, 'commit'),
        context: bytes(h.context),
      };
    }
    case 'heartbeatResponse':
      return { type: 'heartbeat-response', from, to, term, context: bytes(p.heartbeatResponse!.context) };
    case 'snapshot':
      return snapshotFromProto(from, to, term, p.snapshot!);
    case 'snapshotResponse': {
      const r = p.snapshotResponse!;
      return {
        type: 'snapshot-response',
        from,
        to,
        term,
        snapshotIndex: u64(r.snapshotIndex, 'snapshotIndex'),
        nextOffset: u64(r.nextOffset, 'nextOffset'),
        rejected: r.rejected ?? false,
      };
    }
    default:
      return invalid('raft message has no known body');
  }
}

function appendFromProto(
  from: NodeId,
  to: NodeId,
  term: number,
  a: raftlab.AppendEntries.$Properties,
): Message {
  return {
    type: 'append',
    from,
    to,
    term,
    prevLogIndex: u64(a.prevLogIndex, 'prevLogIndex'),
    prevLogTerm: u64(a.prevLogTerm, 'prevLogTerm'),
    entries: (a.entries ?? []).map(entryFromProto),
    commit: u64(a.commit, 'commit'),
  };
}

/**
 * A snapshot chunk; its data stays a view of the frame (the follower copies it into its transfer
 * buffer at once). A chunk that claims to reach past its image's size is malformed.
 */
function snapshotFromProto(
  from: NodeId,
  to: NodeId,
  term: number,
  c: raftlab.InstallSnapshot.$Properties,
): Message {
  const offset = u64(c.offset, 'snapshot.offset');
  const totalBytes = u64(c.totalBytes, 'snapshot.totalBytes');
  const data = bytes(c.data);
  if (offset + data.length > totalBytes)
    invalid(`snapshot chunk [${offset}, ${offset + data.length}) beyond its ${totalBytes} bytes`);
  return {
    type: 'snapshot',
    from,
    to,
    term,
    metaIndex: u64(c.metaIndex, 'snapshot.metaIndex'),
    metaTerm: u64(c.metaTerm, 'snapshot.metaTerm'),
    offset,
    data,
    done: c.done ?? false,
    totalBytes,
  };
}

// ---------------------------------------------------------------- envelopes

function envelopeToProto(e: Envelope): raftlab.Envelope.$Properties {
  switch (e.kind) {
    case 'client-request':
      return { clientRequest: requestToProto(e.request) };
    case 'client-response':
      return { clientResponse: responseToProto(e.response) };
    case 'peer-hello':
      return { peerHello: { from: e.hello.from, clusterId: e.hello.clusterId, to: e.hello.to } };
    case 'raft':
      return { raft: raftMessageToProto(e.message) };
    case 'connection-error':
      return { connectionError: { error: errorToProto(e.error), requestsRead: e.requestsRead } };
  }
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  return raftlab.Envelope.encode(envelopeToProto(e)).finish();
}

/**
 * One whole frame (4-byte big-endian length + envelope) in a single allocation: the encoder writes
 * a 4-byte placeholder first and the length is patched in afterwards, so the payload is never
 * copied (encodeFrame(encodeEnvelope(e)) allocates and copies twice). Throws RangeError when the
 * envelope is longer than `frameSizeBytesMax`, which the receiver would refuse anyway.
 */
export function encodeEnvelopeFrame(
  e: Envelope,
  frameSizeBytesMax: number = FRAME_SIZE_BYTES_LIMIT,
): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.fixed32(0);
  const frame = raftlab.Envelope.encode(envelopeToProto(e), writer).finish();
  const length = frame.length - FRAME_HEADER_BYTES;
  if (length > frameSizeBytesMax) {
    throw new RangeError(`envelope of ${length} bytes exceeds frameSizeBytesMax ${frameSizeBytesMax}`);
  }
  frame[0] = length >>> 24;
  frame[1] = (length >>> 16) & 0xff;
  frame[2] = (length >>> 8) & 0xff;
  frame[3] = length & 0xff;
  return frame;
}

function envelopeFromProto(p: raftlab.Envelope): Envelope {
  switch (p.kind) {
    case 'clientRequest':
      return { kind: 'client-request', request: requestFromProto(p.clientRequest as raftlab.ClientRequest) };
    case 'clientResponse':
      return {
        kind: 'client-response',
        response: responseFromProto(p.clientResponse as raftlab.ClientResponse),
      };
    case 'peerHello': {
      const from = p.peerHello?.from ?? '';
      if (from === '') invalid('peer hello without from');
      const hello = { from, clusterId: p.peerHello?.clusterId ?? '', to: p.peerHello?.to ?? '' };
      return { kind: 'peer-hello', hello };
    }
    case 'raft':
      return { kind: 'raft', message: raftMessageFromProto(p.raft as raftlab.RaftMessage) };
    case 'connectionError': {
      const error = p.connectionError?.error;
      if (!error) invalid('connection error without an error');
      const requestsRead = u64(p.connectionError?.requestsRead, 'requestsRead');
      return { kind: 'connection-error', error: errorFromProto(error), requestsRead };
    }
    default:
      throw new CodecError('UNKNOWN_KIND', 'envelope has no known kind');
  }
}

/** Decodes one frame's payload; throws CodecError for garbage, an unknown kind or invalid fields. */
export function decodeEnvelope(b: Uint8Array): Envelope {
  let p: raftlab.Envelope;
  try {
    p = raftlab.Envelope.decode(b);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new CodecError('MALFORMED', `not a protobuf Envelope (${detail})`, { cause: error });
  }
  return envelopeFromProto(p);
}

/**
 * The request id of a client request from the first bytes of its frame (an OversizedFrame's
 * prefix), or undefined when they do not start like one. protobufjs writes fields in field-number
 * order, so a ClientRequest's envelope starts with its tag and length, then request_id (field 1).
 */
export function peekRequestId(prefix: Uint8Array): number | undefined {
  const reader = protobuf.Reader.create(prefix);
  try {
    if (reader.uint32() !== ((1 << 3) | 2)) return undefined; // Envelope.client_request, length-delimited
    reader.uint32(); // its length
    if (reader.uint32() !== ((1 << 3) | 0)) return undefined; // ClientRequest.request_id, varint
    const id = u64(reader.uint64(), 'requestId');
    return id > 0 ? id : undefined;
  } catch {
    return undefined; // truncated or not protobuf
  }
}
