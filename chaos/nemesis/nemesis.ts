// Runs the planned fault schedule against a runtime, records every fault's start and stop in the
// history, and always ends with a heal (TigerBeetle's supervisor shape: seeded actions, then heal).
import { realClock, type LabClock } from '../clock.js';
import type { Runtime } from '../runtime/types.js';
import type { Recorder } from '../recorder.js';
import { sleep } from '../sleep.js';
import { describeClock, slotOf, type FaultKind, type FaultStep } from './schedule.js';
import { firstFollower, isolate, type Grudge } from './shapes.js';

export type NemesisRuntime = Pick<
  Runtime,
  | 'kill'
  | 'powerCut'
  | 'setClock'
  | 'isRunning'
  | 'restart'
  | 'pause'
  | 'resume'
  | 'partition'
  | 'packetLoss'
  | 'heal'
>;

export interface NemesisDeps {
  runtime: NemesisRuntime;
  nodes: readonly string[];
  recorder: Recorder;
  /** The current leader, or null when none answers (leader-targeted faults then pick a node at random). */
  findLeader: () => Promise<string | null>;
  log: (message: string) => void;
  /** The time the schedule runs on (the real clock unless a test passes a fake one). */
  clock?: LabClock;
  /**
   * A node's last log index and newest durable snapshot, or null when it does not answer. With it,
   * a fall-behind isolation is held past its planned end until the leader has compacted past the
   * isolated node (at most twice the planned length); without it, the planned length is all.
   */
  logIndexes?: (node: string) => Promise<LogIndexes | null>;
  /** The servers' --snapshot-tail-entries: a snapshot at index S compacts the log through S - this. */
  snapshotTailEntries?: number;
}

export interface LogIndexes {
  lastIndex: number;
  snapshotIndex: number;
}

/** How often a held fall-behind isolation asks the leader how far it has compacted. */
const FALL_BEHIND_POLL_MS = 250;

/** A fall-behind isolation in force: who is cut off, and the last index it holds. */
interface FallBehindWatch {
  follower: string;
  lastIndexBefore: number;
}

/** A fault in force, as the progress line and the final heal see it. */
export interface ActiveFault {
  kind: FaultKind;
  detail: string;
  nodes: string[];
}

/** Restarts of one node tried in a row before the failure stands (see Nemesis.restart). */
const RESTART_ATTEMPTS_MAX = 3;

/** What a clock fault's end and the final heal set: true rate, no jump. */
const TRUE_TIME = { rate: 1, offsetMs: 0 } as const;

export function toRuntimeGrudge(grudge: Grudge): ReadonlyMap<string, ReadonlySet<string>> {
  return new Map(Object.entries(grudge).map(([node, dropped]) => [node, new Set(dropped)]));
}

/** For a leader-aimed partition's record: the leader, and who drops its traffic (they will elect). */
export function whereTheLeaderStands(grudge: Grudge, leader: string): string {
  const deaf = Object.keys(grudge)
    .filter((node) => grudge[node]?.includes(leader) === true)
    .sort();
  return `leader ${leader}, unheard by ${deaf.length > 0 ? deaf.join(',') : 'no node'}`;
}

export class Nemesis {
  private readonly active = new Map<FaultStep, ActiveFault>();
  private readonly paused = new Set<string>();
  private readonly killed = new Set<string>();
  private readonly clocked = new Set<string>();
  private readonly fallBehind = new Map<FaultStep, FallBehindWatch>();
  faultsStarted = 0;
  private readonly clock: LabClock;

  constructor(private readonly deps: NemesisDeps) {
    this.clock = deps.clock ?? realClock;
  }

  /** The faults in force now. */
  inForce(): ActiveFault[] {
    return [...this.active.values()];
  }

  /**
   * Runs every step at its offset from `originMs` (the clock's nowMs() time) until the signal aborts.
   * Steps of one slot run one after another: a restart can take seconds, so a fault may end later
   * than planned, and the next fault of its slot then starts late rather than overlapping it (a
   * kill must not hit a node the previous kill is still restarting). Faults in force at the abort
   * stay in force for healAll().
   */
  async run(steps: readonly FaultStep[], originMs: number, signal: AbortSignal): Promise<void> {
    const slots = new Map<string, FaultStep[]>();
    for (const step of steps) slots.set(slotOf(step.kind), [...(slots.get(slotOf(step.kind)) ?? []), step]);
    await Promise.all(
      [...slots.values()].map(async (slotSteps) => {
        for (const step of slotSteps) {
          await sleep(originMs + step.atMs - this.clock.nowMs(), signal, this.clock);
          if (signal.aborted) return;
          await this.start(step);
          await sleep(originMs + step.atMs + step.durationMs - this.clock.nowMs(), signal, this.clock);
          if (signal.aborted) return;
          await this.holdUntilCompactedPast(step, signal);
          if (signal.aborted) return;
          await this.stop(step);
        }
      }),
    );
  }

  /** Ends every fault: heals the network, resumes paused and restarts killed nodes, records it all. */
  async healAll(): Promise<void> {
    const { runtime, recorder, nodes } = this.deps;
    recorder.record({
      type: 'nemesis',
      phase: 'start',
      fault: 'heal-all',
      detail: 'heal everything',
      nodes: [...nodes],
      time: recorder.now(),
    });
    await runtime.heal();
    for (const node of [...this.paused].sort()) await runtime.resume(node);
    for (const node of [...this.killed].sort()) await this.restart(node);
    for (const node of [...this.clocked].sort()) await runtime.setClock(node, TRUE_TIME);
    this.clocked.clear();
    this.paused.clear();
    this.killed.clear();
    for (const fault of this.active.values()) this.recordPhase('stop', fault);
    this.active.clear();
    recorder.record({
      type: 'nemesis',
      phase: 'stop',
      fault: 'heal-all',
      detail: 'healed everything',
      nodes: [...nodes],
      time: recorder.now(),
    });
  }

  /**
   * Restarts every node that died on its own (a --failpoints crash point fired), recording the
   * crash as a `failpoint-crash` fault that ends with the restart. Nodes the nemesis itself took
   * down are left to it. Returns the nodes restarted.
   */
  async reviveCrashed(): Promise<string[]> {
    const { runtime, nodes } = this.deps;
    const revived: string[] = [];
    for (const node of nodes) {
      if (this.killed.has(node) || (await runtime.isRunning(node))) continue;
      const fault: ActiveFault = { kind: 'kill', detail: `${node} died at a failpoint`, nodes: [node] };
      this.recordPhase('start', fault, 'failpoint-crash');
      this.deps.log(`nemesis: ${fault.detail}; restarting it`);
      await this.restart(node);
      this.recordPhase('stop', fault, 'failpoint-crash');
      revived.push(node);
    }
    return revived;
  }

  /** Checks for crashed nodes every intervalMs until the signal aborts (for --failpoints runs). */
  async reviveCrashedUntil(signal: AbortSignal, intervalMs: number): Promise<void> {
    while (!signal.aborted) {
      await sleep(intervalMs, signal, this.clock);
      if (!signal.aborted) await this.reviveCrashed();
    }
  }

  /**
   * A runtime error on one fault does not end the run: it is logged, and the fault is still
   * marked in force, so its stop (or the final heal) undoes whatever part of it took effect.
   */
  private async start(step: FaultStep): Promise<void> {
    const fault = await this.resolve(step);
    let failure = '';
    try {
      await this.apply(step, fault);
    } catch (error) {
      failure = ` (failed: ${(error as Error).message})`;
    }
    const record: ActiveFault = { kind: step.kind, detail: `${fault.detail}${failure}`, nodes: fault.nodes };
    this.active.set(step, record);
    if (step.kind === 'partition' && step.fallBehind === true && failure === '')
      await this.watchFallBehind(step, fault);
    this.faultsStarted += 1;
    this.recordPhase('start', record);
    this.deps.log(`nemesis: start ${step.kind}: ${record.detail}`);
  }

  private async apply(step: FaultStep, fault: { nodes: string[]; grudge?: Grudge }): Promise<void> {
    const { runtime } = this.deps;
    switch (step.kind) {
      case 'partition':
        return runtime.partition(toRuntimeGrudge(fault.grudge ?? {}));
      case 'kill':
        for (const node of fault.nodes) this.killed.add(node);
        for (const node of fault.nodes) await runtime.kill(node);
        return;
      case 'power':
        for (const node of fault.nodes) this.killed.add(node);
        for (const node of fault.nodes) await runtime.powerCut(node);
        return;
      case 'pause':
        for (const node of fault.nodes) this.paused.add(node);
        for (const node of fault.nodes) await runtime.pause(node);
        return;
      case 'packet':
        return runtime.packetLoss(fault.nodes, step.lossFraction);
      case 'clock':
        for (const node of fault.nodes) this.clocked.add(node);
        for (const node of fault.nodes) await runtime.setClock(node, step);
        return;
    }
  }

  private async stop(step: FaultStep): Promise<void> {
    const fault = this.active.get(step);
    if (fault === undefined) return;
    try {
      await this.undo(step, fault);
    } catch (error) {
      // Left in force: the final heal tries again.
      this.deps.log(`nemesis: could not stop ${step.kind} (${fault.detail}): ${(error as Error).message}`);
      return;
    }
    this.active.delete(step);
    this.recordPhase('stop', fault);
    this.deps.log(`nemesis: stop ${step.kind}: ${fault.detail}`);
  }

  private async undo(step: FaultStep, fault: ActiveFault): Promise<void> {
    const { runtime } = this.deps;
    switch (step.kind) {
      case 'partition':
        if (step.fallBehind === true) return this.healFallenBehind(fault.nodes);
        return runtime.partition(new Map());
      case 'kill':
      case 'power':
        // Together, as power comes back to a whole rack: their election timers start at once, the
        // moment two candidates of one term are likeliest (what a double vote turns into two leaders).
        await Promise.all(fault.nodes.map((node) => this.restart(node)));
        for (const node of fault.nodes) this.killed.delete(node);
        return;
      case 'pause':
        for (const node of fault.nodes) await runtime.resume(node);
        for (const node of fault.nodes) this.paused.delete(node);
        return;
      case 'packet':
        return runtime.packetLoss([], 0);
      case 'clock':
        for (const node of fault.nodes) await runtime.setClock(node, TRUE_TIME);
        for (const node of fault.nodes) this.clocked.delete(node);
        return;
    }
  }

  /**
   * The isolated node's last index, read after the cut (it cannot grow while cut off); when it does
   * not answer, the leader's, which bounds it (the leader sent it nothing newer).
   */
  private async watchFallBehind(step: FaultStep, fault: { nodes: string[]; leader?: string }): Promise<void> {
    const logIndexes = this.deps.logIndexes;
    const follower = fault.nodes[0];
    if (logIndexes === undefined || follower === undefined) return;
    const own = await logIndexes(follower).catch(() => null);
    const bound =
      own ?? (fault.leader === undefined ? null : await logIndexes(fault.leader).catch(() => null));
    if (bound !== null) this.fallBehind.set(step, { follower, lastIndexBefore: bound.lastIndex });
  }

  /**
   * Holds a fall-behind isolation past its planned end until the leader's compaction point
   * (snapshot index minus the tail it keeps) passes the isolated node's last index, so the heal
   * needs an InstallSnapshot; at most the planned length again, then heals anyway and says so.
   */
  private async holdUntilCompactedPast(step: FaultStep, signal: AbortSignal): Promise<void> {
    const watch = this.fallBehind.get(step);
    const logIndexes = this.deps.logIndexes;
    if (watch === undefined || logIndexes === undefined) return;
    this.fallBehind.delete(step);
    const tail = this.deps.snapshotTailEntries ?? 0;
    const deadlineMs = this.clock.nowMs() + step.durationMs;
    for (;;) {
      const leader = await this.deps.findLeader().catch(() => null);
      const indexes =
        leader === null || leader === watch.follower ? null : await logIndexes(leader).catch(() => null);
      const compactedThrough = indexes === null ? 0 : indexes.snapshotIndex - tail;
      if (compactedThrough > watch.lastIndexBefore) {
        this.deps.log(
          `nemesis: fall-behind: leader ${leader ?? '?'} compacted through ${compactedThrough}, past ${watch.follower}'s last index ${watch.lastIndexBefore}; healing`,
        );
        return;
      }
      if (this.clock.nowMs() >= deadlineMs || signal.aborted) {
        this.deps.log(
          `nemesis: fall-behind: the leader has not compacted past ${watch.follower}'s last index ${watch.lastIndexBefore} (through ${compactedThrough}) after twice the planned time; healing anyway`,
        );
        return;
      }
      await sleep(FALL_BEHIND_POLL_MS, signal, this.clock);
    }
  }

  /**
   * A partition holds the bytes in flight, as TCP retransmission does (chaos/runtime/local/proxy.ts;
   * iptables DROP in Docker): healed as it is, the leader's appends sent before it compacted would
   * arrive after all and the follower would catch up without a snapshot. Restarting the follower
   * while still cut off drops that stream, so the leader has to probe it and finds the entries gone.
   */
  private async healFallenBehind(nodes: readonly string[]): Promise<void> {
    const { runtime } = this.deps;
    for (const node of nodes) this.killed.add(node);
    for (const node of nodes) await runtime.kill(node);
    await runtime.partition(new Map());
    await Promise.all(nodes.map((node) => this.restart(node)));
    for (const node of nodes) this.killed.delete(node);
    this.deps.log(`nemesis: fall-behind: restarted ${nodes.join(',')} at the heal (the held stream is lost)`);
  }

  /** Fills in the leader for leader-targeted steps. */
  private async resolve(
    step: FaultStep,
  ): Promise<{ detail: string; nodes: string[]; grudge?: Grudge; leader?: string }> {
    switch (step.kind) {
      case 'partition': {
        if (step.partition === null && step.shape === 'isolate-follower') {
          const leader = await this.leaderOrAny();
          const follower = isolate(this.deps.nodes, firstFollower(step.order ?? this.deps.nodes, leader));
          return {
            detail: `${follower.detail} (a follower of ${leader}${step.fallBehind === true ? ', to fall behind compaction' : ''})`,
            nodes: follower.nodes,
            grudge: follower.grudge,
            leader,
          };
        }
        const partition = step.partition ?? isolate(this.deps.nodes, await this.leaderOrAny());
        const detail =
          step.partition === null
            ? `${partition.detail} (the leader)`
            : step.aimed === true
              ? `${partition.detail}; ${whereTheLeaderStands(partition.grudge, await this.leaderOrAny())}`
              : partition.detail;
        return { detail, nodes: partition.nodes, grudge: partition.grudge };
      }
      case 'kill':
      case 'power':
      case 'pause': {
        const nodes = step.nodes ?? [await this.leaderOrAny()];
        const who =
          step.nodes === null ? `${nodes.join(',')} (the leader)` : `${nodes.join(',')} (${step.target})`;
        return { detail: `${step.kind} ${who}`, nodes };
      }
      case 'clock': {
        const nodes = step.nodes ?? [await this.leaderOrAny()];
        const who = step.nodes === null ? `${nodes.join(',')} (the leader)` : nodes.join(',');
        return { detail: `clock ${describeClock(step)} on ${who}`, nodes };
      }
      case 'packet':
        return {
          detail: `lose ${Math.round(step.lossFraction * 100)}% of packets on ${step.nodes.join(',')}`,
          nodes: [...step.nodes],
        };
    }
  }

  /**
   * A restart that fails is tried again, up to RESTART_ATTEMPTS_MAX times in all: with --failpoints
   * a node can die at a crash point while it starts (its start-up writes hit the WAL), which is
   * the failpoint working, not the lab failing. The last failure is thrown.
   */
  private async restart(node: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.runtime.restart(node);
      } catch (error) {
        if (attempt >= RESTART_ATTEMPTS_MAX) throw error;
        this.deps.log(
          `nemesis: restart of ${node} failed (${(error as Error).message.split('\n')[0]}); trying again`,
        );
      }
    }
  }

  private async leaderOrAny(): Promise<string> {
    const leader = await this.deps.findLeader().catch(() => null);
    if (leader !== null && this.deps.nodes.includes(leader)) return leader;
    // No leader answered: the fault still happens, on the first node (deterministic, and logged).
    this.deps.log('nemesis: no leader answered; targeting the first node instead');
    return this.deps.nodes[0] as string;
  }

  private recordPhase(phase: 'start' | 'stop', fault: ActiveFault, name: string = fault.kind): void {
    const { recorder } = this.deps;
    recorder.record({
      type: 'nemesis',
      phase,
      fault: name,
      detail: fault.detail,
      nodes: [...fault.nodes],
      time: recorder.now(),
    });
  }
}
