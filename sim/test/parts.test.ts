import { describe, expect, it } from 'vitest';
import { parseFaults } from '../config.js';
import { SimDisk } from '../disk.js';
import { EventQueue } from '../event-queue.js';
import { LazyTimer } from '../lazy-timer.js';
import { partitionShape } from '../nemesis.js';
import { SimNetwork } from '../network.js';
import { SimRng } from '../rng.js';
import { parseSeeds, replayCommand } from '../sweep.js';
import { defaultSimOptions } from '../config.js';
import type { Entry } from '../../server/raft/types.js';
import { encodeCommand } from '../../server/kv/command.js';
import { KvStateMachine } from '../../server/kv/state-machine.js';
import { SIM_KV_LIMITS } from '../config.js';

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array([index]),
});

describe('the event queue', () => {
  it('orders by time, then by the order events were scheduled', () => {
    const q = new EventQueue<string>();
    q.push(5, 'a');
    q.push(1, 'b');
    q.push(5, 'c');
    q.push(0, 'd');
    q.push(5, 'e');
    q.push(3, 'f');
    const out: string[] = [];
    for (let item = q.pop(); item !== undefined; item = q.pop()) out.push(item.event);
    expect(out).toEqual(['d', 'b', 'f', 'a', 'c', 'e']);
  });

  it('stays a heap under many random pushes and pops', () => {
    const rng = new SimRng(3);
    const q = new EventQueue<number>();
    let last = -1;
    for (let i = 0; i < 2000; i++) q.push(rng.int(0, 100), i);
    for (let item = q.pop(); item !== undefined; item = q.pop()) {
      expect(item.time).toBeGreaterThanOrEqual(last);
      last = item.time;
    }
  });

  it('pops in (time, order) order when pushes and pops interleave, near and far (past its window)', () => {
    const rng = new SimRng(11);
    const q = new EventQueue<number>();
    const reference: { time: number; seq: number }[] = [];
    let seq = 0;
    let now = 0;
    const push = (): void => {
      // Mostly within a few ms, sometimes far past the queue's window (~134 ms), sometimes at once.
      const r = rng.next();
      const delay = r < 0.1 ? 0 : r < 0.9 ? rng.int(0, 5_000_000) : rng.int(100_000_000, 2_000_000_000);
      q.push(now + delay, seq);
      reference.push({ time: now + delay, seq: seq++ });
    };
    for (let i = 0; i < 50; i++) push();
    for (let step = 0; step < 20_000 && reference.length > 0; step++) {
      reference.sort((a, b) => a.time - b.time || a.seq - b.seq);
      const want = reference.shift()!;
      const got = q.pop();
      expect(got && { time: got.time, seq: got.event }).toEqual(want);
      now = want.time;
      const pushes = step < 15_000 ? rng.int(0, 2) : 0;
      for (let i = 0; i < pushes; i++) push();
    }
    expect(q.size).toBe(reference.length);
    expect(() => q.push(now - 5_000_000, -1)).toThrow(/in the past/);
  });
});

describe('reserved sequence numbers and lazy timers', () => {
  it('runs an event pushed with a reserved sequence where it would have run if pushed then', () => {
    const q = new EventQueue<string>();
    q.push(5, 'a');
    const seq = q.reserve();
    q.push(5, 'c');
    q.push(1, 'b');
    q.pushReserved(5, seq, 'reserved');
    const out: string[] = [];
    for (let item = q.pop(); item !== undefined; item = q.pop()) out.push(item.event);
    expect(out).toEqual(['b', 'a', 'reserved', 'c']);
    expect(() => q.pushReserved(9, 99, 'never reserved')).toThrow(/never reserved/);
    const late = q.reserve();
    expect(() => q.pushReserved(4, late, 'past')).toThrow(/in the past/);
  });

  /** Fires through a lazy timer and through plain pushes, with other events in between: same order. */
  function firings(lazy: boolean): string[] {
    const q = new EventQueue<string>();
    const timer = new LazyTimer(q, () => 'timer');
    const rng = new SimRng(7);
    let token = 0;
    const out: string[] = [];
    const arm = (time: number): void => {
      token++;
      if (lazy) timer.arm(time, token);
      else q.push(time, `timer ${token}`);
    };
    arm(rng.int(0, 50));
    let latest = token;
    for (let i = 0; i < 200; i++) q.push(rng.int(0, 2000), `other ${i}`);
    for (let item = q.pop(); item !== undefined; item = q.pop()) {
      let fired: number | undefined;
      if (item.event === 'timer') fired = timer.popped();
      else if (item.event.startsWith('timer ')) fired = Number(item.event.slice(6));
      if (fired !== undefined && fired === latest) out.push(`${item.time} fired ${fired}`);
      if (item.event.startsWith('other')) {
        out.push(`${item.time} ${item.event}`);
        // Re-arm now and then, sometimes earlier and sometimes later than the armed deadline.
        if (rng.chance(0.3) && item.time < 1900) {
          arm(item.time + rng.int(0, 100));
          latest = token;
        }
      }
    }
    return out;
  }

  it('fires only the latest arming, exactly where an eagerly pushed timer would have fired', () => {
    const lazy = firings(true);
    expect(lazy).toEqual(firings(false));
    expect(lazy.filter((line) => line.includes('fired')).length).toBeGreaterThan(10);
  });
});

describe('the seeded rng tree', () => {
  it('gives the same draws for the same seed, and independent children per label', () => {
    const a = new SimRng(42);
    const b = new SimRng(42);
    expect([a.int(0, 1e9), a.next()]).toEqual([b.int(0, 1e9), b.next()]);
    const childA = new SimRng(1).fork('network');
    const childB = new SimRng(1).fork('clients');
    expect(childA.int(0, 1e9)).not.toBe(childB.int(0, 1e9));
  });
});

describe('the simulated disk', () => {
  it('keeps what was fsynced and replaces a conflicting suffix', () => {
    const disk = new SimDisk();
    disk.write({ term: 1, vote: 'n1', commit: 0 }, [entry(1, 1), entry(2, 1), entry(3, 1)], true);
    disk.write(undefined, [entry(2, 2)], true);
    expect(disk.read().entries.map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/2']);
  });

  it('loses a hard state written without fsync when the node crashes', () => {
    const disk = new SimDisk();
    disk.write({ term: 2, vote: 'n2', commit: 0 }, [entry(1, 2)], true);
    disk.write({ term: 2, vote: 'n2', commit: 1 }, [], false);
    disk.crash();
    expect(disk.read().hardState).toEqual({ term: 2, vote: 'n2', commit: 0 });
  });

  it('keeps only a prefix of a write torn by a crash, and caps commit at the durable log', () => {
    const disk = new SimDisk();
    disk.write({ term: 1, vote: 'n1', commit: 1 }, [entry(1, 1)], true);
    const rng = new SimRng(9);
    disk.crashDuringWrite({ term: 1, vote: 'n1', commit: 4 }, [entry(2, 1), entry(3, 1), entry(4, 1)], rng);
    const state = disk.read();
    expect(state.entries.length).toBeGreaterThanOrEqual(1);
    expect(state.entries.length).toBeLessThanOrEqual(4);
    expect(state.hardState.commit).toBeLessThanOrEqual(state.entries.length);
  });

  it('tears a write the way the WAL can: a hard state survives only with every entry before it', () => {
    // The WAL writes an earlier unsynced hard state, then the save's entries, then its hard state;
    // a torn tail keeps a prefix of those records, so every outcome is one of these prefixes.
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 200; seed++) {
      const disk = new SimDisk();
      disk.write({ term: 1, vote: 'n1', commit: 1 }, [entry(1, 1)], true);
      disk.write({ term: 2, vote: '', commit: 1 }, [], false); // written, not yet fsynced
      disk.crashDuringWrite({ term: 2, vote: 'n2', commit: 3 }, [entry(2, 2), entry(3, 2)], new SimRng(seed));
      const { hardState, entries } = disk.read();
      outcomes.add(`${hardState.term}/${hardState.vote}/${hardState.commit} ${entries.length}`);
    }
    expect([...outcomes].sort()).toEqual(['1/n1/1 1', '2//1 1', '2//1 2', '2//1 3', '2/n2/3 3']);
  });

  it('refuses entries that would leave a gap', () => {
    const disk = new SimDisk();
    expect(() => disk.write(undefined, [entry(3, 1)], true)).toThrow(/gap/);
  });
});

describe('the simulated network', () => {
  it('cuts node-to-node packets across a partition in both directions, never client packets', () => {
    const net = new SimNetwork(new SimRng(1), new Set());
    net.setGrudge(new Map([['n1', new Set(['n2'])]]));
    expect(net.deliveries('n1', 'n2', true)).toEqual([]);
    expect(net.deliveries('n2', 'n1', true)).toEqual([]);
    expect(net.deliveries('n1', 'n3', true)).toHaveLength(1);
    expect(net.deliveries('n1', 'c0', false)).toHaveLength(1);
    net.heal();
    expect(net.deliveries('n1', 'n2', true)).toHaveLength(1);
  });

  it('drops and duplicates only when those faults are on', () => {
    const quiet = new SimNetwork(new SimRng(2), new Set());
    const noisy = new SimNetwork(new SimRng(2), parseFaults('drop,duplicate'));
    for (let i = 0; i < 2000; i++) {
      quiet.deliveries('n1', 'n2', true);
      noisy.deliveries('n1', 'n2', true);
    }
    expect(quiet.stats.dropped + quiet.stats.duplicated).toBe(0);
    expect(noisy.stats.dropped).toBeGreaterThan(0);
    expect(noisy.stats.duplicated).toBeGreaterThan(0);
  });
});

describe('partition shapes', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const reachable = (g: Map<string, ReadonlySet<string>>, a: string) =>
    nodes.filter((b) => b === a || g.get(a)?.has(b) !== true);

  it('a majorities ring lets every node see a majority, and no two nodes the same one', () => {
    for (let seed = 1; seed < 200; seed++) {
      const { detail, grudge } = partitionShape(new SimRng(seed), nodes, 'n1');
      if (!detail.startsWith('majorities ring')) continue;
      const views = nodes.map((n) => reachable(grudge, n).sort().join(','));
      for (const v of views) expect(v.split(',').length).toBe(3);
      expect(new Set(views).size).toBe(5);
      return;
    }
    throw new Error('no majorities ring drawn in 200 seeds');
  });

  it('a bridge node sees everyone while the two sides cannot see each other', () => {
    for (let seed = 1; seed < 200; seed++) {
      const { detail, grudge } = partitionShape(new SimRng(seed), nodes, 'n1');
      const m = /^bridge (.*) <(n\d)> (.*)$/.exec(detail);
      if (m === null) continue;
      expect(reachable(grudge, m[2] as string)).toHaveLength(5);
      const left = (m[1] as string).split(',');
      const right = (m[3] as string).split(',');
      for (const l of left) for (const r of right) expect(grudge.get(l)?.has(r)).toBe(true);
      return;
    }
    throw new Error('no bridge drawn in 200 seeds');
  });

  it('isolating the leader cuts exactly the leader off', () => {
    for (let seed = 1; seed < 200; seed++) {
      const { detail, grudge } = partitionShape(new SimRng(seed), nodes, 'n4');
      if (detail !== 'isolate leader n4') continue;
      expect(reachable(grudge, 'n4')).toEqual(['n4']);
      expect(reachable(grudge, 'n1')).toEqual(['n1', 'n2', 'n3', 'n5']);
      return;
    }
    throw new Error('no leader isolation drawn in 200 seeds');
  });
});

describe('seed lists and replay commands', () => {
  it('parses single seeds, ranges and lists, and rejects nonsense', () => {
    expect(parseSeeds('42')).toEqual([42]);
    expect(parseSeeds('1..3,7,9..10')).toEqual([1, 2, 3, 7, 9, 10]);
    expect(() => parseSeeds('5..1')).toThrow(/before the start/);
    expect(() => parseSeeds('abc')).toThrow(/bad seed list/);
  });

  it('names every option that differs from the defaults', () => {
    const o = defaultSimOptions({
      seed: 7,
      nodes: 3,
      ops: 100,
      faults: parseFaults('crash,pause'),
      unsafe: new Set(['vote-twice']),
    });
    expect(replayCommand(o)).toBe(
      'lab sim --seed 7 --nodes 3 --faults pause,crash --ops 100 --unsafe vote-twice',
    );
  });

  it('rejects an unknown fault name', () => {
    expect(() => parseFaults('partition,meteor')).toThrow(/unknown fault "meteor"/);
  });
});

describe('the state machine digest', () => {
  const put = (clientId: number, sequence: number, value: string): Uint8Array =>
    encodeCommand({
      clientId,
      sequence,
      ackedSequence: sequence - 1,
      op: { type: 'put', key: new TextEncoder().encode('k'), value: new TextEncoder().encode(value) },
    });

  it('is equal for equal states (a copy) and differs once one replica applies more', () => {
    const a = new KvStateMachine(SIM_KV_LIMITS);
    a.apply(1, put(1, 1, 'x'));
    const b = a.clone();
    expect(b.digest()).toBe(a.digest());
    b.apply(2, put(2, 1, 'y'));
    expect(b.digest()).not.toBe(a.digest());
  });

  /** A replica and a copy of it taken at index 3 (a restart resuming from a checkpoint), both applying 4..8. */
  function resumeFromCopy(unsafe: ReadonlySet<'local-session-expiry'>): KvStateMachine[] {
    const a = new KvStateMachine({ sessionsMax: 8, sessionIdleEntriesMax: 3 }, unsafe);
    for (let i = 1; i <= 3; i++) a.apply(i, put(i, 1, `v${i}`));
    const resumed = a.clone();
    for (let i = 4; i <= 8; i++) {
      a.apply(i, put(9, i - 3, `w${i}`));
      resumed.apply(i, put(9, i - 3, `w${i}`));
    }
    return [a, resumed];
  }

  it('tells apart a replica resumed from a copy when session expiry is process-local (unsafe)', () => {
    const [a, resumed] = resumeFromCopy(new Set()) as [KvStateMachine, KvStateMachine];
    expect(resumed.digest()).toBe(a.digest());
    const [b, resumedB] = resumeFromCopy(new Set(['local-session-expiry'])) as [
      KvStateMachine,
      KvStateMachine,
    ];
    expect(resumedB.digest()).not.toBe(b.digest());
    expect(b.sessionCounters.expired).toBeGreaterThan(0);
  });
});
