import { describe, expect, it } from 'vitest';
import type { NemesisEvent } from '../../checker/history-types.js';
import { MemoryHistory, Recorder } from '../recorder.js';
import { Nemesis, type NemesisRuntime } from './nemesis.js';
import type { FaultStep } from './schedule.js';

function fakeRuntime(failing: string[] = []) {
  const calls: string[] = [];
  const act = (name: string) => async () => {
    calls.push(name);
    if (failing.includes(name)) throw new Error(`${name} refused`);
  };
  const runtime: NemesisRuntime = {
    kill: async (node) => act(`kill ${node}`)(),
    restart: async (node) => act(`restart ${node}`)(),
    pause: async (node) => act(`pause ${node}`)(),
    resume: async (node) => act(`resume ${node}`)(),
    partition: async (grudge) => act(`partition ${[...grudge.keys()].sort().join(',')}`)(),
    packetLoss: async (nodes, p) => act(`loss ${nodes.join(',')} ${p}`)(),
    heal: act('heal'),
  };
  return { runtime, calls };
}

const nodes = ['n1', 'n2', 'n3'];

function nemesisWith(runtime: NemesisRuntime, leader: string | null) {
  const memory = new MemoryHistory();
  const recorder = new Recorder(memory, () => performance.now() * 1e6);
  const nemesis = new Nemesis({
    runtime,
    nodes,
    recorder,
    findLeader: async () => leader,
    log: () => undefined,
  });
  return { nemesis, events: () => memory.events as NemesisEvent[] };
}

describe('the nemesis', () => {
  it('isolates the leader it finds, undoes each fault after its duration, and records start and stop', async () => {
    const { runtime, calls } = fakeRuntime();
    const { nemesis, events } = nemesisWith(runtime, 'n2');
    const steps: FaultStep[] = [
      { atMs: 0, durationMs: 20, kind: 'partition', shape: 'isolate-leader', partition: null },
      { atMs: 5, durationMs: 20, kind: 'kill', target: 'leader', nodes: null },
    ];
    await nemesis.run(steps, performance.now(), new AbortController().signal);
    expect(calls).toEqual(['partition n1,n2,n3', 'kill n2', 'partition ', 'restart n2']);
    expect(events().map((e) => `${e.phase} ${e.fault} ${e.detail}`)).toEqual([
      'start partition isolate n2 (the leader)',
      'start kill kill n2 (the leader)',
      'stop partition isolate n2 (the leader)',
      'stop kill kill n2 (the leader)',
    ]);
    expect(nemesis.inForce()).toEqual([]);
  });

  it('starts a fault of a slot only after the previous one of that slot has ended, however slow', async () => {
    const { runtime, calls } = fakeRuntime();
    const slowRestart: NemesisRuntime = {
      ...runtime,
      restart: async (node) => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        await runtime.restart(node);
      },
    };
    const { nemesis } = nemesisWith(slowRestart, 'n1');
    const steps: FaultStep[] = [
      { atMs: 0, durationMs: 10, kind: 'kill', target: 'one', nodes: ['n1'] },
      { atMs: 20, durationMs: 10, kind: 'kill', target: 'one', nodes: ['n2'] },
    ];
    await nemesis.run(steps, performance.now(), new AbortController().signal);
    expect(calls).toEqual(['kill n1', 'restart n1', 'kill n2', 'restart n2']);
  });

  it('heals everything in force at the end: resumes paused and restarts killed nodes', async () => {
    const { runtime, calls } = fakeRuntime();
    const { nemesis, events } = nemesisWith(runtime, null);
    const stop = new AbortController();
    const steps: FaultStep[] = [
      { atMs: 0, durationMs: 60_000, kind: 'pause', target: 'minority', nodes: ['n3'] },
    ];
    const running = nemesis.run(steps, performance.now(), stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(nemesis.inForce().map((fault) => fault.detail)).toEqual(['pause n3 (minority)']);
    stop.abort();
    await running;
    await nemesis.healAll();
    expect(calls).toEqual(['pause n3', 'heal', 'resume n3']);
    expect(events().map((e) => `${e.phase} ${e.fault}`)).toEqual([
      'start pause',
      'start heal-all',
      'stop pause',
      'stop heal-all',
    ]);
  });

  it('a fault the runtime refuses is logged, kept in force and healed, and the run goes on', async () => {
    const { runtime, calls } = fakeRuntime(['kill n1']);
    const { nemesis } = nemesisWith(runtime, 'n1');
    const stop = new AbortController();
    const steps: FaultStep[] = [{ atMs: 0, durationMs: 60_000, kind: 'kill', target: 'one', nodes: ['n1'] }];
    const running = nemesis.run(steps, performance.now(), stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(nemesis.inForce()[0]?.detail).toMatch(/kill n1 \(one\) \(failed: kill n1 refused\)/);
    stop.abort();
    await running;
    await nemesis.healAll();
    expect(calls).toEqual(['kill n1', 'heal', 'restart n1']);
  });
});
