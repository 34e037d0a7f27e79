import { describe, expect, it } from 'vitest';
import type { ClientEvent, HistoryEvent } from '../../checker/history-types.js';
import { RaftlabError } from '../../shared/errors.js';
import { FakeClock } from '../../test-support/fake-clock.js';
import { Random } from '../random.js';
import { MemoryHistory, Recorder } from '../recorder.js';
import { classifyError, type LabClient } from './client.js';
import { finalReads } from './final-reads.js';
import { KeyPool } from './keys.js';
import { Workload, type WorkloadOptions } from './workload.js';

/** An in-memory register per key; every `failEvery`-th call times out (after taking effect). */
function fakeStore(failEvery: number) {
  const data = new Map<string, string>();
  let calls = 0;
  const clientsMade: number[] = [];
  const maybeTimeout = () => {
    calls += 1;
    if (failEvery > 0 && calls % failEvery === 0) throw new RaftlabError('TIMEOUT', 'no answer in time');
  };
  const factory = (process: number): LabClient => {
    clientsMade.push(process);
    return {
      get: async (key) => (maybeTimeout(), data.get(key) ?? null),
      put: async (key, value) => {
        data.set(key, value);
        maybeTimeout();
      },
      cas: async (key, expected, value) => {
        if ((data.get(key) ?? null) !== expected) throw new RaftlabError('CAS_MISMATCH', 'differs');
        data.set(key, value);
        maybeTimeout();
      },
      append: async (key, value) => {
        const next = (data.get(key) ?? '') + value;
        data.set(key, next);
        maybeTimeout();
        return next;
      },
      close: () => undefined,
    };
  };
  return { factory, clientsMade, data };
}

const options: WorkloadOptions = {
  concurrency: 4,
  rateOpsPerSec: 2000,
  opsPerKey: 10,
  keysActive: 2,
  opDeadlineMs: 1000,
  nodes: 5,
  clientMode: 'pinned',
};

/** A workload on a fake clock, with a recorder that reads the same clock. */
function workloadWith(
  workloadOptions: WorkloadOptions,
  clients: ConstructorParameters<typeof Workload>[1],
  seed: number,
) {
  const clock = new FakeClock();
  const memory = new MemoryHistory();
  const recorder = new Recorder(memory, () => clock.nowMs() * 1e6);
  const workload = new Workload(workloadOptions, clients, recorder, new Random(seed), clock);
  return { clock, memory, recorder, workload };
}

/** Runs the workload for `ms` of fake time, then stops it and waits for every worker to finish. */
async function runFor(
  ms: number,
  { clock, workload }: { clock: FakeClock; workload: Workload },
): Promise<void> {
  const controller = new AbortController();
  const running = workload.run(controller.signal);
  await clock.advance(ms);
  controller.abort();
  // An operation in flight still settles (or meets its deadline) on the fake clock.
  await clock.until(running);
  expect(clock.pendingCount()).toBe(0);
}

function clientEvents(events: readonly HistoryEvent[]): ClientEvent[] {
  return events.filter((event): event is ClientEvent => event.type !== 'nemesis');
}

describe('the workload', () => {
  it('retires a process after an info and never uses its id again', async () => {
    const store = fakeStore(7);
    const run = workloadWith(options, store.factory, 1);
    const { memory, workload } = run;
    await runFor(300, run);
    const events = clientEvents(memory.events);
    expect(workload.counters.info).toBeGreaterThan(0);
    const infoProcesses = new Set(events.filter((e) => e.type === 'info').map((e) => e.process));
    for (const process of infoProcesses) {
      const after = events.findIndex((e) => e.type === 'info' && e.process === process);
      expect(events.slice(after + 1).some((e) => e.process === process)).toBe(false);
    }
    // Each process is sequential: its invocations and completions alternate.
    const open = new Set<number>();
    for (const event of events) {
      if (event.type === 'invoke') {
        expect(open.has(event.process)).toBe(false);
        open.add(event.process);
      } else {
        expect(open.delete(event.process)).toBe(true);
      }
    }
    expect(store.clientsMade.length).toBe(options.concurrency + infoProcesses.size);
  });

  it('records definite errors as fail, reads of absent keys as ok null, and keeps values unique', async () => {
    const store = fakeStore(0);
    // Another writer changes each key right after every read, so CAS expectations taken from reads are stale.
    let other = 0;
    const meddling = (process: number): LabClient => {
      const client = store.factory(process);
      return {
        ...client,
        get: async (key) => {
          const value = await client.get(key);
          store.data.set(key, `other.${other++}`);
          return value;
        },
      };
    };
    const run = workloadWith(options, meddling, 2);
    const { memory } = run;
    await runFor(200, run);
    const events = clientEvents(memory.events);
    const fails = events.filter((e) => e.type === 'fail');
    expect(fails.length).toBeGreaterThan(0);
    expect(fails.every((e) => e.f === 'cas' && e.error === 'CAS_MISMATCH')).toBe(true);
    expect(events.some((e) => e.type === 'ok' && e.f === 'get' && e.value === null)).toBe(true);
    const written = events.filter((e) => e.type === 'invoke' && e.f === 'put').map((e) => e.value);
    expect(new Set(written).size).toBe(written.length);
  });

  it('retires each key after ops-per-key operations and the final phase reads every key', async () => {
    const store = fakeStore(0);
    const run = workloadWith(options, store.factory, 3);
    const { memory, workload } = run;
    await runFor(200, run);
    const perKey = new Map<string, number>();
    for (const e of clientEvents(memory.events))
      if (e.type === 'invoke') perKey.set(e.key, (perKey.get(e.key) ?? 0) + 1);
    for (const count of perKey.values()) expect(count).toBeLessThanOrEqual(options.opsPerKey);
    const summary = await finalReads(workload, store.factory, { parallelism: 3, attemptsPerKey: 2 });
    expect(summary.read).toBe(workload.keys.allKeys().length);
    const finals = clientEvents(memory.events).slice(-2 * summary.keys);
    expect(new Set(finals.map((e) => e.key))).toEqual(new Set(workload.keys.allKeys()));
  });

  it('in leader mode reads through a fresh client homed at the worker node, writes through the long-lived one', async () => {
    const store = fakeStore(0);
    const made: [number, number, boolean][] = [];
    const factory = (process: number, home: number, pinned: boolean) => (
      made.push([process, home, pinned]),
      store.factory(process)
    );
    const run = workloadWith({ ...options, clientMode: 'leader', nodes: 3 }, factory, 5);
    const { memory } = run;
    await runFor(200, run);
    const reads = clientEvents(memory.events).filter((e) => e.type === 'invoke' && e.f === 'get').length;
    expect(reads).toBeGreaterThan(5);
    // One long-lived client per process, plus one per read; every client starts at its home node.
    expect(made.length).toBe(options.concurrency + reads);
    for (const [process, home, pinned] of made) expect([home, pinned]).toEqual([process % 3, false]);
  });

  it('pins every client of a worker to its home node, also after an info retires its process', async () => {
    const store = fakeStore(5);
    const made: [number, number, boolean][] = [];
    const factory = (process: number, home: number, pinned: boolean) => (
      made.push([process, home, pinned]),
      store.factory(process)
    );
    const run = workloadWith({ ...options, clientMode: 'pinned', nodes: 3 }, factory, 7);
    await runFor(300, run);
    const events = clientEvents(run.memory.events);
    expect(run.workload.counters.info).toBeGreaterThan(0);
    // No fresh reader clients: one client per process, each pinned, each process at its worker's home.
    const infos = events.filter((e) => e.type === 'info');
    expect(made.length).toBe(options.concurrency + infos.length);
    const homeOf = new Map<number, number>();
    for (const [process, home, pinned] of made) {
      expect(pinned).toBe(true);
      homeOf.set(process, home);
    }
    // The k-th info's process is replaced by process concurrency + k, at the same home (by process
    // number alone, 4 would be homed at n2 and 5 at n3).
    infos.forEach((info, k) => {
      const next = homeOf.get(options.concurrency + k);
      if (next !== undefined) expect(next).toBe(homeOf.get(info.process));
    });
    expect(made.slice(0, options.concurrency).map(([, home]) => home)).toEqual([0, 1, 2, 0]);
  });

  it('in mixed mode pins the first `nodes` workers and lets the next `nodes` follow the leader', async () => {
    const store = fakeStore(0);
    const made = new Map<number, boolean>();
    const factory = (process: number, _home: number, pinned: boolean) => (
      made.set(process, pinned),
      store.factory(process)
    );
    const run = workloadWith({ ...options, concurrency: 6, clientMode: 'mixed', nodes: 3 }, factory, 8);
    await runFor(100, run);
    expect([0, 1, 2, 3, 4, 5].map((w) => made.get(w))).toEqual([true, true, true, false, false, false]);
  });

  it('records the node that served each completion when the client knows it', async () => {
    const store = fakeStore(0);
    const factory = (process: number, home: number): LabClient => ({
      ...store.factory(process),
      servedBy: () => `n${home + 1}`,
    });
    const run = workloadWith({ ...options, nodes: 3 }, factory, 9);
    await runFor(100, run);
    const events = clientEvents(run.memory.events);
    const completions = events.filter((e) => e.type !== 'invoke');
    expect(completions.length).toBeGreaterThan(3);
    for (const e of completions) expect(e.node).toBe(`n${(e.process % 3) + 1}`);
    expect(events.filter((e) => e.type === 'invoke').every((e) => e.node === undefined)).toBe(true);
  });

  it('holds the total rate near --rate', async () => {
    const store = fakeStore(0);
    const run = workloadWith({ ...options, rateOpsPerSec: 100 }, store.factory, 4);
    await runFor(10_000, run);
    // 1000 expected in 10 s; gaps are uniform in [0, 2 x mean], so the count is within a few %.
    expect(run.workload.counters.invoked).toBeGreaterThan(900);
    expect(run.workload.counters.invoked).toBeLessThan(1100);
  });

  it('turns an operation that never settles into info at its deadline, and retires its process', async () => {
    const store = fakeStore(0);
    const hanging = (process: number): LabClient => ({
      ...store.factory(process),
      put: () => new Promise<void>(() => undefined),
    });
    const run = workloadWith({ ...options, concurrency: 1, opDeadlineMs: 1000 }, hanging, 6);
    await runFor(5000, run);
    const events = clientEvents(run.memory.events);
    const infos = events.filter((e) => e.type === 'info');
    expect(infos.length).toBeGreaterThan(0);
    for (const info of infos) {
      const before = events.slice(0, events.indexOf(info));
      const invoke = before.findLast((e) => e.type === 'invoke' && e.process === info.process);
      expect(info.f).toBe('put');
      expect((info.time - (invoke?.time ?? 0)) / 1e6).toBeCloseTo(1000, 6);
    }
  });
});

describe('error classification', () => {
  it('definite errors fail, indeterminate ones and unknown throwables are info', () => {
    expect(classifyError(new RaftlabError('NOT_LEADER', 'x'))).toEqual({ type: 'fail', code: 'NOT_LEADER' });
    expect(classifyError(new RaftlabError('TIMEOUT', 'x'))).toEqual({ type: 'info', code: 'TIMEOUT' });
    expect(classifyError(new Error('boom'))).toEqual({ type: 'info', code: 'INTERNAL' });
  });

  it('a key pool hands out fresh keys in order', () => {
    const pool = new KeyPool(1, 2);
    const random = new Random(0);
    expect([pool.take(random), pool.take(random), pool.take(random)]).toEqual(['k0', 'k0', 'k1']);
    expect(pool.allKeys()).toEqual(['k0', 'k1']);
  });
});
