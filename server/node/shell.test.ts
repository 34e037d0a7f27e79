// The node shell over a scripted disk: what leaves before and after a write is durable, what the
// clients hear when a leader loses office, when reads are answered, what waits in the inbox.
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../raft/node.js';
import { createRng } from '../raft/rng.js';
import type { Entry, HardState, Message, Ready, Snapshot } from '../raft/types.js';
import type { UnsafeVariant } from '../raft/unsafe.js';
import { encodeCommand, type KvCommand } from '../kv/command.js';
import { KvStateMachine } from '../kv/state-machine.js';
import type { Logger } from '../../shared/log.js';
import { buildNodeConfig } from './config.js';
import { kvMachine } from './machine.js';
import type { Outcome } from './pending.js';
import { NodeShell, type PersistStatus } from './shell.js';

const enc = new TextEncoder();
const quiet: Logger = {
  debugEnabled: false,
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** One node under test; `events` records disk writes and sends in the order they happened. */
function harness(
  id: string,
  options: {
    syncing?: boolean;
    unsafe?: UnsafeVariant[];
    inboxMessagesMax?: number;
    snapshotEntries?: number;
    snapshotTailEntries?: number;
    /** How the disk answers saveSnapshot: at once (default), when the test calls saves[i](), or failing. */
    save?: 'now' | 'later' | 'fail';
  } = {},
) {
  const unsafe = new Set(options.unsafe ?? []);
  const config = buildNodeConfig({
    id,
    voters: ['n1', 'n2', 'n3'],
    tickMs: 10,
    heartbeatIntervalMs: 20,
    electionTimeoutMs: 100,
    unsafe,
  });
  const core = new RaftNode({ ...config.raft, rng: createRng(7) });
  const events: string[] = [];
  const sent: Message[] = [];
  const answers: { request: string; outcome: Outcome }[] = [];
  const saves: (() => void)[] = [];
  const kv = new KvStateMachine(config.kvLimits, unsafe);
  const shell = new NodeShell<string>({
    core,
    machine: kvMachine(kv),
    disk: {
      persist: (
        hardState: HardState | undefined,
        entries: readonly Entry[],
        mustSync: boolean,
        ready: Ready,
      ): PersistStatus => {
        const snap = ready.snapshot ? `snapshot=${ready.snapshot.meta.index} ` : '';
        events.push(
          `persist ${snap}entries=${entries.length} vote=${hardState?.vote || '-'} sync=${mustSync}`,
        );
        return mustSync && options.syncing ? 'syncing' : 'done';
      },
      saveSnapshot: (snapshot: Snapshot, done: (error?: Error) => void) => {
        events.push(`saveSnapshot ${snapshot.meta.index}/${snapshot.meta.term}`);
        if (options.save === 'fail') done(new Error('disk full'));
        else if (options.save === 'later') saves.push(() => done());
        else done();
      },
      releaseLog: (through: number) => events.push(`releaseLog ${through}`),
    },
    send: (messages) => {
      for (const m of messages) {
        events.push(`send ${m.type} -> ${m.to}`);
        sent.push(m);
      }
    },
    answer: (request, outcome) => answers.push({ request, outcome }),
    log: quiet,
    unsafe,
    electionTimeoutTicksMin: config.raft.electionTimeoutTicksMin,
    inboxMessagesMax: options.inboxMessagesMax ?? 100,
    applied: 0,
    snapshotEntries: options.snapshotEntries ?? 0,
    snapshotTailEntries: options.snapshotTailEntries ?? 0,
  });
  return { core, shell, kv, events, sent, answers, saves };
}

const put = (key: string, value: string, sequence = 1): KvCommand => ({
  clientId: 1,
  sequence,
  ackedSequence: sequence - 1,
  op: { type: 'put', key: enc.encode(key), value: enc.encode(value) },
});

const appendFromLeader = (to: string, entries: Entry[], commit = 0): Message => ({
  type: 'append',
  from: 'n1',
  to,
  term: 1,
  prevLogIndex: 0,
  prevLogTerm: 0,
  entries,
  commit,
});

/** Steps `message` and handles the Readies, completing any write the disk holds back. */
function deliver(h: ReturnType<typeof harness>, message?: Message): void {
  if (message) h.shell.step(message);
  h.shell.pump();
  while (h.shell.syncing) h.shell.persisted();
}

const ack = (from: string, matchIndex: number): Message => ({
  type: 'append-response',
  from,
  to: 'n1',
  term: 1,
  success: true,
  matchIndex,
  rejectIndex: 0,
  hintIndex: 0,
  hintTerm: 0,
  logLost: false,
});

/** n1 wins a pre-vote and a vote from n2: leader of term 1. */
function electN1(h: ReturnType<typeof harness>): void {
  h.core.campaign();
  h.shell.pump();
  h.shell.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 1, preVote: true, granted: true });
  h.shell.pump();
  h.shell.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 1, preVote: false, granted: true });
  h.shell.pump();
  expect(h.core.currentRole()).toBe('leader');
}

describe('the node shell', () => {
  it('sends a follower acknowledgement only once its entries are durable', () => {
    const h = harness('n2', { syncing: true });
    const entry: Entry = { term: 1, index: 1, type: 'normal', data: encodeCommand(put('x', '1')) };
    h.shell.step(appendFromLeader('n2', [entry]));
    h.shell.pump();
    expect(h.events).toEqual(['persist entries=1 vote=- sync=true']);
    h.shell.persisted();
    expect(h.events).toEqual(['persist entries=1 vote=- sync=true', 'send append-response -> n1']);
  });

  it('sends a vote only once the vote is durable', () => {
    const h = harness('n2', { syncing: true });
    h.shell.step({
      type: 'vote',
      from: 'n3',
      to: 'n2',
      term: 1,
      preVote: false,
      lastLogIndex: 0,
      lastLogTerm: 0,
    });
    h.shell.pump();
    expect(h.events).toEqual(['persist entries=0 vote=n3 sync=true']);
    h.shell.persisted();
    expect(h.events.at(-1)).toBe('send vote-response -> n3');
  });

  it('lets a leader send its appends while its own write is in flight', () => {
    const h = harness('n1', { syncing: true });
    h.core.campaign();
    deliver(h);
    deliver(h, { type: 'vote-response', from: 'n2', to: 'n1', term: 1, preVote: true, granted: true });
    h.events.length = 0;
    h.shell.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 1, preVote: false, granted: true });
    h.shell.pump(); // leader: its no-op entry is being written, the appends carrying it go out
    expect(h.events[0]).toBe('persist entries=1 vote=- sync=true');
    expect(h.events.slice(1).sort()).toEqual(['send append -> n2', 'send append -> n3']);
  });

  it('with the unsafe send-before-persist, acknowledges before the write', () => {
    const h = harness('n2', { syncing: true, unsafe: ['send-before-persist'] });
    const entry: Entry = { term: 1, index: 1, type: 'noop', data: new Uint8Array(0) };
    h.shell.step(appendFromLeader('n2', [entry]));
    h.shell.pump();
    expect(h.events).toEqual(['send append-response -> n1', 'persist entries=1 vote=- sync=true']);
  });

  it('fails pending writes as indeterminate and reads as definite when the leader loses office', () => {
    const h = harness('n1');
    electN1(h);
    h.shell.submitWrite('w1', put('x', '1'));
    h.shell.submitRead('r1', enc.encode('x'));
    h.shell.pump();
    expect(h.answers).toEqual([]);
    h.shell.step({ type: 'heartbeat', from: 'n3', to: 'n1', term: 2, commit: 0, context: new Uint8Array(0) });
    h.shell.pump();
    const byRequest = new Map(h.answers.map((a) => [a.request, a.outcome]));
    expect(byRequest.get('w1')).toMatchObject({
      ok: false,
      error: { code: 'NOT_LEADER', definite: false, leaderHint: 'n3' },
    });
    expect(byRequest.get('r1')).toMatchObject({ ok: false, error: { code: 'NOT_LEADER', definite: true } });
  });

  it('answers a write once its entry is committed and applied', () => {
    const h = harness('n1');
    electN1(h);
    h.shell.submitWrite('w1', put('x', '1'));
    h.shell.pump();
    deliver(h, ack('n2', 1)); // the no-op: n2 leaves probing, the write goes out
    const append = h.sent.filter((m) => m.type === 'append' && m.to === 'n2').at(-1);
    expect(append?.type === 'append' && append.prevLogIndex + append.entries.length).toBe(2);
    expect(h.answers).toEqual([]);
    h.shell.step(ack('n2', 2));
    h.shell.pump();
    expect(h.answers).toEqual([{ request: 'w1', outcome: { ok: true, existed: false } }]);
    expect(h.shell.appliedIndex).toBe(2);

    // A read waits for a heartbeat round that confirms leadership, then sees the write.
    h.shell.submitRead('r1', enc.encode('x'));
    h.shell.pump();
    expect(h.answers).toHaveLength(1);
    const beat = h.sent.filter((m) => m.type === 'heartbeat' && m.to === 'n3').at(-1);
    if (beat?.type !== 'heartbeat') throw new Error('no heartbeat round for the read');
    deliver(h, { type: 'heartbeat-response', from: 'n3', to: 'n1', term: 1, context: beat.context });
    expect(h.answers[1]).toEqual({
      request: 'r1',
      outcome: { ok: true, found: true, value: enc.encode('1') },
    });
  });

  it('refuses clients on a follower with a hint, and with OVERLOADED once the inbox is full', () => {
    const f = harness('n2');
    f.shell.step(appendFromLeader('n2', [{ term: 1, index: 1, type: 'noop', data: new Uint8Array(0) }]));
    f.shell.pump();
    f.shell.submitWrite('w', put('x', '1'));
    expect(f.answers[0]?.outcome).toMatchObject({
      ok: false,
      error: { code: 'NOT_LEADER', leaderHint: 'n1', definite: true },
    });

    const h = harness('n1', { syncing: true, inboxMessagesMax: 1 });
    h.core.campaign();
    deliver(h);
    h.shell.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 1, preVote: true, granted: true });
    h.shell.pump(); // the candidate's vote for itself is being written
    expect(h.shell.syncing).toBe(true);
    expect(
      h.shell.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 1, preVote: false, granted: true }),
    ).toBe(true);
    expect(
      h.shell.step({ type: 'vote-response', from: 'n3', to: 'n1', term: 1, preVote: false, granted: true }),
    ).toBe(false);
    expect(h.core.currentRole()).toBe('candidate'); // the queued vote waits for the write
    h.shell.persisted();
    expect(h.core.currentRole()).toBe('leader');
  });

  it('runs the election clock ahead when the connection to its leader is lost', () => {
    const h = harness('n2');
    h.shell.step(appendFromLeader('n2', [{ term: 1, index: 1, type: 'noop', data: new Uint8Array(0) }]));
    h.shell.pump();
    h.shell.peerLost('n3'); // not the leader: nothing happens
    for (let i = 0; i < 10; i++) h.shell.tick();
    h.shell.pump();
    expect(h.core.currentRole()).toBe('follower');
    h.shell.peerLost('n1');
    h.shell.pump();
    expect(h.core.currentRole()).toBe('pre-candidate');
  });

  it('fails everything waiting with SHUTTING_DOWN on close, writes as indeterminate', () => {
    const h = harness('n1');
    electN1(h);
    h.shell.submitWrite('w1', put('x', '1'));
    h.shell.pump();
    h.shell.close();
    expect(h.answers).toEqual([
      {
        request: 'w1',
        outcome: {
          ok: false,
          error: { code: 'SHUTTING_DOWN', message: 'the server is shutting down', definite: false },
        },
      },
    ]);
    h.shell.submitRead('r', enc.encode('x'));
    expect(h.answers.at(-1)?.outcome).toMatchObject({
      ok: false,
      error: { code: 'SHUTTING_DOWN', definite: true },
    });
  });
});

/** `count` put entries x1..xN of term 1 from index 1, committed. */
function puts(count: number): Entry[] {
  return Array.from({ length: count }, (_, i) => ({
    term: 1,
    index: i + 1,
    type: 'normal' as const,
    data: encodeCommand(put(`k${i + 1}`, `v${i + 1}`, i + 1)),
  }));
}

/** An append to n2 of `entries` after index `prev` (term 1), with commit `commit`. */
function appendAt(prev: number, entries: Entry[], commit: number): Message {
  return { ...appendFromLeader('n2', entries, commit), prevLogIndex: prev, prevLogTerm: 1 } as Message;
}

describe('the node shell: snapshots', () => {
  it('takes a snapshot every snapshotEntries applied entries; compacts and releases only once it is durable', () => {
    const h = harness('n2', { snapshotEntries: 4, snapshotTailEntries: 1, save: 'later' });
    deliver(h, appendFromLeader('n2', puts(5), 5));
    expect(h.events.filter((e) => !e.startsWith('send') && !e.startsWith('persist'))).toEqual([
      'saveSnapshot 5/1',
    ]);
    expect(h.core.logStart().index).toBe(0); // not durable yet: nothing compacted
    h.saves.shift()?.();
    expect(h.events.at(-1)).toBe('releaseLog 4');
    expect(h.core.logStart()).toEqual({ index: 4, term: 1 });
    expect(h.shell.snapshotIndex).toBe(5);
    // The next one waits for another 4 entries.
    deliver(h, appendAt(5, puts(8).slice(5), 8));
    expect(h.events.filter((e) => e.startsWith('saveSnapshot'))).toHaveLength(1);
    deliver(h, appendAt(8, puts(9).slice(8), 9));
    expect(h.events.filter((e) => e.startsWith('saveSnapshot')).at(-1)).toBe('saveSnapshot 9/1');
  });

  it('a failed save compacts nothing and is retried snapshotEntries entries later', () => {
    const h = harness('n2', { snapshotEntries: 2, save: 'fail' });
    deliver(h, appendFromLeader('n2', puts(2), 2));
    expect(h.events.filter((e) => e.startsWith('saveSnapshot'))).toEqual(['saveSnapshot 2/1']);
    deliver(h, appendAt(2, puts(3).slice(2), 3));
    expect(h.events.filter((e) => e.startsWith('saveSnapshot'))).toHaveLength(1);
    deliver(h, appendAt(3, puts(4).slice(3), 4));
    expect(h.events.filter((e) => e.startsWith('saveSnapshot'))).toEqual([
      'saveSnapshot 2/1',
      'saveSnapshot 4/1',
    ]);
    expect(h.events.some((e) => e.startsWith('releaseLog'))).toBe(false);
    expect(h.core.logStart().index).toBe(0);
  });

  it('with the unsafe compact-unsnapshotted, compacts and releases before the snapshot is durable', () => {
    const h = harness('n2', { snapshotEntries: 4, save: 'later', unsafe: ['compact-unsnapshotted'] });
    deliver(h, appendFromLeader('n2', puts(5), 5));
    expect(h.saves).toHaveLength(1);
    expect(h.events.slice(-2)).toEqual(['releaseLog 5', 'saveSnapshot 5/1']);
    expect(h.core.logStart().index).toBe(5);
  });

  it('installs a received snapshot: durable first, then the machine is restored, then the acknowledgement leaves', () => {
    const h = harness('n2', { syncing: true });
    const source = new KvStateMachine();
    puts(6).forEach((e) => source.apply(e.index, e.data));
    const image = source.snapshot();
    h.shell.step({
      type: 'snapshot',
      from: 'n1',
      to: 'n2',
      term: 1,
      metaIndex: 6,
      metaTerm: 1,
      offset: 0,
      data: image,
      done: true,
      totalBytes: image.length,
    });
    h.shell.pump();
    expect(h.events).toEqual(['persist snapshot=6 entries=0 vote=- sync=true']);
    expect(h.shell.appliedIndex).toBe(0);
    h.shell.persisted();
    expect(h.events.at(-1)).toBe('send append-response -> n1');
    expect(h.shell.appliedIndex).toBe(6);
    expect(h.kv.digest()).toBe(source.digest());
    expect(h.core.status()).toMatchObject({ commit: 6, applied: 6, lastIndex: 6 });
    // Entries after the snapshot apply on top of it.
    deliver(h, appendAt(6, puts(7).slice(6), 7));
    expect(h.shell.appliedIndex).toBe(7);
  });

  it('fails the writes a snapshot covers as indeterminate', () => {
    const h = harness('n1');
    electN1(h);
    h.shell.submitWrite('w1', put('x', '1'));
    h.shell.pump();
    // A new leader of term 2 replaces n1's log with a snapshot at 5 (n1 missed entries 2..5).
    const source = new KvStateMachine();
    puts(5).forEach((e) => source.apply(e.index, e.data));
    const image = source.snapshot();
    const chunk = { offset: 0, data: image, done: true, totalBytes: image.length };
    deliver(h, { type: 'snapshot', from: 'n3', to: 'n1', term: 2, metaIndex: 5, metaTerm: 2, ...chunk });
    expect(h.answers).toEqual([
      {
        request: 'w1',
        outcome: expect.objectContaining({ ok: false, error: expect.objectContaining({ definite: false }) }),
      },
    ]);
    expect(h.shell.appliedIndex).toBe(5);
  });
});
