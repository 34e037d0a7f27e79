// Failpoints and power cuts. The unit half checks parsing and the lab-only guard; the WAL half
// shows a power cut drops exactly what was not fsynced; the process half runs real servers on the
// lab's local runtime: a power cut of every node loses acknowledged writes with the unsafe
// ack-before-fsync WAL and keeps them with the real one, a crash failpoint kills a node at its
// point and the node comes back, and a slow clock on an isolated leader makes a lease read stale
// (lease-read-no-clock-bound) while the same read at true rate, or with ReadIndex, is refused.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../client/index.js';
import { LocalRuntime } from '../../chaos/runtime/local/local-runtime.js';
import { serverBin } from '../../chaos/runtime/project.js';
import { openWal } from '../storage/index.js';
import { armFailpoints, FailpointConfigError, LAB_RUN_ENV, parseFailpoints } from './failpoints.js';

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'raftlab-failpoints-'));
  process.env.RAFTLAB_STATE_DIR = join(base, 'state');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('failpoint settings', () => {
  it('parses actions, probabilities and nth hits, and names what is wrong', () => {
    const points = parseFailpoints('wal-after-write-before-fsync=crash@0.25, after-vote-persisted=power#3');
    expect(points.get('wal-after-write-before-fsync')).toMatchObject({ action: 'crash', probability: 0.25 });
    expect(points.get('after-vote-persisted')).toMatchObject({ action: 'power', nth: 3 });
    expect(() => parseFailpoints('no-such-point=crash')).toThrow(/unknown failpoint "no-such-point"/);
    expect(() => parseFailpoints('after-vote-persisted=explode')).toThrow(/expected name=crash/);
    expect(() => parseFailpoints('after-vote-persisted=crash@1.5')).toThrow(/probability/);
  });

  it('refuses failpoints in a process the lab did not start, and is off when unset', () => {
    expect(() => armFailpoints({ RAFTLAB_FAILPOINTS: 'after-vote-persisted=crash' })).toThrow(
      FailpointConfigError,
    );
    expect(armFailpoints({})).toBeUndefined();
    expect(
      armFailpoints({ RAFTLAB_FAILPOINTS: 'after-vote-persisted=crash#1000000', [LAB_RUN_ENV]: 't' }),
    ).toMatch(/FAILPOINTS armed/);
    armFailpoints({}); // disarm again for the rest of this process
  });
});

describe('power cut of the WAL', () => {
  const entry = (index: number) => ({
    index,
    term: 1,
    type: 'normal' as const,
    data: new Uint8Array([index]),
  });

  async function cutAfterSaves(dir: string, ackBeforeFsync: boolean): Promise<number> {
    const wal = await openWal(dir, {}, { ackBeforeFsync });
    await wal.save({ term: 1, vote: 'n1', commit: 0 }, [entry(1), entry(2)]);
    await wal.save(undefined, [entry(3)]);
    wal.dropUnsyncedSync();
    await wal.close();
    const reopened = await openWal(dir);
    const count = reopened.state.entries.length;
    await reopened.close();
    return count;
  }

  it('keeps every fsynced save and drops every save that was only written', async () => {
    expect(await cutAfterSaves(join(base, 'wal-safe'), false)).toBe(3);
    expect(await cutAfterSaves(join(base, 'wal-unsafe'), true)).toBe(0);
  });

  it('never writes the MEMBER file after an ack-before-fsync save: no durable record backs it', async () => {
    const runs: boolean[] = [];
    for (const ackBeforeFsync of [false, true]) {
      const wal = await openWal(join(base, `wal-member-${ackBeforeFsync}`), {}, { ackBeforeFsync });
      let ran = false;
      wal.setAfterFirstSync(() => Promise.resolve(void (ran = true)));
      await wal.save({ term: 1, vote: 'n1', commit: 0 }, [entry(1)]);
      await wal.close();
      runs.push(ran);
    }
    expect(runs).toEqual([true, false]);
  });
});

const built = existsSync(serverBin());

describe.skipIf(!built)('power cuts and crash points on real servers (local runtime)', () => {
  async function writeCutRead(runId: string, unsafe: boolean): Promise<(string | undefined)[]> {
    const runtime = new LocalRuntime();
    try {
      const handles = await runtime.start({
        runId,
        nodes: ['n1', 'n2', 'n3'],
        serverArgs: unsafe ? ['--unsafe', 'ack-before-fsync'] : [],
        dataDir: join(base, runId, 'data'),
        logDir: join(base, runId, 'logs'),
        serverEnv: { RAFTLAB_LOSE_UNSYNCED: '1' },
      });
      const client = createClient({
        endpoints: handles.map((h) => h.clientEndpoint),
        operationTimeoutMs: 15_000,
      });
      try {
        for (let i = 0; i < 5; i++) await client.put(`k${i}`, `v${i}`); // each one acknowledged
        for (const h of handles) await runtime.powerCut(h.id);
        for (const h of handles) await runtime.restart(h.id);
        const values: (string | undefined)[] = [];
        for (let i = 0; i < 5; i++) values.push((await client.get(`k${i}`)) ?? undefined);
        return values;
      } finally {
        client.close();
      }
    } finally {
      await runtime.teardown();
    }
  }

  it('a power cut of every node keeps acknowledged writes on the real WAL', async () => {
    expect(await writeCutRead('power-safe', false)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  }, 60_000);

  it('a power cut of every node loses acknowledged writes with --unsafe ack-before-fsync', async () => {
    expect(await writeCutRead('power-unsafe', true)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  }, 60_000);

  it('a crash failpoint kills the node right there, and it restarts on its data', async () => {
    const runtime = new LocalRuntime();
    const runId = 'crash-point';
    try {
      const handles = await runtime.start({
        runId,
        nodes: ['n1'],
        serverArgs: [],
        dataDir: join(base, runId, 'data'),
        logDir: join(base, runId, 'logs'),
        serverEnv: { RAFTLAB_FAILPOINTS: 'wal-after-fsync-before-ack=crash#4' },
      });
      const client = createClient({ endpoints: [handles[0]!.clientEndpoint], operationTimeoutMs: 3000 });
      try {
        const outcomes: string[] = [];
        for (let i = 0; i < 6; i++)
          outcomes.push(
            await client.put(`k${i}`, 'x').then(
              () => 'ok',
              (e: Error) => e.name,
            ),
          );
        expect(outcomes).toContain('ok');
        expect(outcomes.at(-1)).not.toBe('ok'); // the node died at its 4th WAL round
        const log = readFileSync(join(base, runId, 'logs', 'n1.log'), 'utf8');
        expect(log).toMatch(/failpoint wal-after-fsync-before-ack: crash \(hit 4\)/);
        await runtime.restart('n1'); // restarts with the failpoint armed again, counting afresh
        expect(await client.get('k0')).toBe('x');
      } finally {
        client.close();
      }
    } finally {
      await runtime.teardown();
    }
  }, 60_000);
});

describe.skipIf(!built)('clock faults on real servers (local runtime)', () => {
  /**
   * Slows the leader's clock, isolates it, writes through the others once they elected a new
   * leader, then reads from the old leader alone: what it answers (or that it does not).
   */
  async function staleReadAfterSlowClock(runId: string, serverArgs: string[], rate = 0.02): Promise<string> {
    const runtime = new LocalRuntime();
    try {
      const handles = await runtime.start({
        runId,
        nodes: ['n1', 'n2', 'n3'],
        serverArgs: ['--election-timeout-ms', '500', '--heartbeat-interval-ms', '50', ...serverArgs],
        dataDir: join(base, runId, 'data'),
        logDir: join(base, runId, 'logs'),
      });
      const all = createClient({
        endpoints: handles.map((h) => h.clientEndpoint),
        operationTimeoutMs: 15_000,
      });
      try {
        await all.put('k', 'old');
        const leader = (await all.status()).leaderId;
        const others = handles.filter((h) => h.id !== leader).map((h) => h.id);
        await runtime.setClock(leader, { rate, offsetMs: 0 }); // 0.02: 50 times slow
        await new Promise((resolve) => setTimeout(resolve, 200));
        await runtime.partition(
          new Map([[leader, new Set(others)], ...others.map((o) => [o, new Set([leader])] as const)]),
        );
        const majority = createClient({
          endpoints: handles.filter((h) => h.id !== leader).map((h) => h.clientEndpoint),
          operationTimeoutMs: 15_000,
        });
        await majority.put('k', 'new'); // acknowledged by the new leader
        majority.close();
        const pinned = createClient({
          endpoints: [handles.find((h) => h.id === leader)!.clientEndpoint],
          operationTimeoutMs: 1500,
        });
        const answer = await pinned.get('k').then(
          (value) => `read ${value}`,
          (error: Error) => `failed ${error.name}`,
        );
        pinned.close();
        return answer;
      } finally {
        all.close();
      }
    } finally {
      await runtime.teardown();
    }
  }

  it('a leader with a slow clock serves a stale lease read after the others moved on', async () => {
    expect(await staleReadAfterSlowClock('clock-lease', ['--unsafe', 'lease-read-no-clock-bound'])).toBe(
      'read old',
    );
  }, 60_000);

  it('the same lease read at true clock rate has lapsed by then: no stale answer', async () => {
    expect(
      await staleReadAfterSlowClock('clock-lease-true', ['--unsafe', 'lease-read-no-clock-bound'], 1),
    ).toMatch(/^failed /);
  }, 60_000);

  it('with ReadIndex the slow, isolated leader cannot confirm a read: no stale answer', async () => {
    expect(await staleReadAfterSlowClock('clock-read-index', [])).toMatch(/^failed /);
  }, 60_000);
});
