import { join } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  CodecError,
  decodeEnvelope,
  encodeEnvelope,
  encodeEnvelopeFrame,
  errorCodeFromProto,
  errorCodeToProto,
  peekRequestId,
  type ClientOp,
  type ClientResult,
  type Envelope,
} from './codec.js';
import { DEFINITE_BY_DEFAULT, type ErrorCodeName, type ErrorInfo } from '../shared/errors.js';
import { encodeFrame, OVERSIZED_PREFIX_BYTES } from './framing.js';
import { raftlab } from './generated/raftlab.js';
import type {
  AppendMessage,
  AppendResponseMessage,
  Entry,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  SnapshotMessage,
  SnapshotResponseMessage,
  VoteMessage,
  VoteResponseMessage,
} from '../server/raft/types.js';

// ---------------------------------------------------------------- arbitraries

const u64 = fc.maxSafeNat();
const bytes = fc.uint8Array({ maxLength: 24 });
const id = fc.string({ minLength: 1, maxLength: 8 });
const codes = Object.keys(DEFINITE_BY_DEFAULT) as ErrorCodeName[];

const errorInfo: fc.Arbitrary<ErrorInfo> = fc.record(
  {
    code: fc.constantFrom(...codes),
    message: fc.string({ maxLength: 30 }),
    definite: fc.boolean(),
    leaderHint: id,
    leaderAddress: id,
  },
  { requiredKeys: ['code', 'message', 'definite'] },
);

const entry: fc.Arbitrary<Entry> = fc.record({
  term: u64,
  index: u64,
  type: fc.constantFrom('normal' as const, 'noop' as const, 'config' as const),
  data: bytes,
});

const base = { from: id, to: id, term: u64 };
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    ...base,
    type: fc.constant('append' as const),
    prevLogIndex: u64,
    prevLogTerm: u64,
    entries: fc.array(entry, { maxLength: 4 }),
    commit: u64,
  }),
  fc.record({
    ...base,
    type: fc.constant('append-response' as const),
    success: fc.boolean(),
    matchIndex: u64,
    rejectIndex: u64,
    hintIndex: u64,
    hintTerm: u64,
    logLost: fc.boolean(),
  }),
  fc.record({
    ...base,
    type: fc.constant('vote' as const),
    preVote: fc.boolean(),
    lastLogIndex: u64,
    lastLogTerm: u64,
  }),
  fc.record({
    ...base,
    type: fc.constant('vote-response' as const),
    preVote: fc.boolean(),
    granted: fc.boolean(),
  }),
  fc.record({ ...base, type: fc.constant('heartbeat' as const), commit: u64, context: bytes }),
  fc.record({ ...base, type: fc.constant('heartbeat-response' as const), context: bytes }),
  fc
    .record({
      ...base,
      type: fc.constant('snapshot' as const),
      metaIndex: u64,
      metaTerm: u64,
      offset: fc.integer({ min: 0, max: 1 << 20 }),
      data: bytes,
      done: fc.boolean(),
      extra: fc.integer({ min: 0, max: 1 << 20 }),
    })
    .map(({ extra, ...m }) => ({ ...m, totalBytes: m.offset + m.data.length + extra })),
  fc.record({
    ...base,
    type: fc.constant('snapshot-response' as const),
    snapshotIndex: u64,
    nextOffset: u64,
    rejected: fc.boolean(),
  }),
);

const op: fc.Arbitrary<ClientOp> = fc.oneof(
  fc.record({ type: fc.constant('get' as const), key: bytes }),
  fc.record({ type: fc.constant('put' as const), key: bytes, value: bytes }),
  fc.record({ type: fc.constant('delete' as const), key: bytes }),
  fc.record({
    type: fc.constant('cas' as const),
    key: bytes,
    expected: fc.option(bytes, { nil: null }),
    value: bytes,
  }),
  fc.record({ type: fc.constant('append' as const), key: bytes, value: bytes }),
  fc.constant({ type: 'status' as const }),
  fc.constant({ type: 'snapshot' as const }),
);

const result: fc.Arbitrary<ClientResult> = fc.oneof(
  fc.record({ type: fc.constant('get' as const), found: fc.boolean(), value: bytes }),
  fc.constant({ type: 'put' as const }),
  fc.record({ type: fc.constant('delete' as const), existed: fc.boolean() }),
  fc.constant({ type: 'cas' as const }),
  fc.record({ type: fc.constant('append' as const), value: bytes }),
  fc.record({
    type: fc.constant('status' as const),
    status: fc.record({
      nodeId: id,
      role: fc.constantFrom(
        'follower' as const,
        'pre-candidate' as const,
        'candidate' as const,
        'leader' as const,
      ),
      term: u64,
      leaderId: fc.oneof(id, fc.constant('' as const)),
      commitIndex: u64,
      appliedIndex: u64,
      lastIndex: u64,
      members: fc.array(fc.record({ id, clientAddress: id, peerAddress: id }), { maxLength: 3 }),
      snapshotIndex: u64,
      walBytes: u64,
      walSegments: u64,
    }),
  }),
  fc.record({
    type: fc.constant('snapshot' as const),
    snapshot: fc.record({ started: fc.boolean(), appliedIndex: u64, snapshotIndex: u64 }),
  }),
);

const envelope: fc.Arbitrary<Envelope> = fc.oneof(
  fc.record({
    kind: fc.constant('client-request' as const),
    request: fc.record({ requestId: u64, clientId: u64, sequence: u64, ackedSequence: u64, op }),
  }),
  fc.record({
    kind: fc.constant('client-response' as const),
    response: fc.oneof(
      fc.record({ requestId: u64, result }),
      fc.record({ requestId: u64, error: errorInfo }),
      fc.record({ requestId: u64, error: errorInfo, result }),
    ),
  }),
  fc.record({
    kind: fc.constant('peer-hello' as const),
    hello: fc.record({ from: id, clusterId: fc.string(), to: fc.oneof(id, fc.constant('' as const)) }),
  }),
  fc.record({ kind: fc.constant('raft' as const), message }),
  fc.record({ kind: fc.constant('connection-error' as const), error: errorInfo, requestsRead: u64 }),
);

function codecError(f: () => unknown): CodecError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError);
    return e as CodecError;
  }
  throw new Error('expected a CodecError');
}

// ---------------------------------------------------------------- round trips

describe('envelope codec', () => {
  it('round-trips every envelope kind, op, result and Raft message (property)', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps indexes up to 2^53 - 1 exact', () => {
    const m: Message = {
      type: 'heartbeat',
      from: 'a',
      to: 'b',
      term: Number.MAX_SAFE_INTEGER,
      commit: 2 ** 40 + 1,
      context: Uint8Array.of(1),
    };
    expect(decodeEnvelope(encodeEnvelope({ kind: 'raft', message: m }))).toEqual({
      kind: 'raft',
      message: m,
    });
  });

  it('refuses a uint64 above 2^53 rather than rounding it', () => {
    const bytes = raftlab.Envelope.encode({ raft: { from: 'a', to: 'b', term: 2 ** 60, vote: {} } }).finish();
    expect(codecError(() => decodeEnvelope(bytes)).reason).toMatch(/term is above 2\^53/);
  });

  it('keeps cas expected-absent distinct from expected-empty', () => {
    const absent: Envelope = {
      kind: 'client-request',
      request: {
        requestId: 1,
        clientId: 2,
        sequence: 3,
        ackedSequence: 2,
        op: { type: 'cas', key: Uint8Array.of(1), expected: null, value: Uint8Array.of(2) },
      },
    };
    const empty: Envelope = {
      kind: 'client-request',
      request: {
        ...absent.request,
        op: { type: 'cas', key: Uint8Array.of(1), expected: new Uint8Array(0), value: Uint8Array.of(2) },
      },
    };
    expect(decodeEnvelope(encodeEnvelope(absent))).toEqual(absent);
    expect(decodeEnvelope(encodeEnvelope(empty))).toEqual(empty);
  });
});

describe('envelope codec on bad input', () => {
  it('rejects an empty envelope and an envelope with an unknown kind (field 6)', () => {
    expect(codecError(() => decodeEnvelope(new Uint8Array(0))).code).toBe('UNKNOWN_KIND');
    expect(codecError(() => decodeEnvelope(new Uint8Array(0))).toErrorInfo()).toEqual({
      code: 'BAD_REQUEST',
      message: 'bad envelope: envelope has no known kind',
      definite: true,
    });
    expect(codecError(() => decodeEnvelope(Uint8Array.of(0x32, 0x00))).code).toBe('UNKNOWN_KIND');
  });

  it('rejects truncated and garbage bytes with MALFORMED', () => {
    const whole = encodeEnvelope({ kind: 'peer-hello', hello: { from: 'n1', clusterId: 'c', to: 'n2' } });
    expect(codecError(() => decodeEnvelope(whole.subarray(0, whole.length - 1))).code).toBe('MALFORMED');
    expect(codecError(() => decodeEnvelope(Uint8Array.of(0xff, 0xff, 0xff))).code).toBe('MALFORMED');
  });

  it('rejects missing bodies, unknown enum values and unknown roles', () => {
    const cases: Array<[raftlab.Envelope.$Properties, RegExp]> = [
      [{ raft: { from: 'a', to: 'b', term: 1 } }, /no known body/],
      [{ raft: { from: '', to: 'b', vote: {} } }, /without from/],
      [{ clientRequest: { requestId: 1 } }, /no known op/],
      [{ clientResponse: { requestId: 1 } }, /neither a result nor an error/],
      [
        { clientResponse: { requestId: 1, error: { code: 99 as raftlab.ErrorCode } } },
        /unknown error code 99/,
      ],
      [{ connectionError: {} }, /without an error/],
      [{ peerHello: { clusterId: 'x' } }, /peer hello without from/],
      [
        { raft: { from: 'a', to: 'b', append: { entries: [{ type: 7 as raftlab.EntryType }] } } },
        /unknown entry type 7/,
      ],
      [{ clientResponse: { requestId: 1, status: { role: 'king' } } }, /unknown role "king"/],
      [
        { raft: { from: 'a', to: 'b', snapshot: { offset: 4, data: new Uint8Array(3), totalBytes: 6 } } },
        /snapshot chunk \[4, 7\) beyond its 6 bytes/,
      ],
    ];
    for (const [props, reason] of cases) {
      const err = codecError(() => decodeEnvelope(raftlab.Envelope.encode(props).finish()));
      expect(err.code).toBe('INVALID_FIELD');
      expect(err.reason).toMatch(reason);
    }
  });

  it('on random bytes either decodes or throws CodecError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          decodeEnvelope(b);
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------- types.ts mirrors the proto

describe('server/raft/types.ts mirrors proto/raftlab.proto', () => {
  const root = protobuf.loadSync(join(import.meta.dirname, 'raftlab.proto'));
  const fields = (name: string): string[] =>
    root
      .lookupType(`raftlab.${name}`)
      .fieldsArray.map((f) => f.name)
      .sort();
  // Full objects: the compiler rejects a missing or an extra field, so the key lists below are the interfaces'.
  const b = { from: 'a', to: 'b', term: 1 };
  const samples: Record<string, [string, Message]> = {
    append: [
      'AppendEntries',
      {
        ...b,
        type: 'append',
        prevLogIndex: 1,
        prevLogTerm: 1,
        entries: [],
        commit: 1,
      } satisfies AppendMessage,
    ],
    appendResponse: [
      'AppendEntriesResponse',
      {
        ...b,
        type: 'append-response',
        success: true,
        matchIndex: 1,
        rejectIndex: 0,
        hintIndex: 0,
        hintTerm: 0,
        logLost: false,
      } satisfies AppendResponseMessage,
    ],
    vote: [
      'RequestVote',
      { ...b, type: 'vote', preVote: false, lastLogIndex: 1, lastLogTerm: 1 } satisfies VoteMessage,
    ],
    voteResponse: [
      'RequestVoteResponse',
      { ...b, type: 'vote-response', preVote: false, granted: true } satisfies VoteResponseMessage,
    ],
    heartbeat: [
      'Heartbeat',
      { ...b, type: 'heartbeat', commit: 1, context: new Uint8Array() } satisfies HeartbeatMessage,
    ],
    heartbeatResponse: [
      'HeartbeatResponse',
      { ...b, type: 'heartbeat-response', context: new Uint8Array() } satisfies HeartbeatResponseMessage,
    ],
    snapshot: [
      'InstallSnapshot',
      {
        ...b,
        type: 'snapshot',
        metaIndex: 9,
        metaTerm: 2,
        offset: 0,
        data: new Uint8Array([1]),
        done: true,
        totalBytes: 1,
      } satisfies SnapshotMessage,
    ],
    snapshotResponse: [
      'InstallSnapshotResponse',
      {
        ...b,
        type: 'snapshot-response',
        snapshotIndex: 9,
        nextOffset: 1,
        rejected: false,
      } satisfies SnapshotResponseMessage,
    ],
  };

  it('has one Message type per RaftMessage body, with the same fields', () => {
    const raft = root.lookupType('raftlab.RaftMessage');
    expect(Object.keys(samples).sort()).toEqual(raft.oneofs['body']!.fieldsArray.map((f) => f.name).sort());
    const baseFields = raft.fieldsArray
      .filter((f) => f.partOf === null)
      .map((f) => f.name)
      .sort();
    expect(baseFields).toEqual(['from', 'term', 'to']);
    for (const [protoName, sample] of Object.values(samples)) {
      const keys = Object.keys(sample)
        .filter((k) => k !== 'type' && !baseFields.includes(k))
        .sort();
      expect(keys, protoName).toEqual(fields(protoName));
    }
  });

  it('Entry, ErrorInfo and the error codes match', () => {
    const e: Entry = { term: 1, index: 1, type: 'normal', data: new Uint8Array() };
    expect(Object.keys(e).sort()).toEqual(fields('Entry'));
    const info: Required<ErrorInfo> = {
      code: 'TIMEOUT',
      message: '',
      definite: false,
      leaderHint: '',
      leaderAddress: '',
    };
    expect(Object.keys(info).sort()).toEqual(fields('Error'));
    const protoCodes = Object.keys(root.lookupEnum('raftlab.ErrorCode').values).filter(
      (n) => n !== 'ERROR_CODE_UNSPECIFIED',
    );
    expect(protoCodes.sort()).toEqual([...codes].sort());
    for (const name of codes) expect(errorCodeFromProto(errorCodeToProto(name))).toBe(name);
    expect(errorCodeFromProto(0)).toBeUndefined();
  });
});

describe('decoded byte fields', () => {
  it('copies entry data out of the frame (entries outlive it), so reusing the frame buffer does not change them', () => {
    const data = Uint8Array.of(1, 2, 3);
    const frame = encodeEnvelope({
      kind: 'raft',
      message: {
        type: 'append',
        from: 'a',
        to: 'b',
        term: 1,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ term: 1, index: 1, type: 'normal', data }],
        commit: 0,
      },
    });
    const decoded = decodeEnvelope(frame);
    frame.fill(0);
    if (decoded.kind !== 'raft' || decoded.message.type !== 'append') throw new Error('wrong kind');
    expect(Array.from(decoded.message.entries[0]!.data)).toEqual([1, 2, 3]);
  });
});

describe('encodeEnvelopeFrame', () => {
  it('equals encodeFrame(encodeEnvelope(e)) for any envelope (property)', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        expect(Buffer.from(encodeEnvelopeFrame(e))).toEqual(encodeFrame(encodeEnvelope(e)));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an envelope longer than frameSizeBytesMax', () => {
    const e: Envelope = { kind: 'peer-hello', hello: { from: 'n1', clusterId: 'x'.repeat(100), to: '' } };
    expect(() => encodeEnvelopeFrame(e, 50)).toThrow(/exceeds frameSizeBytesMax 50/);
  });
});

describe('peekRequestId', () => {
  it("finds any client request's id in the first OVERSIZED_PREFIX_BYTES of its envelope, whatever the value size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.nat(100_000),
        (requestId, size) => {
          const value = new Uint8Array(size);
          const op: ClientOp = { type: 'put', key: Uint8Array.of(1), value };
          const bytes = encodeEnvelope({
            kind: 'client-request',
            request: { requestId, clientId: 7, sequence: 1, ackedSequence: 0, op },
          });
          expect(peekRequestId(bytes.subarray(0, OVERSIZED_PREFIX_BYTES))).toBe(requestId);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('returns undefined for other envelopes, garbage and truncated prefixes', () => {
    const hello = encodeEnvelope({ kind: 'peer-hello', hello: { from: 'n1', clusterId: 'c', to: '' } });
    expect(peekRequestId(hello)).toBeUndefined();
    expect(peekRequestId(Uint8Array.of(0xff, 0xff, 0xff))).toBeUndefined();
    expect(peekRequestId(Uint8Array.of(0x0a, 0x80))).toBeUndefined();
  });
});
