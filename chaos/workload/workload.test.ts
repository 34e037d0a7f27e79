import { describe, expect, it } from 'vitest';
import type { ClientEvent, HistoryEvent } from '../../checker/history-types.js';
import { RaftlabError } from '../../shared/errors.js';
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
  freshReadClients: false,
};

async function runFor(ms: number, workload: Workload): Promise<void> {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms);
  await workload.run(controller.signal);
}

function clientEvents(events: readonly HistoryEvent[]): ClientEvent[] {
  return events.filter((event): event is ClientEvent => event.type !== 'nemesis');
}

describe('the workload', () => {
  it('retires a process after an info and never uses its id again', async () => {
    const store = fakeStore(7);
    const memory = new MemoryHistory();
    const recorder = new Recorder(memory, () => performance.now() * 1e6);
    const workload = new Workload(options, store.factory, recorder, new Random(1));
    await runFor(300, workload);
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
    const memory = new MemoryHistory();
    const recorder = new Recorder(memory, () => performance.now() * 1e6);
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
    const workload = new Workload(options, meddling, recorder, new Random(2));
    await runFor(200, workload);
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
    const memory = new MemoryHistory();
    const recorder = new Recorder(memory, () => performance.now() * 1e6);
    const workload = new Workload(options, store.factory, recorder, new Random(3));
    await runFor(200, workload);
    const perKey = new Map<string, number>();
    for (const e of clientEvents(memory.events))
      if (e.type === 'invoke') perKey.set(e.key, (perKey.get(e.key) ?? 0) + 1);
    for (const count of perKey.values()) expect(count).toBeLessThanOrEqual(options.opsPerKey);
    const summary = await finalReads(workload, store.factory, { parallelism: 3, attemptsPerKey: 2 });
    expect(summary.read).toBe(workload.keys.allKeys().length);
    const finals = clientEvents(memory.events).slice(-2 * summary.keys);
    expect(new Set(finals.map((e) => e.key))).toEqual(new Set(workload.keys.allKeys()));
  });

  it('reads through a fresh client homed at the process node, writes through the long-lived one', async () => {
    const store = fakeStore(0);
    const homes: [number, number][] = [];
    const factory = (process: number, home: number) => (homes.push([process, home]), store.factory(process));
    const memory = new MemoryHistory();
    const recorder = new Recorder(memory, () => performance.now() * 1e6);
    const workload = new Workload(
      { ...options, freshReadClients: true, nodes: 3 },
      factory,
      recorder,
      new Random(5),
    );
    await runFor(200, workload);
    const reads = clientEvents(memory.events).filter((e) => e.type === 'invoke' && e.f === 'get').length;
    expect(reads).toBeGreaterThan(5);
    // One long-lived client per process, plus one per read; every client starts at its home node.
    expect(homes.length).toBe(options.concurrency + reads);
    for (const [process, home] of homes) expect(home).toBe(process % 3);
  });

  it('holds the total rate near --rate', async () => {
    const store = fakeStore(0);
    const memory = new MemoryHistory();
    const recorder = new Recorder(memory, () => performance.now() * 1e6);
    const workload = new Workload({ ...options, rateOpsPerSec: 100 }, store.factory, recorder, new Random(4));
    await runFor(1000, workload);
    expect(workload.counters.invoked).toBeGreaterThan(40); // late timers on a loaded machine only lower it
    expect(workload.counters.invoked).toBeLessThan(140);
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
