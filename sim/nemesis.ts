// The nemesis: seeded faults, one at a time, each followed by its heal (TigerBeetle's supervisor
// shape, Jepsen's partition shapes). Partitions: one node isolated, random halves, majorities ring,
// bridge, leader isolated. Pauses (the node keeps its stale timers), crashes (immediately, or in the
// middle of a disk write), and bursts of packet loss. Every start and stop goes into the history.
import type { NemesisEvent } from '../checker/history-types.js';
import type { FaultName } from './config.js';
import { SIM_TIMING } from './config.js';
import type { SimRng } from './rng.js';

/** What the nemesis may do to the world. */
export interface NemesisWorld {
  nodes: readonly string[];
  leader(): string | undefined;
  partition(grudge: Map<string, ReadonlySet<string>>): void;
  heal(): void;
  pause(node: string): void;
  resume(node: string): void;
  /** midWrite: crash inside the node's next disk write rather than now. */
  crash(node: string, midWrite: boolean): void;
  restart(node: string): void;
  packetLoss(probability: number): void;
  record(event: Omit<NemesisEvent, 'type' | 'time'>): void;
}

type Action = 'partition' | 'pause' | 'crash' | 'packet';

/** The fault in force and how to undo it. */
interface Active {
  readonly stop: () => void;
}

export class Nemesis {
  private active: Active | undefined;
  private readonly actions: Action[];

  constructor(
    private readonly rng: SimRng,
    faults: ReadonlySet<FaultName>,
    private readonly world: NemesisWorld,
  ) {
    this.actions = [];
    if (faults.has('partition')) this.actions.push('partition', 'partition');
    if (faults.has('pause')) this.actions.push('pause');
    if (faults.has('crash')) this.actions.push('crash');
    if (faults.has('drop')) this.actions.push('packet');
  }

  get enabled(): boolean {
    return this.actions.length > 0;
  }

  /** Starts a fault, or stops the one in force; returns the delay until the next call. */
  step(): number {
    if (this.active !== undefined) {
      this.stopActive();
      return this.rng.int(SIM_TIMING.nemesisQuietNsMin, SIM_TIMING.nemesisQuietNsMax);
    }
    this.active = this.start(this.rng.pick(this.actions));
    return this.rng.int(SIM_TIMING.nemesisFaultNsMin, SIM_TIMING.nemesisFaultNsMax);
  }

  stopActive(): void {
    const active = this.active;
    this.active = undefined;
    active?.stop();
  }

  private start(action: Action): Active {
    switch (action) {
      case 'partition':
        return this.startPartition();
      case 'pause':
        return this.startPause();
      case 'crash':
        return this.startCrash();
      case 'packet':
        return this.startPacketLoss();
    }
  }

  private victim(): string {
    const leader = this.world.leader();
    return leader !== undefined && this.rng.chance(0.5) ? leader : this.rng.pick(this.world.nodes);
  }

  private startPartition(): Active {
    const { detail, grudge } = partitionShape(this.rng, this.world.nodes, this.world.leader());
    this.world.partition(grudge);
    const nodes = [...grudge.keys()].filter((n) => (grudge.get(n)?.size ?? 0) > 0);
    this.world.record({ phase: 'start', fault: 'partition', detail, nodes });
    return {
      stop: () => {
        this.world.heal();
        this.world.record({ phase: 'stop', fault: 'partition', detail: 'heal', nodes });
      },
    };
  }

  private startPause(): Active {
    const node = this.victim();
    this.world.pause(node);
    this.world.record({ phase: 'start', fault: 'pause', detail: `pause ${node}`, nodes: [node] });
    return {
      stop: () => {
        this.world.resume(node);
        this.world.record({ phase: 'stop', fault: 'pause', detail: `resume ${node}`, nodes: [node] });
      },
    };
  }

  private startCrash(): Active {
    const node = this.victim();
    const midWrite = this.rng.chance(0.5);
    this.world.crash(node, midWrite);
    const detail = midWrite ? `crash ${node} during its next disk write` : `crash ${node}`;
    this.world.record({ phase: 'start', fault: 'kill', detail, nodes: [node] });
    return {
      stop: () => {
        this.world.restart(node);
        this.world.record({ phase: 'stop', fault: 'kill', detail: `restart ${node}`, nodes: [node] });
      },
    };
  }

  private startPacketLoss(): Active {
    const probability = 0.2 + this.rng.next() * 0.4;
    this.world.packetLoss(probability);
    const detail = `drop ${(probability * 100).toFixed(0)}% of packets`;
    this.world.record({ phase: 'start', fault: 'packet', detail, nodes: [...this.world.nodes] });
    return {
      stop: () => {
        this.world.packetLoss(0);
        this.world.record({
          phase: 'stop',
          fault: 'packet',
          detail: 'packet loss off',
          nodes: [...this.world.nodes],
        });
      },
    };
  }
}

/** Builds a grudge in which every listed pair cannot talk, in both directions. */
function grudgeFrom(
  nodes: readonly string[],
  canTalk: (a: string, b: string) => boolean,
): Map<string, ReadonlySet<string>> {
  const grudge = new Map<string, ReadonlySet<string>>();
  for (const a of nodes) grudge.set(a, new Set(nodes.filter((b) => b !== a && !canTalk(a, b))));
  return grudge;
}

export function partitionShape(
  rng: SimRng,
  nodes: readonly string[],
  leader: string | undefined,
): { detail: string; grudge: Map<string, ReadonlySet<string>> } {
  const shapes = ['isolate', 'halves', 'ring', 'bridge', 'leader'] as const;
  let shape: (typeof shapes)[number] = rng.pick(shapes);
  if (shape === 'ring' && nodes.length < 5) shape = 'isolate'; // with 3 nodes every ring sees everyone
  const shuffled = rng.shuffle(nodes);
  if (shape === 'isolate' || shape === 'leader') {
    const alone = shape === 'leader' && leader !== undefined ? leader : (shuffled[0] as string);
    const g = grudgeFrom(nodes, (a, b) => a !== alone && b !== alone);
    return { detail: `${shape === 'leader' ? 'isolate leader' : 'isolate'} ${alone}`, grudge: g };
  }
  if (shape === 'halves') {
    const half = new Set(shuffled.slice(0, Math.floor(nodes.length / 2)));
    const other = shuffled.filter((n) => !half.has(n));
    return {
      detail: `halves ${[...half].join(',')} | ${other.join(',')}`,
      grudge: grudgeFrom(nodes, (a, b) => half.has(a) === half.has(b)),
    };
  }
  if (shape === 'bridge') {
    const k = Math.floor(nodes.length / 2);
    const left = new Set(shuffled.slice(0, k));
    const bridge = shuffled[k] as string;
    const canTalk = (a: string, b: string) => a === bridge || b === bridge || left.has(a) === left.has(b);
    const right = shuffled.slice(k + 1);
    return {
      detail: `bridge ${[...left].join(',')} <${bridge}> ${right.join(',')}`,
      grudge: grudgeFrom(nodes, canTalk),
    };
  }
  // Majorities ring: each node sees its neighbours on a ring, a majority, but no two the same majority.
  const position = new Map(shuffled.map((n, i) => [n, i]));
  const n = nodes.length;
  const reach = Math.ceil((Math.floor(n / 2) + 1 - 1) / 2);
  const canTalk = (a: string, b: string) => {
    const d = Math.abs((position.get(a) ?? 0) - (position.get(b) ?? 0));
    return Math.min(d, n - d) <= reach;
  };
  return { detail: `majorities ring ${shuffled.join('-')}`, grudge: grudgeFrom(nodes, canTalk) };
}
