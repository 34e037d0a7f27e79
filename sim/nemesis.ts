// The nemesis: seeded faults, one at a time, each followed by its heal (TigerBeetle's supervisor
// shape, Jepsen's partition shapes). Partitions: one node isolated, random halves, majorities ring,
// bridge, leader isolated. Pauses (the node keeps its stale timers), crashes (immediately, or in the
// middle of a disk write), and bursts of packet loss. Every start and stop goes into the history.
import type { NemesisEvent } from '../checker/history-types.js';
import type { FaultName } from './config.js';
import { SIM_TIMING } from './config.js';
import { startDiskLoss, type DiskLossWorld } from './disk-loss.js';
import type { SimRng } from './rng.js';
import type { SnapshotMoment } from './host.js';

/** What the nemesis may do to the world. */
export interface NemesisWorld extends DiskLossWorld {
  nodes: readonly string[];
  leader(): string | undefined;
  partition(grudge: Map<string, ReadonlySet<string>>): void;
  heal(): void;
  pause(node: string): void;
  /** clockJump: the node's clock catches up with the time it stood still (else its timers are stale). */
  resume(node: string, clockJump: boolean): void;
  /** midWrite: crash inside the node's next disk write rather than now. */
  crash(node: string, midWrite: boolean): void;
  /** Crashes the node at its next moment of that kind (see CrashAim). */
  crashAimed(node: string, aim: CrashAim): void;
  /** True when pauses must resume with a clock jump (leases assume clocks keep running). */
  readonly pausesJumpClock: boolean;
  restart(node: string, recovering?: boolean): void;
  packetLoss(probability: number): void;
  record(event: Omit<NemesisEvent, 'type' | 'time'>): void;
  isDown(node: string): boolean;
  /** True once the node has actually crashed (not merely armed to crash). */
  isCrashed(node: string): boolean;
  /** Runs `action` after `delayNs` of simulated time. */
  after(delayNs: number, action: () => void): void;
  /** Where the node's in-memory log starts (its compaction point; 0 while crashed). */
  logStart(node: string): number;
  /** Nodes take snapshots in this run (the snapshot faults are drawn only then). */
  readonly snapshots: boolean;
}

type Action =
  | 'partition'
  | 'pause'
  | 'crash'
  | 'crash-aimed'
  | 'packet'
  | 'pause-isolated-leader'
  | 'leader-churn'
  | 'disk-loss';

/** Faults aimed at snapshots, drawn from their own generator (see Nemesis.step). */
type SnapshotAction = 'kept-away' | 'crash-snapshot';
/** The share of fault starts that are snapshot faults (when the run takes snapshots). */
const SNAPSHOT_FAULT_SHARE = 0.15;

/**
 * The moments an aimed crash waits for: right after the node grants a vote (sent, and persisted
 * before it), right after it adopts a new term, or between writing a Ready that must be synced
 * (entries or only a vote/term) and its fsync.
 */
export type CrashAim = 'after-vote' | 'after-term-change' | 'before-fsync' | SnapshotMoment;
const CRASH_AIMS: readonly CrashAim[] = ['after-vote', 'after-term-change', 'before-fsync'];
/**
 * Snapshot steps: while its own snapshot is being saved (image taken, not durable), right once it
 * is durable (before the log is compacted and released), in the middle of a transfer it receives
 * (after a chunk that is not the last), right after it installed a received one.
 */
const SNAPSHOT_AIMS_OWN: readonly SnapshotMoment[] = ['snapshot-save', 'snapshot-durable'];
const SNAPSHOT_AIMS_RECEIVED: readonly SnapshotMoment[] = ['snapshot-chunk', 'snapshot-install'];
/** The kept-away fault checks this often whether the log was compacted past the node. */
const KEPT_AWAY_POLL_NS = 100 * 1_000_000;

/** The fault in force: `next()` moves it to its next phase and returns that phase's length, or undefined once healed. */
interface Active {
  readonly next: () => number | undefined;
}

export class Nemesis {
  private active: Active | undefined;
  private readonly actions: Action[];
  private readonly snapshotActions: SnapshotAction[] = [];

  constructor(
    private readonly rng: SimRng,
    faults: ReadonlySet<FaultName>,
    private readonly world: NemesisWorld,
    /** Draws of the snapshot faults: the other faults' sequence stays what it was without them. */
    private readonly snapshotRng: SimRng = rng,
  ) {
    this.actions = [];
    if (faults.has('partition')) this.actions.push('partition', 'partition');
    if (faults.has('pause')) this.actions.push('pause');
    if (faults.has('crash')) this.actions.push('crash', 'crash-aimed', 'leader-churn', 'leader-churn');
    if (faults.has('drop')) this.actions.push('packet');
    if (faults.has('disk-loss')) this.actions.push('disk-loss', 'disk-loss');
    // A leader that stalls while cut off, then wakes up with stale timers still believing it leads:
    // the schedule that exposes reads served without confirming leadership.
    if (faults.has('partition') && faults.has('pause')) this.actions.push('pause-isolated-leader');
    if (world.snapshots && faults.has('partition')) this.snapshotActions.push('kept-away');
    if (world.snapshots && faults.has('crash')) this.snapshotActions.push('crash-snapshot');
  }

  get enabled(): boolean {
    return this.actions.length > 0;
  }

  /** Starts a fault, moves the one in force to its next phase, or heals it; returns the delay until the next call. */
  step(): number {
    if (this.active !== undefined) {
      const phase = this.active.next();
      if (phase !== undefined) return phase;
      this.active = undefined;
      return this.rng.int(SIM_TIMING.nemesisQuietNsMin, SIM_TIMING.nemesisQuietNsMax);
    }
    if (this.snapshotActions.length > 0 && this.snapshotRng.chance(SNAPSHOT_FAULT_SHARE)) {
      this.active = this.startSnapshotFault(this.snapshotRng.pick(this.snapshotActions));
      return this.snapshotRng.int(SIM_TIMING.nemesisFaultNsMin, SIM_TIMING.nemesisFaultNsMax);
    }
    this.active = this.start(this.rng.pick(this.actions));
    return this.faultLength();
  }

  /** Heals whatever is in force, through all its phases. */
  stopActive(): void {
    const active = this.active;
    this.active = undefined;
    if (active === undefined) return;
    for (let i = 0; i < 100 && active.next() !== undefined; i++);
  }

  private faultLength(): number {
    return this.rng.int(SIM_TIMING.nemesisFaultNsMin, SIM_TIMING.nemesisFaultNsMax);
  }

  private start(action: Action): Active {
    switch (action) {
      case 'partition':
        return this.startPartition();
      case 'pause':
        return this.startPause();
      case 'crash':
        return this.startCrash();
      case 'crash-aimed':
        return this.startAimedCrash();
      case 'packet':
        return this.startPacketLoss();
      case 'pause-isolated-leader':
        return this.startPauseIsolatedLeader();
      case 'leader-churn':
        return this.startLeaderChurn();
      case 'disk-loss':
        return startDiskLoss(this.rng, this.world, () => this.faultLength());
    }
  }

  private startSnapshotFault(action: SnapshotAction): Active {
    return action === 'kept-away' ? this.startKeptAway() : this.startSnapshotCrash();
  }

  /** A crash aimed at one of a node's own snapshot steps (save in flight, just durable). */
  private startSnapshotCrash(): Active {
    const rng = this.snapshotRng;
    const aim = rng.pick(SNAPSHOT_AIMS_OWN);
    const leader = this.world.leader();
    const node = leader !== undefined && rng.chance(0.5) ? leader : rng.pick(this.world.nodes);
    this.world.crashAimed(node, aim);
    this.world.record({ phase: 'start', fault: 'kill', detail: `crash ${node} ${aim}`, nodes: [node] });
    return once(() => this.restartNode(node));
  }

  /**
   * A follower is cut off until the leader has compacted its log past the follower's last entry
   * (or keptAwayNsMax passes), so only a snapshot brings it back. Half the time it is also armed
   * to crash in the middle of that transfer or right after installing it; restarted at the end.
   */
  private startKeptAway(): Active {
    const nodes = this.world.nodes;
    const leader = this.world.leader();
    const rng = this.snapshotRng;
    const node = rng.pick(nodes.filter((n) => n !== leader));
    const behind = this.world.lastIndex(node);
    const grudge = grudgeFrom(nodes, (a, b) => a !== node && b !== node);
    this.world.partition(grudge);
    const detail = `keep ${node} away until the log is compacted past its index ${behind}`;
    this.world.record({ phase: 'start', fault: 'partition', detail, nodes: [...nodes] });
    let polls = Math.ceil(SIM_TIMING.keptAwayNsMax / KEPT_AWAY_POLL_NS);
    let healed = false;
    return {
      next: () => {
        if (healed) {
          if (this.world.isDown(node)) this.restartNode(node);
          return undefined;
        }
        const now = this.world.leader();
        if (--polls > 0 && (now === undefined || this.world.logStart(now) <= behind))
          return KEPT_AWAY_POLL_NS;
        healed = true;
        const aim = rng.chance(0.5) ? rng.pick(SNAPSHOT_AIMS_RECEIVED) : undefined;
        if (aim !== undefined) {
          this.world.crashAimed(node, aim);
          this.world.record({ phase: 'start', fault: 'kill', detail: `crash ${node} ${aim}`, nodes: [node] });
        }
        this.world.heal();
        const how = aim === undefined ? '' : `; ${node} armed to crash ${aim}`;
        this.world.record({ phase: 'stop', fault: 'partition', detail: `heal${how}`, nodes: [...nodes] });
        return rng.int(SIM_TIMING.nemesisFaultNsMin, SIM_TIMING.nemesisFaultNsMax);
      },
    };
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
    return once(() => {
      this.world.heal();
      this.world.record({ phase: 'stop', fault: 'partition', detail: 'heal', nodes });
    });
  }

  private startPause(): Active {
    const node = this.victim();
    this.world.pause(node);
    this.world.record({ phase: 'start', fault: 'pause', detail: `pause ${node}`, nodes: [node] });
    // A paused process (SIGSTOP, a long GC) wakes either with a driver that counts ticks by timer
    // firings (stale timers) or by elapsed time (its clock jumps; every timeout fires at once).
    const jump = this.world.pausesJumpClock || this.rng.chance(0.5);
    return once(() => {
      this.world.resume(node, jump);
      const detail = `resume ${node}${jump ? ' (clock jumps)' : ''}`;
      this.world.record({ phase: 'stop', fault: 'pause', detail, nodes: [node] });
    });
  }

  private crashNode(node: string, midWriteProbability = 0.5): void {
    const midWrite = this.rng.chance(midWriteProbability);
    this.world.crash(node, midWrite);
    const detail = midWrite ? `crash ${node} during its next disk write` : `crash ${node}`;
    this.world.record({ phase: 'start', fault: 'kill', detail, nodes: [node] });
  }

  private restartNode(node: string): void {
    this.world.restart(node);
    this.world.record({ phase: 'stop', fault: 'kill', detail: `restart ${node}`, nodes: [node] });
  }

  private startCrash(): Active {
    const node = this.victim();
    this.crashNode(node);
    return once(() => this.restartNode(node));
  }

  private startAimedCrash(): Active {
    const aim = this.rng.pick(CRASH_AIMS);
    const leader = this.world.leader();
    if (aim !== 'before-fsync' && leader !== undefined && this.rng.chance(2 / 3))
      return this.startElectionCrashes(leader, aim);
    const node = this.victim();
    this.world.crashAimed(node, aim);
    this.world.record({ phase: 'start', fault: 'kill', detail: `crash ${node} ${aim}`, nodes: [node] });
    // Half the time a supervisor restarts it at once: it comes back while the election or term it
    // crashed in is still going on, the window where a forgotten vote or term can be reused.
    if (this.rng.chance(0.5)) return this.restartSoon(node);
    return once(() => this.restartNode(node));
  }

  /**
   * The leader crashes, and every other node crashes right after its next vote (or term change)
   * and is restarted within milliseconds: the election that follows runs through restarts, with
   * candidates' requests still in flight to voters that have just come back.
   */
  private startElectionCrashes(leader: string, aim: CrashAim): Active {
    this.world.crash(leader, false);
    const others = this.world.nodes.filter((n) => n !== leader);
    for (const n of others) this.world.crashAimed(n, aim);
    const nodes = [leader, ...others];
    const detail = `crash leader ${leader}; the others ${aim}, restarted at once`;
    this.world.record({ phase: 'start', fault: 'kill', detail, nodes });
    const soon = others.map((n) => this.restartSoon(n));
    return once(() => {
      for (const active of soon) active.next();
      this.restartNode(leader);
    });
  }

  /** Restarts the node within 0-2 ms (half the time) or 0-30 ms of going down, then ends the fault. */
  private restartSoon(node: string): Active {
    let restarted = false;
    const poll = () => {
      if (restarted) return;
      if (!this.world.isDown(node) || this.world.isCrashed(node)) {
        restarted = true;
        const soonNsMax = this.rng.chance(0.5) ? SIM_TIMING.tickNs / 5 : 3 * SIM_TIMING.tickNs;
        this.world.after(this.rng.int(0, soonNsMax), () => this.restartNode(node));
        return;
      }
      this.world.after(SIM_TIMING.tickNs / 5, poll);
    };
    this.world.after(SIM_TIMING.tickNs / 5, poll);
    return once(() => {
      if (!restarted) this.restartNode(node);
      restarted = true;
    });
  }

  /**
   * Leader churn: while it lasts, every newly elected leader is crashed within a few milliseconds
   * of taking office (before clients find it), and restarted soon after. Short-lived leaders leave
   * entries of their terms on a minority: the schedules of Raft paper Figure 8.
   */
  private startLeaderChurn(): Active {
    const down = new Set<string>();
    // Up to a majority may be down at once, briefly: safety must hold without quorum too, and the
    // Figure 8 schedule needs the holders of two conflicting minority entries down in turn.
    const downMax = Math.ceil(this.world.nodes.length / 2);
    const hunt = (leader: string) => {
      if (down.size >= downMax || down.has(leader)) return;
      down.add(leader);
      this.world.after(this.rng.int(0, 3 * SIM_TIMING.tickNs), () => {
        if (!down.has(leader)) return; // healed meanwhile
        // Mostly inside its next log append: the entry stays on this node alone, never sent.
        this.crashNode(leader, 0.8);
        this.world.after(this.rng.int(5 * SIM_TIMING.tickNs, 60 * SIM_TIMING.tickNs), () => {
          if (!down.delete(leader)) return; // already restarted by the heal
          this.restartNode(leader);
        });
      });
    };
    this.onLeader = hunt;
    const first = this.world.leader();
    if (first !== undefined) hunt(first);
    return once(() => {
      this.onLeader = undefined;
      for (const node of down) if (this.world.isDown(node)) this.restartNode(node);
      down.clear();
    });
  }

  private onLeader: ((node: string) => void) | undefined;

  /** The simulation reports every new leader (the churn fault hunts them). */
  leaderElected(node: string): void {
    this.onLeader?.(node);
  }

  private startPauseIsolatedLeader(): Active {
    const leader = this.world.leader() ?? this.rng.pick(this.world.nodes);
    const nodes = [...this.world.nodes];
    const grudge = new Map(
      nodes.map((a) => [a, new Set(a === leader ? nodes.filter((b) => b !== a) : [leader])] as const),
    );
    this.world.partition(grudge);
    this.world.pause(leader);
    this.world.record({ phase: 'start', fault: 'partition', detail: `isolate leader ${leader}`, nodes });
    this.world.record({ phase: 'start', fault: 'pause', detail: `pause ${leader}`, nodes: [leader] });
    let resumed = false;
    return {
      next: () => {
        if (!resumed) {
          resumed = true;
          // Still cut off; with timers that stood still unless pauses must jump the clock.
          this.world.resume(leader, this.world.pausesJumpClock);
          this.world.record({
            phase: 'stop',
            fault: 'pause',
            detail: `resume ${leader} (still isolated)`,
            nodes: [leader],
          });
          return this.rng.int(SIM_TIMING.tickNs * 2, SIM_TIMING.tickNs * 30);
        }
        this.world.heal();
        this.world.record({ phase: 'stop', fault: 'partition', detail: 'heal', nodes });
        return undefined;
      },
    };
  }

  private startPacketLoss(): Active {
    const probability = 0.2 + this.rng.next() * 0.4;
    this.world.packetLoss(probability);
    const detail = `drop ${(probability * 100).toFixed(0)}% of packets`;
    this.world.record({ phase: 'start', fault: 'packet', detail, nodes: [...this.world.nodes] });
    return once(() => {
      this.world.packetLoss(0);
      this.world.record({
        phase: 'stop',
        fault: 'packet',
        detail: 'packet loss off',
        nodes: [...this.world.nodes],
      });
    });
  }
}

/** A one-phase fault: the next step heals it. */
function once(heal: () => void): Active {
  return {
    next: () => {
      heal();
      return undefined;
    },
  };
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
  const shapes = ['isolate', 'halves', 'ring', 'bridge', 'leader', 'leader-one'] as const;
  let shape: (typeof shapes)[number] = rng.pick(shapes);
  if (shape === 'ring' && nodes.length < 5) shape = 'isolate'; // with 3 nodes every ring sees everyone
  const shuffled = rng.shuffle(nodes);
  if (shape === 'leader-one' && leader !== undefined) {
    // The leader keeps one follower; that follower still sees everyone (a one-node bridge).
    const kept = shuffled.find((n) => n !== leader) as string;
    const g = grudgeFrom(nodes, (a, b) => (a !== leader && b !== leader) || a === kept || b === kept);
    return { detail: `leader ${leader} keeps only ${kept}`, grudge: g };
  }
  if (shape === 'leader-one') shape = 'isolate';
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
