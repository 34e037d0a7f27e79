import { describe, expect, it } from 'vitest';
import type { NemesisEvent } from '../../checker/history-types.js';
import { FakeClock } from '../../test-support/fake-clock.js';
import { sleep } from '../sleep.js';
import { MemoryHistory, Recorder } from '../recorder.js';
import { Random } from '../random.js';
import { Nemesis, type NemesisRuntime } from './nemesis.js';
import { planSchedule, type FaultStep } from './schedule.js';
import { reachable } from './shapes.js';

/** Each call is logged with the fake time it happened at, e.g. `kill n2@5`. */
function fakeRuntime(clock: FakeClock, failing: string[] = [], down = new Set<string>()) {
  const calls: string[] = [];
  const act = (name: string) => async () => {
    calls.push(`${name}@${clock.nowMs()}`);
    if (failing.includes(name)) throw new Error(`${name} refused`);
  };
  const runtime: NemesisRuntime = {
    kill: async (node) => act(`kill ${node}`)(),
    powerCut: async (node) => act(`power ${node}`)(),
    isRunning: async (node) => !down.has(node),
    setClock: async (node, s) => act(`clock ${node} ${s.rate} ${s.offsetMs}`)(),
    restart: async (node) => (down.delete(node), act(`restart ${node}`)()),
    pause: async (node) => act(`pause ${node}`)(),
    resume: async (node) => act(`resume ${node}`)(),
    partition: async (grudge) => act(`partition ${[...grudge.keys()].sort().join(',')}`)(),
    packetLoss: async (nodes, p) => act(`loss ${nodes.join(',')} ${p}`)(),
    heal: act('heal'),
  };
  return { runtime, calls };
}

const nodes = ['n1', 'n2', 'n3'];

function nemesisWith(
  clock: FakeClock,
  runtime: NemesisRuntime,
  leader: string | null | (() => string | null),
) {
  const memory = new MemoryHistory();
  const recorder = new Recorder(memory, () => clock.nowMs() * 1e6);
  const nemesis = new Nemesis({
    runtime,
    nodes,
    recorder,
    findLeader: async () => (typeof leader === 'function' ? leader() : leader),
    log: () => undefined,
    clock,
  });
  return { nemesis, events: () => memory.events as NemesisEvent[] };
}

describe('the nemesis', () => {
  it('isolates the leader it finds, undoes each fault after its duration, and records start and stop', async () => {
    const clock = new FakeClock();
    const { runtime, calls } = fakeRuntime(clock);
    const { nemesis, events } = nemesisWith(clock, runtime, 'n2');
    const steps: FaultStep[] = [
      { atMs: 1000, durationMs: 20_000, kind: 'partition', shape: 'isolate-leader', partition: null },
      { atMs: 5000, durationMs: 20_000, kind: 'kill', target: 'leader', nodes: null },
    ];
    await clock.until(nemesis.run(steps, clock.nowMs(), new AbortController().signal));
    expect(calls).toEqual([
      'partition n1,n2,n3@1000',
      'kill n2@5000',
      'partition @21000',
      'restart n2@25000',
    ]);
    expect(events().map((e) => `${e.time / 1e6} ${e.phase} ${e.fault} ${e.detail}`)).toEqual([
      '1000 start partition isolate n2 (the leader)',
      '5000 start kill kill n2 (the leader)',
      '21000 stop partition isolate n2 (the leader)',
      '25000 stop kill kill n2 (the leader)',
    ]);
    expect(clock.pendingCount()).toBe(0);
    expect(nemesis.inForce()).toEqual([]);
  });

  it('aims each leader-aimed schedule at the leader found when that fault starts', async () => {
    const clock = new FakeClock();
    const { runtime, calls } = fakeRuntime(clock);
    const grudges: ReadonlyMap<string, ReadonlySet<string>>[] = [];
    const recording: NemesisRuntime = {
      ...runtime,
      // The heals (an empty grudge) are left out.
      partition: async (g) => (g.size > 0 && grudges.push(g), runtime.partition(g)),
    };
    // The leader moves: n1 at the first fault, n3 at the second, n2 at the third.
    const leaders = ['n1', 'n3', 'n2'];
    const { nemesis, events } = nemesisWith(clock, recording, () => leaders.shift() ?? null);
    const steps = planSchedule(
      {
        nodes,
        kinds: [],
        aimed: ['isolate-leader', 'pause-leader', 'majorities-ring'],
        intervalMs: 1000,
        timeLimitMs: 60_000,
        shapes: [],
        targets: [],
      },
      new Random(11),
    );
    const shapes = steps.map((s) =>
      s.kind === 'partition' ? s.shape : `${s.kind} ${s.kind === 'pause' ? s.target : ''}`,
    );
    // Pick the first of each aimed schedule, in planned order, spaced so the leader is asked three times.
    const firsts = ['isolate-leader', 'pause leader', 'majorities-ring'].map(
      (want) => steps[shapes.indexOf(want)]!,
    );
    const spaced = firsts.map((step, i) => ({ ...step, atMs: i * 10_000, durationMs: 5000 }));
    await clock.until(nemesis.run(spaced, clock.nowMs(), new AbortController().signal));
    // isolate-leader: n1 (the leader then) hears nobody and nobody hears it; the others hear each other.
    const isolated = grudges[0]!;
    expect([...isolated.get('n1')!].sort()).toEqual(['n2', 'n3']);
    expect([...isolated.get('n2')!]).toEqual(['n1']);
    expect([...isolated.get('n3')!]).toEqual(['n1']);
    // pause-leader: n3, the leader at that moment.
    expect(calls).toContain('pause n3@10000');
    expect(calls).toContain('resume n3@15000');
    // majorities-ring: every node hears a majority (itself and one other of 3); the record names the leader.
    const ring = grudges[1]!;
    const asGrudge = Object.fromEntries([...ring].map(([node, set]) => [node, [...set]]));
    for (const node of nodes) expect(reachable(asGrudge, nodes, node)).toHaveLength(2);
    const deaf = nodes.filter((node) => ring.get(node)?.has('n2') === true);
    const started = events()
      .filter((e) => e.phase === 'start')
      .map((e) => e.detail);
    expect(started[0]).toBe('isolate n1 (the leader)');
    expect(started[1]).toBe('pause n3 (the leader)');
    expect(started[2]).toMatch(new RegExp(`^ring .*; leader n2, unheard by ${deaf.join(',')}$`));
    expect(deaf).toHaveLength(1);
  });

  it('stale-candidate: isolates a follower, kills the leader halfway, heals the follower while the leader is down', async () => {
    const clock = new FakeClock();
    const { runtime, calls } = fakeRuntime(clock);
    const grudges: ReadonlyMap<string, ReadonlySet<string>>[] = [];
    const recording: NemesisRuntime = {
      ...runtime,
      partition: async (g) => (g.size > 0 && grudges.push(g), runtime.partition(g)),
    };
    const { nemesis, events } = nemesisWith(clock, recording, 'n2');
    const steps = planSchedule(
      {
        nodes,
        kinds: [],
        aimed: ['stale-candidate'],
        intervalMs: 4000,
        timeLimitMs: 20_000,
        shapes: [],
        targets: [],
      },
      new Random(3),
    );
    const [partition, kill] = steps;
    expect(partition?.kind === 'partition' && partition.shape).toBe('isolate-follower');
    const order = partition?.kind === 'partition' ? partition.order! : [];
    const follower = order.find((n) => n !== 'n2')!;
    await clock.until(nemesis.run(steps.slice(0, 2), clock.nowMs(), new AbortController().signal));
    // The follower hears nobody; the leader and the other follower still hear each other.
    expect([...grudges[0]!.get(follower)!].sort()).toEqual(nodes.filter((n) => n !== follower));
    expect([...grudges[0]!.get('n2')!]).toEqual([follower]);
    const at = (what: string) => Number(calls.find((c) => c.startsWith(what))!.split('@')[1]);
    const start = partition!.atMs;
    const length = kill!.atMs + kill!.durationMs - start;
    expect(at('kill n2')).toBeCloseTo(start + 0.5 * length, 6);
    expect(at('partition @')).toBeCloseTo(start + 0.75 * length, 6); // healed while n2 is down
    expect(at('restart n2')).toBeCloseTo(start + length, 6);
    expect(events()[0]!.detail).toBe(`isolate ${follower} (a follower of n2)`);
  });

  it('fall-behind cuts off a follower of the leader it finds, never the leader, then heals', async () => {
    for (const leader of nodes) {
      const clock = new FakeClock();
      const { runtime, calls } = fakeRuntime(clock);
      const grudges: ReadonlyMap<string, ReadonlySet<string>>[] = [];
      const recording: NemesisRuntime = {
        ...runtime,
        partition: async (g) => (g.size > 0 && grudges.push(g), runtime.partition(g)),
      };
      const { nemesis, events } = nemesisWith(clock, recording, leader);
      const steps: FaultStep[] = [
        {
          atMs: 1000,
          durationMs: 8000,
          kind: 'partition',
          shape: 'isolate-follower',
          partition: null,
          order: ['n1', 'n2', 'n3'],
          fallBehind: true,
        },
      ];
      await clock.until(nemesis.run(steps, clock.nowMs(), new AbortController().signal));
      const follower = leader === 'n1' ? 'n2' : 'n1';
      expect([...grudges[0]!.get(follower)!].sort()).toEqual(nodes.filter((n) => n !== follower));
      expect([...grudges[0]!.get(leader)!]).toEqual([follower]);
      // Killed while still cut off (its held stream is lost), healed, restarted.
      expect(calls.slice(-3)).toEqual([
        `kill ${follower}@9000`,
        'partition @9000',
        `restart ${follower}@9000`,
      ]);
      expect(events()[0]!.detail).toBe(
        `isolate ${follower} (a follower of ${leader}, to fall behind compaction)`,
      );
    }
  });

  it('holds a fall-behind isolation until the leader compacted past the follower, at most twice as long', async () => {
    const step: FaultStep = {
      atMs: 1000,
      durationMs: 4000,
      kind: 'partition',
      shape: 'isolate-follower',
      partition: null,
      order: ['n1', 'n2', 'n3'],
      fallBehind: true,
    };
    // n1 (the follower of n2) holds 120 entries; n2 snapshots at 200 from 7 s on (keeping 10).
    for (const [snapshotAtMs, healAtMs, said] of [
      [7000, 7000, /compacted through 190, past n1's last index 120; healing$/],
      [60_000, 9000, /not compacted past n1's last index 120 \(through 90\) after twice the planned time/],
    ] as const) {
      const clock = new FakeClock();
      const { runtime, calls } = fakeRuntime(clock);
      const logs: string[] = [];
      const nemesis = new Nemesis({
        runtime,
        nodes,
        recorder: new Recorder(new MemoryHistory(), () => clock.nowMs() * 1e6),
        findLeader: async () => 'n2',
        log: (message) => logs.push(message),
        clock,
        snapshotTailEntries: 10,
        logIndexes: async (node) =>
          node === 'n1'
            ? { lastIndex: 120, snapshotIndex: 100 }
            : { lastIndex: 300, snapshotIndex: clock.nowMs() >= snapshotAtMs ? 200 : 100 },
      });
      await clock.until(nemesis.run([step], clock.nowMs(), new AbortController().signal));
      expect(calls.slice(-3)).toEqual([
        `kill n1@${healAtMs}`,
        `partition @${healAtMs}`,
        `restart n1@${healAtMs}`,
      ]);
      expect(logs.find((l) => l.includes('fall-behind:'))).toMatch(said);
    }
  });

  it('starts a fault of a slot only after the previous one of that slot has ended, however slow', async () => {
    const clock = new FakeClock();
    const { runtime, calls } = fakeRuntime(clock);
    // A restart takes 6 s (the fake runtime logs when it finishes).
    const slowRestart: NemesisRuntime = {
      ...runtime,
      restart: async (node) => {
        await sleep(6000, undefined, clock);
        await runtime.restart(node);
      },
    };
    const { nemesis } = nemesisWith(clock, slowRestart, 'n1');
    const steps: FaultStep[] = [
      { atMs: 0, durationMs: 1000, kind: 'kill', target: 'one', nodes: ['n1'] },
      { atMs: 2000, durationMs: 1000, kind: 'kill', target: 'one', nodes: ['n2'] },
    ];
    await clock.until(nemesis.run(steps, clock.nowMs(), new AbortController().signal));
    // n2's kill was due at 2 s and its end at 3 s; it waits for n1's restart, then ends at once.
    expect(calls).toEqual(['kill n1@0', 'restart n1@7000', 'kill n2@7000', 'restart n2@13000']);
  });

  it('restarts every node of a kill at once, so their election timers start together', async () => {
    const clock = new FakeClock();
    const { runtime, calls } = fakeRuntime(clock);
    const slowRestart: NemesisRuntime = {
      ...runtime,
      restart: async (node) => {
        await sleep(6000, undefined, clock);
        await runtime.restart(node);
      },
    };
    const { nemesis } = nemesisWith(clock, slowRestart, 'n1');
    const steps: FaultStep[] = [
      { atMs: 0, durationMs: 1000, kind: 'kill', target: 'all', nodes: ['n1', 'n2', 'n3'] },
    ];
    await clock.until(nemesis.run(steps, clock.nowMs(), new AbortController().signal));
    // One after another they would come back at 7, 13 and 19 s.
    expect(calls).toEqual([
      'kill n1@0',
      'kill n2@0',
      'kill n3@0',
      'restart n1@7000',
      'restart n2@7000',
      'restart n3@7000',
    ]);
  });

  it('cuts power to its targets and restarts them at the end of the fault, or in the final heal', async () => {
    const clock = new FakeClock();
    const { runtime, calls } = fakeRuntime(clock);
    const { nemesis } = nemesisWith(clock, runtime, 'n1');
    const steps: FaultStep[] = [
      { atMs: 0, durationMs: 1000, kind: 'power', target: 'all', nodes: nodes.slice() },
    ];
    await clock.until(nemesis.run(steps, clock.nowMs(), new AbortController().signal));
    expect(calls).toEqual([
      'power n1@0',
      'power n2@0',
      'power n3@0',
      'restart n1@1000',
      'restart n2@1000',
      'restart n3@1000',
    ]);
    const interrupted = new AbortController();
    const running = nemesis.run(
      [{ atMs: 0, durationMs: 60_000, kind: 'power', target: 'leader', nodes: null }],
      clock.nowMs(),
      interrupted.signal,
    );
    await clock.advance(2000);
    interrupted.abort(); // Ctrl-C while the leader is without power
    await running;
    await nemesis.healAll();
    expect(calls.slice(6)).toEqual(['power n1@1000', 'heal@3000', 'restart n1@3000']);
    expect(clock.pendingCount()).toBe(0);
  });

  it('sets the clock of its targets for the fault, resets it after, and resets it in the final heal', async () => {
    const clock = new FakeClock();
    const { runtime, calls } = fakeRuntime(clock);
    const { nemesis, events } = nemesisWith(clock, runtime, 'n2');
    const steps: FaultStep[] = [
      { atMs: 0, durationMs: 1000, kind: 'clock', target: 'leader', nodes: null, rate: 0.1, offsetMs: 0 },
    ];
    await clock.until(nemesis.run(steps, clock.nowMs(), new AbortController().signal));
    expect(calls).toEqual(['clock n2 0.1 0@0', 'clock n2 1 0@1000']);
    expect(events()[0]!.detail).toBe('clock rate x0.1 on n2 (the leader)');
    const interrupted = new AbortController();
    const running = nemesis.run(
      [
        {
          atMs: 0,
          durationMs: 60_000,
          kind: 'clock',
          target: 'one',
          nodes: ['n3'],
          rate: 1,
          offsetMs: -1500,
        },
      ],
      clock.nowMs(),
      interrupted.signal,
    );
    await clock.advance(2000);
    interrupted.abort();
    await running;
    await nemesis.healAll();
    expect(calls.slice(2)).toEqual(['clock n3 1 -1500@1000', 'heal@3000', 'clock n3 1 0@3000']);
    expect(clock.pendingCount()).toBe(0);
  });

  it('restarts a node that died at a failpoint and records it, but leaves the nodes it killed alone', async () => {
    const clock = new FakeClock();
    const down = new Set(['n3']);
    const { runtime, calls } = fakeRuntime(clock, [], down);
    const { nemesis, events } = nemesisWith(
      clock,
      { ...runtime, kill: async (node) => (down.add(node), runtime.kill(node)) },
      'n1',
    );
    const interrupted = new AbortController();
    const running = nemesis.run(
      [{ atMs: 0, durationMs: 60_000, kind: 'kill', target: 'one', nodes: ['n2'] }],
      clock.nowMs(),
      interrupted.signal,
    );
    const reviving = nemesis.reviveCrashedUntil(interrupted.signal, 1000);
    await clock.advance(1500);
    expect(calls).toEqual(['kill n2@0', 'restart n3@1000']);
    expect(events().map((e) => `${e.phase} ${e.fault} ${e.detail}`)).toEqual([
      'start kill kill n2 (one)',
      'start failpoint-crash n3 died at a failpoint',
      'stop failpoint-crash n3 died at a failpoint',
    ]);
    expect(await nemesis.reviveCrashed()).toEqual([]); // n2 is down, but the nemesis took it down
    interrupted.abort();
    await Promise.all([running, reviving]);
  });

  it('tries a restart again when the node dies while starting (a failpoint at start-up), up to three times', async () => {
    const clock = new FakeClock();
    const down = new Set(['n3']);
    const { runtime, calls } = fakeRuntime(clock, [], down);
    let failures = 2;
    const flaky: NemesisRuntime = {
      ...runtime,
      restart: async (node) => {
        if (failures-- > 0) throw new Error(`node ${node} exited while starting (signal SIGKILL)`);
        return runtime.restart(node);
      },
    };
    const { nemesis } = nemesisWith(clock, flaky, 'n1');
    expect(await nemesis.reviveCrashed()).toEqual(['n3']);
    expect(calls).toEqual(['restart n3@0']);
    failures = 3;
    down.add('n3');
    await expect(nemesis.reviveCrashed()).rejects.toThrow(/exited while starting/);
  });

  it('heals everything in force at the end: resumes paused and restarts killed nodes', async () => {
    const clock = new FakeClock();
    const { runtime, calls } = fakeRuntime(clock);
    const { nemesis, events } = nemesisWith(clock, runtime, null);
    const stop = new AbortController();
    const steps: FaultStep[] = [
      { atMs: 0, durationMs: 60_000, kind: 'pause', target: 'minority', nodes: ['n3'] },
    ];
    const running = nemesis.run(steps, clock.nowMs(), stop.signal);
    await clock.advance(30_000);
    expect(nemesis.inForce().map((fault) => fault.detail)).toEqual(['pause n3 (minority)']);
    stop.abort();
    await running;
    await nemesis.healAll();
    expect(calls).toEqual(['pause n3@0', 'heal@30000', 'resume n3@30000']);
    expect(clock.pendingCount()).toBe(0);
    expect(events().map((e) => `${e.phase} ${e.fault}`)).toEqual([
      'start pause',
      'start heal-all',
      'stop pause',
      'stop heal-all',
    ]);
  });

  it('a fault the runtime refuses is logged, kept in force and healed, and the run goes on', async () => {
    const clock = new FakeClock();
    const { runtime, calls } = fakeRuntime(clock, ['kill n1']);
    const { nemesis } = nemesisWith(clock, runtime, 'n1');
    const stop = new AbortController();
    const steps: FaultStep[] = [{ atMs: 0, durationMs: 60_000, kind: 'kill', target: 'one', nodes: ['n1'] }];
    const running = nemesis.run(steps, clock.nowMs(), stop.signal);
    await clock.advance(1000);
    expect(nemesis.inForce()[0]?.detail).toMatch(/kill n1 \(one\) \(failed: kill n1 refused\)/);
    stop.abort();
    await running;
    await nemesis.healAll();
    expect(calls).toEqual(['kill n1@0', 'heal@1000', 'restart n1@1000']);
  });
});
