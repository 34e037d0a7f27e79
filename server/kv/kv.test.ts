import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KvCommand, KvOp } from './command.js';
import { decodeCommand, encodeCommand, KvCommandError } from './command.js';
import { EXPIRED_CLIENTS_REMEMBERED_MAX, SESSION_RESULTS_MAX } from './session.js';
import type { KvResult } from './state-machine.js';
import { KvStateMachine } from './state-machine.js';

const te = new TextEncoder();
const td = new TextDecoder();
const b = (s: string) => te.encode(s);

function cmd(op: KvOp, clientId = 0, sequence = 0, ackedSequence = 0): Uint8Array {
  return encodeCommand({ clientId, sequence, ackedSequence, op });
}

function valueOf(r: KvResult): string | undefined {
  return r.ok && r.value !== undefined ? td.decode(r.value) : undefined;
}

/** A tiny driver: applies commands at consecutive indexes. */
class Log {
  index = 0;
  constructor(readonly sm: KvStateMachine) {}
  apply(op: KvOp, clientId = 0, sequence = 0, acked = 0): KvResult {
    return this.sm.apply(++this.index, cmd(op, clientId, sequence, acked));
  }
}

describe('command encoding', () => {
  const bytes = fc.uint8Array({ maxLength: 40 });
  const op: fc.Arbitrary<KvOp> = fc.oneof(
    fc.record({ type: fc.constant('put' as const), key: bytes, value: bytes }),
    fc.record({ type: fc.constant('delete' as const), key: bytes }),
    fc.record({
      type: fc.constant('cas' as const),
      key: bytes,
      expected: fc.option(bytes, { nil: null }),
      value: bytes,
    }),
    fc.record({ type: fc.constant('append' as const), key: bytes, value: bytes }),
    fc.record({ type: fc.constant('get' as const), key: bytes }),
  );
  const uint = fc.maxSafeNat();
  const command: fc.Arbitrary<KvCommand> = fc.record({
    clientId: uint,
    sequence: uint,
    ackedSequence: uint,
    op,
  });

  it('round-trips every command, including cas with expected absent and 2^53-1 numbers', () => {
    fc.assert(
      fc.property(command, (c) => {
        expect(decodeCommand(encodeCommand(c))).toEqual(c);
      }),
    );
  });

  it('distinguishes cas expected absent from cas expected empty', () => {
    const absent = decodeCommand(cmd({ type: 'cas', key: b('k'), expected: null, value: b('v') }));
    const empty = decodeCommand(
      cmd({ type: 'cas', key: b('k'), expected: new Uint8Array(0), value: b('v') }),
    );
    expect(absent.op).toMatchObject({ expected: null });
    expect(empty.op).toMatchObject({ expected: new Uint8Array(0) });
  });

  it('rejects every truncation and trailing garbage with KvCommandError', () => {
    const full = cmd({ type: 'cas', key: b('key'), expected: b('old'), value: b('new') }, 300, 70000, 5);
    for (let n = 0; n < full.length; n++) {
      expect(() => decodeCommand(full.subarray(0, n))).toThrow(KvCommandError);
    }
    expect(() => decodeCommand(new Uint8Array([...full, 0]))).toThrow(/trailing/);
    expect(() => decodeCommand(new Uint8Array([9, 1, 0, 0, 0]))).toThrow(/version/);
    expect(() => decodeCommand(new Uint8Array([1, 42, 0, 0, 0]))).toThrow(/op code/);
    expect(() => decodeCommand(new Uint8Array([1, 0x81, 0, 0, 0, 0, 0]))).toThrow(/flag/);
  });

  it('never throws anything but KvCommandError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 30 }), (garbage) => {
        try {
          decodeCommand(garbage);
        } catch (error) {
          expect(error).toBeInstanceOf(KvCommandError);
        }
      }),
    );
  });

  it('refuses to encode negative or unsafe numbers', () => {
    expect(() =>
      encodeCommand({ clientId: -1, sequence: 0, ackedSequence: 0, op: { type: 'get', key: b('k') } }),
    ).toThrow(KvCommandError);
    expect(() =>
      encodeCommand({ clientId: 2 ** 53, sequence: 0, ackedSequence: 0, op: { type: 'get', key: b('k') } }),
    ).toThrow(KvCommandError);
  });
});

describe('KvStateMachine operations', () => {
  it('put, get, delete report existence and values', () => {
    const log = new Log(new KvStateMachine());
    expect(log.apply({ type: 'get', key: b('a') })).toEqual({ ok: true, found: false });
    expect(log.apply({ type: 'put', key: b('a'), value: b('1') })).toEqual({ ok: true, existed: false });
    expect(log.apply({ type: 'put', key: b('a'), value: b('2') })).toEqual({ ok: true, existed: true });
    expect(valueOf(log.sm.read(b('a')))).toBe('2');
    expect(log.apply({ type: 'delete', key: b('a') })).toEqual({ ok: true, existed: true });
    expect(log.apply({ type: 'delete', key: b('a') })).toEqual({ ok: true, existed: false });
    expect(log.sm.read(b('a'))).toEqual({ ok: true, found: false });
    expect(log.sm.appliedIndex).toBe(5);
  });

  it('cas with expected absent succeeds only on an absent key; a mismatch is a definite CAS_MISMATCH', () => {
    const log = new Log(new KvStateMachine());
    expect(log.apply({ type: 'cas', key: b('k'), expected: null, value: b('x') }).ok).toBe(true);
    const again = log.apply({ type: 'cas', key: b('k'), expected: null, value: b('y') });
    expect(again).toMatchObject({ ok: false, error: { code: 'CAS_MISMATCH', definite: true } });
    expect(log.apply({ type: 'cas', key: b('k'), expected: b('nope'), value: b('y') }).ok).toBe(false);
    expect(log.apply({ type: 'cas', key: b('k'), expected: b('x'), value: b('y') })).toEqual({
      ok: true,
      existed: true,
    });
    expect(valueOf(log.sm.read(b('k')))).toBe('y');
    expect(log.apply({ type: 'cas', key: b('other'), expected: b(''), value: b('z') }).ok).toBe(false);
  });

  it('append concatenates and returns the new value', () => {
    const log = new Log(new KvStateMachine());
    expect(valueOf(log.apply({ type: 'append', key: b('l'), value: b('a') }))).toBe('a');
    expect(valueOf(log.apply({ type: 'append', key: b('l'), value: b('bc') }))).toBe('abc');
  });

  it('keeps its own copy of values, not a view into the entry bytes', () => {
    const sm = new KvStateMachine();
    const entry = cmd({ type: 'put', key: b('k'), value: b('v') });
    sm.apply(1, entry);
    entry.fill(0);
    expect(valueOf(sm.read(b('k')))).toBe('v');
  });

  it('treats keys as bytes (non-UTF-8 keys are distinct)', () => {
    const log = new Log(new KvStateMachine());
    log.apply({ type: 'put', key: new Uint8Array([0xff]), value: b('1') });
    log.apply({ type: 'put', key: new Uint8Array([0xfe]), value: b('2') });
    expect(valueOf(log.sm.read(new Uint8Array([0xff])))).toBe('1');
    expect(log.sm.size).toBe(2);
  });

  it('reads a key longer than any limit without crashing (it is simply absent)', () => {
    const sm = new KvStateMachine();
    expect(sm.read(new Uint8Array(200_000).fill(65))).toEqual({ ok: true, found: false });
  });

  it('enforces key and value limits with TOO_LARGE, both in validate and in apply', () => {
    const sm = new KvStateMachine({ keyBytesMax: 4, valueBytesMax: 5 });
    expect(sm.validate({ type: 'put', key: b('12345'), value: b('') })?.code).toBe('TOO_LARGE');
    expect(sm.validate({ type: 'put', key: b('k'), value: b('123456') })?.code).toBe('TOO_LARGE');
    expect(sm.validate({ type: 'cas', key: b('k'), expected: b('123456'), value: b('') })?.code).toBe(
      'TOO_LARGE',
    );
    expect(sm.validate({ type: 'get', key: b('') })?.code).toBe('BAD_REQUEST');
    expect(sm.validate({ type: 'put', key: b('k'), value: b('12345') })).toBeUndefined();
    const log = new Log(sm);
    expect(log.apply({ type: 'put', key: b('k'), value: b('123456') })).toMatchObject({
      ok: false,
      error: { code: 'TOO_LARGE', definite: true },
    });
    expect(log.apply({ type: 'append', key: b('k'), value: b('123') }).ok).toBe(true);
    expect(log.apply({ type: 'append', key: b('k'), value: b('456') })).toMatchObject({
      ok: false,
      error: { code: 'TOO_LARGE' },
    });
    expect(valueOf(sm.read(b('k')))).toBe('123');
  });

  it('answers a corrupt entry with BAD_REQUEST and still advances', () => {
    const sm = new KvStateMachine();
    expect(sm.apply(1, new Uint8Array([1, 2, 3]))).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST' },
    });
    expect(sm.appliedIndex).toBe(1);
  });

  it('crashes on an index that does not increase', () => {
    const sm = new KvStateMachine();
    sm.apply(5, cmd({ type: 'get', key: b('k') }));
    expect(() => sm.apply(5, cmd({ type: 'get', key: b('k') }))).toThrow(/invariant/);
  });
});

describe('client sessions (Raft thesis §6.3)', () => {
  const put = (v: string): KvOp => ({ type: 'put', key: b('k'), value: b(v) });
  const append = (v: string): KvOp => ({ type: 'append', key: b('k'), value: b(v) });

  it('applies a retried write at most once and returns the original result', () => {
    const log = new Log(new KvStateMachine());
    const first = log.apply(append('x'), 7, 1, 0);
    const retry = log.apply(append('x'), 7, 1, 0);
    expect(retry).toEqual(first);
    expect(valueOf(log.sm.read(b('k')))).toBe('x');
    expect(valueOf(log.apply(append('y'), 7, 2, 1))).toBe('xy');
  });

  it('returns the original failure too (a retried cas that mismatched stays a mismatch)', () => {
    const log = new Log(new KvStateMachine());
    log.apply(put('a'), 1, 1, 0);
    const miss = log.apply({ type: 'cas', key: b('k'), expected: b('b'), value: b('c') }, 2, 1, 0);
    log.apply(put('b'), 1, 2, 1);
    expect(log.apply({ type: 'cas', key: b('k'), expected: b('b'), value: b('c') }, 2, 1, 0)).toEqual(miss);
    expect(valueOf(log.sm.read(b('k')))).toBe('b');
  });

  it('discards acknowledged results: a retry of an acknowledged sequence is SESSION_EXPIRED, indeterminate', () => {
    const log = new Log(new KvStateMachine());
    log.apply(append('x'), 7, 1, 0);
    log.apply(append('y'), 7, 2, 1); // acknowledges sequence 1
    const late = log.apply(append('x'), 7, 1, 0);
    expect(late).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED', definite: false } });
    expect(valueOf(log.sm.read(b('k')))).toBe('xy');
  });

  it('lets a client have several writes in flight, applied in any order', () => {
    const log = new Log(new KvStateMachine());
    log.apply(append('a'), 3, 1, 0);
    log.apply(append('c'), 3, 3, 1);
    log.apply(append('b'), 3, 2, 1);
    log.apply(append('c'), 3, 3, 1);
    expect(valueOf(log.sm.read(b('k')))).toBe('acb');
  });

  it('refuses a write from an unknown session that is not its first (the session may have expired)', () => {
    const log = new Log(new KvStateMachine());
    expect(log.apply(append('x'), 9, 5, 3)).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(log.sm.read(b('k'))).toEqual({ ok: true, found: false });
  });

  it('expires a session idle for more than sessionIdleEntriesMax entries, by log index', () => {
    const log = new Log(new KvStateMachine({ sessionIdleEntriesMax: 3 }));
    log.apply(append('x'), 1, 1, 0); // index 1
    log.apply(append('-'), 2, 1, 0); // 2
    log.apply(append('-'), 2, 2, 1); // 3
    log.apply(append('x'), 1, 1, 0); // 4: client 1 idle for 3 entries, still there: deduplicated
    expect(valueOf(log.sm.read(b('k')))).toBe('x--');
    log.apply(append('-'), 2, 3, 2); // 5
    log.apply(append('-'), 2, 4, 3); // 6
    log.apply(append('-'), 2, 5, 4); // 7
    log.apply(append('-'), 2, 6, 5); // 8: client 1 last active at 4, idle 4 > 3: expired
    expect(log.sm.sessionCount).toBe(1);
    expect(log.apply(append('x'), 1, 1, 0)).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(valueOf(log.sm.read(b('k')))).toBe('x------');
  });

  it('bounds the table by sessionsMax, evicting the session idle for the most entries', () => {
    const log = new Log(new KvStateMachine({ sessionsMax: 2 }));
    log.apply(append('a'), 1, 1, 0);
    log.apply(append('b'), 2, 1, 0);
    log.apply(append('a'), 1, 2, 1); // client 1 is now the most recent
    log.apply(append('c'), 3, 1, 0); // evicts client 2
    expect(log.sm.sessionCount).toBe(2);
    expect(log.apply(append('b'), 2, 1, 0)).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(log.apply(append('a'), 1, 2, 1).ok).toBe(true); // still deduplicated
    expect(valueOf(log.sm.read(b('k')))).toBe('abac');
  });

  it('bounds the results kept per session', () => {
    const log = new Log(new KvStateMachine());
    for (let s = 1; s <= SESSION_RESULTS_MAX + 1; s++) log.apply(append('.'), 4, s, 0);
    expect(log.apply(append('.'), 4, 1, 0)).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(log.apply(append('.'), 4, 2, 0).ok).toBe(true);
    expect(log.sm.read(b('k'))).toMatchObject({ value: b('.'.repeat(SESSION_RESULTS_MAX + 1)) });
    expect(EXPIRED_CLIENTS_REMEMBERED_MAX).toBeGreaterThan(0);
  });

  it('is deterministic: two replicas applying the same log agree on every result and on the state', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            client: fc.integer({ min: 1, max: 4 }),
            seq: fc.integer({ min: 1, max: 6 }),
            v: fc.string({ maxLength: 3 }),
          }),
          {
            maxLength: 60,
          },
        ),
        (ops) => {
          const replicas = [
            new Log(new KvStateMachine({ sessionsMax: 2, sessionIdleEntriesMax: 5 })),
            new Log(new KvStateMachine({ sessionsMax: 2, sessionIdleEntriesMax: 5 })),
          ];
          for (const o of ops) {
            const [r1, r2] = replicas.map((l) => l.apply(append(o.v), o.client, o.seq, o.seq - 1));
            expect(r1).toEqual(r2);
          }
          expect(replicas[0]?.sm.read(b('k'))).toEqual(replicas[1]?.sm.read(b('k')));
        },
      ),
    );
  });

  it('with the unsafe no-session-dedup variant, a retried write applies again', () => {
    const log = new Log(new KvStateMachine({}, new Set(['no-session-dedup'])));
    log.apply(append('x'), 7, 1, 0);
    log.apply(append('x'), 7, 1, 0);
    expect(valueOf(log.sm.read(b('k')))).toBe('xx');
  });

  it('applies commands without a session (client 0) every time', () => {
    const log = new Log(new KvStateMachine());
    log.apply(append('x'));
    log.apply(append('x'));
    expect(valueOf(log.sm.read(b('k')))).toBe('xx');
  });
});

describe('clone (the simulator restarts from a copy instead of replaying)', () => {
  it('a clone and its original give the same results from then on, and stay independent', () => {
    const sm = new KvStateMachine({ sessionsMax: 2, sessionIdleEntriesMax: 5 });
    const log = new Log(sm);
    log.apply({ type: 'put', key: b('a'), value: b('1') }, 1, 1, 0);
    log.apply({ type: 'append', key: b('a'), value: b('2') }, 2, 1, 0);
    log.apply({ type: 'put', key: b('b'), value: b('x') }, 3, 1, 0);
    const clone = sm.clone();
    const cloneLog = new Log(clone);
    cloneLog.index = log.index;
    expect(clone.appliedIndex).toBe(sm.appliedIndex);
    // Session 1 was evicted (sessionsMax 2) in both, so its put is refused; client 2's retry is a duplicate.
    const ops: [KvOp, number, number, number][] = [
      [{ type: 'append', key: b('a'), value: b('3') }, 2, 1, 0],
      [{ type: 'put', key: b('a'), value: b('9') }, 1, 2, 1],
      [{ type: 'cas', key: b('b'), expected: b('x'), value: b('y') }, 4, 1, 0],
      [{ type: 'get', key: b('a') }, 0, 0, 0],
    ];
    for (const [op, client, seq, acked] of ops) {
      expect(cloneLog.apply(op, client, seq, acked)).toEqual(log.apply(op, client, seq, acked));
    }
    clone.apply(++cloneLog.index, cmd({ type: 'delete', key: b('a') }));
    expect(valueOf(sm.read(b('a')))).toBe('12');
    expect(clone.read(b('a'))).toEqual({ ok: true, found: false });
    expect(sm.sessionCount).toBe(clone.sessionCount);
  });
});

describe('applyCommand (a caller that decoded the entry itself)', () => {
  it('gives the same results and state as apply on the bytes', () => {
    const viaBytes = new KvStateMachine();
    const viaCommand = new KvStateMachine();
    const commands = [
      cmd({ type: 'put', key: b('k'), value: b('a') }, 7, 1, 0),
      cmd({ type: 'append', key: b('k'), value: b('b') }, 7, 2, 1),
      cmd({ type: 'append', key: b('k'), value: b('b') }, 7, 2, 1), // a retry: deduplicated
      cmd({ type: 'cas', key: b('k'), expected: b('zz'), value: b('c') }, 8, 1, 0),
    ];
    commands.forEach((bytes, i) => {
      expect(viaCommand.applyCommand(i + 1, decodeCommand(bytes))).toEqual(viaBytes.apply(i + 1, bytes));
    });
    expect(valueOf(viaCommand.read(b('k')))).toBe('ab');
    expect(viaCommand.appliedIndex).toBe(4);
  });
});

describe('snapshot and restore (log compaction, InstallSnapshot)', () => {
  const limits = { sessionsMax: 3, sessionIdleEntriesMax: 6 };
  const keyOp = (key: string, v: string): KvOp => ({ type: 'append', key: b(key), value: b(v) });

  /** A replica restored from `sm`'s snapshot, with its log at the same index. */
  function restored(sm: KvStateMachine, unsafe: ReadonlySet<'snapshot-without-sessions'> = new Set()): Log {
    const copy = new KvStateMachine(limits, unsafe);
    copy.restore(sm.snapshot(), sm.appliedIndex);
    const log = new Log(copy);
    log.index = sm.appliedIndex;
    return log;
  }

  it('round-trips any history: same digest, and the same results and state from then on (property)', () => {
    const op = fc.record({
      key: fc.constantFrom('a', 'b', '\u00ff\u0000'),
      client: fc.integer({ min: 0, max: 5 }),
      seq: fc.integer({ min: 1, max: 8 }),
      v: fc.string({ maxLength: 3 }),
      kind: fc.constantFrom('append', 'put', 'delete', 'cas'),
    });
    const toOp = (o: { key: string; v: string; kind: string }): KvOp =>
      o.kind === 'delete'
        ? { type: 'delete', key: b(o.key) }
        : o.kind === 'cas'
          ? { type: 'cas', key: b(o.key), expected: o.v === '' ? null : b(o.v), value: b(o.v + '!') }
          : { type: o.kind as 'put' | 'append', key: b(o.key), value: b(o.v) };
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(op, { maxLength: 40 }), (before, after) => {
        const log = new Log(new KvStateMachine(limits));
        for (const o of before) log.apply(toOp(o), o.client, o.seq, o.seq - 1);
        const copy = restored(log.sm);
        expect(copy.sm.digest()).toBe(log.sm.digest());
        expect(copy.sm.snapshot()).toEqual(log.sm.snapshot());
        for (const o of after) {
          const args = [toOp(o), o.client, o.seq, o.seq - 1] as const;
          expect(copy.apply(...args)).toEqual(log.apply(...args));
        }
        expect(copy.sm.digest()).toBe(log.sm.digest());
      }),
    );
  });

  it('a write retried after a restore applies once and answers with the original result', () => {
    const log = new Log(new KvStateMachine(limits));
    const first = log.apply(keyOp('k', 'x'), 7, 1, 0);
    log.apply(keyOp('other', 'y'), 8, 1, 0);
    const copy = restored(log.sm);
    expect(copy.apply(keyOp('k', 'x'), 7, 1, 0)).toEqual(first);
    expect(valueOf(copy.sm.read(b('k')))).toBe('x');
    expect(valueOf(copy.apply(keyOp('k', 'z'), 7, 2, 1))).toBe('xz');
  });

  it('keeps expiry bookkeeping: an expired client stays refused, idle order decides the next eviction', () => {
    const log = new Log(new KvStateMachine(limits));
    log.apply(keyOp('k', '1'), 1, 1, 0);
    for (let i = 0; i < 7; i++) log.apply(keyOp('k', '.'), 0); // client 1 idles out (6 entries)
    log.apply(keyOp('k', '2'), 2, 1, 0);
    log.apply(keyOp('k', '3'), 3, 1, 0);
    const copy = restored(log.sm);
    expect(copy.apply(keyOp('k', '1'), 1, 1, 0)).toMatchObject({
      ok: false,
      error: { code: 'SESSION_EXPIRED' },
    });
    expect(log.apply(keyOp('k', '1'), 1, 1, 0)).toMatchObject({
      ok: false,
      error: { code: 'SESSION_EXPIRED' },
    });
    // Two new clients fill the table (sessionsMax 3): client 2, idle longest, goes in both.
    for (const [l, c] of [
      [log, 4],
      [log, 5],
      [copy, 4],
      [copy, 5],
    ] as const)
      l.apply(keyOp('k', 'n'), c, 1, 0);
    expect(copy.apply(keyOp('k', '2'), 2, 1, 0)).toEqual(log.apply(keyOp('k', '2'), 2, 1, 0));
    expect(copy.sm.digest()).toBe(log.sm.digest());
  });

  it('refuses a truncated or foreign image and keeps its state', () => {
    const log = new Log(new KvStateMachine(limits));
    log.apply(keyOp('k', 'x'), 7, 1, 0);
    const image = log.sm.snapshot();
    const target = new KvStateMachine(limits);
    for (const bad of [image.subarray(0, image.length - 1), b('nope'), new Uint8Array([...image, 0])])
      expect(() => target.restore(bad, 1)).toThrow(/snapshot/);
    expect(() => target.restore(image, 0)).toThrow(/restored as index 0/);
    expect(target.appliedIndex).toBe(0);
    expect(target.size).toBe(0);
  });

  it('with the unsafe snapshot-without-sessions variant, a retried write applies twice after a restore', () => {
    const unsafe = new Set(['snapshot-without-sessions'] as const);
    const log = new Log(new KvStateMachine(limits, unsafe));
    log.apply(keyOp('k', 'x'), 7, 1, 0);
    const copy = restored(log.sm, unsafe);
    // Its session is gone: the retry of the client's first write looks new and applies again.
    copy.apply(keyOp('k', 'x'), 7, 1, 0);
    expect(valueOf(copy.sm.read(b('k')))).toBe('xx');
    expect(copy.sm.digest()).not.toBe(log.sm.digest());
  });
});
