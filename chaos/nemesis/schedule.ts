// The fault schedule: a pure function of the seed and options, computed before the run, so the
// same --seed replays the same faults at the same offsets. Only the leader is found at run time.
import type { Random } from '../random.js';
import {
  bridge,
  halves,
  isolate,
  majoritiesRing,
  majority,
  type Partition,
  type PartitionShape,
} from './shapes.js';

/** power: a kill that also loses every write the node had not fsynced (server/failpoints/power.ts). */
/** clock: the targets' clocks run slow or fast, or jump (server/failpoints/clock.ts). */
export type FaultKind = 'partition' | 'pause' | 'kill' | 'packet' | 'power' | 'clock';
export const FAULT_KINDS: readonly FaultKind[] = ['partition', 'pause', 'kill', 'packet', 'power', 'clock'];
/**
 * What `--nemesis all` means: power and clock are opt-in, because they need the server's test-only
 * switches and change what a long-standing `all` run did.
 */
export const FAULT_KINDS_IN_ALL: readonly FaultKind[] = ['partition', 'pause', 'kill', 'packet'];

/**
 * Schedules aimed at the leader found when the fault starts (`--nemesis isolate-leader`, ...), each
 * one fault kind held to one shape or target, in the slot of its kind:
 *  - isolate-leader: the current leader cut off from every other node (Jepsen's isolate-leader);
 *  - majorities-ring: Jepsen's majorities ring; the record names where the leader stood and which
 *    nodes cannot hear it (the ring is the same shape wherever the leader stands);
 *  - pause-leader: the current leader paused (SIGSTOP), so it wakes up believing it still leads;
 *  - stale-candidate: a follower isolated while the others commit; halfway through, the leader is
 *    killed; at three quarters the follower is healed while the leader stays down to the end, so a
 *    stale node and an up-to-date one race for the next election (what a vote that skips the log
 *    check gets wrong). Two steps, one in the partition slot and one in the process slot.
 *  - fall-behind: a follower (not the leader found at the start) isolated for twice the usual
 *    duration while the majority keeps writing, so the leader snapshots and compacts past it (lab
 *    --snapshot-entries, default small) and has to catch it up with InstallSnapshot after the heal.
 *    The run counts snapshot installs from the node logs and says so when none happened.
 * With pinned clients (--client-mode) the old leader's clients keep asking it throughout.
 */
export type AimedFault =
  'isolate-leader' | 'majorities-ring' | 'pause-leader' | 'stale-candidate' | 'fall-behind';
export const AIMED_FAULTS: readonly AimedFault[] = [
  'isolate-leader',
  'majorities-ring',
  'pause-leader',
  'stale-candidate',
  'fall-behind',
];

/**
 * How much longer than a usual fault a fall-behind isolation lasts: the majority must apply at
 * least --snapshot-entries plus the tail past the follower before the heal, which at lab write
 * rates takes a few seconds, longer than the shortest draws of a usual duration.
 */
export const FALL_BEHIND_DURATION_FACTOR = 2;

/** The fault kinds (and so the slots) an aimed schedule is made of. */
export function kindsOfAimed(aimed: AimedFault): FaultKind[] {
  if (aimed === 'stale-candidate') return ['partition', 'kill'];
  return [aimed === 'pause-leader' ? 'pause' : 'partition'];
}

/** Which nodes a kill or pause hits. */
export type TargetMode = 'one' | 'leader' | 'minority' | 'majority' | 'all';
/** The default targets. `all` (every node at once, Jepsen's whole-cluster crash) is opt-in. */
export const TARGET_MODES: readonly TargetMode[] = ['one', 'leader', 'minority', 'majority'];
export const TARGET_MODES_OPT_IN: readonly TargetMode[] = ['all'];

interface StepBase {
  /** Offset from the start of the workload. */
  atMs: number;
  durationMs: number;
}
export type FaultStep = StepBase &
  (
    | {
        kind: 'partition';
        shape: PartitionShape;
        /** null: aimed at the leader found at the start (shape isolate-leader or isolate-follower). */
        partition: Partition | null;
        /** isolate-follower: the first of these that is not the leader (drawn at planning). */
        order?: string[];
        /** The record names the leader found at the start and the nodes that cannot hear it. */
        aimed?: true;
        /** isolate-follower held to make the follower fall behind compaction (fall-behind). */
        fallBehind?: true;
      }
    | { kind: 'kill' | 'pause' | 'power'; target: TargetMode; nodes: string[] | null /* null: the leader */ }
    | { kind: 'packet'; nodes: string[]; lossFraction: number }
    | {
        kind: 'clock';
        target: TargetMode;
        nodes: string[] | null /* null: the leader */;
        /** Clock milliseconds per real millisecond while the fault lasts. */
        rate: number;
        /** A jump at the start of the fault. */
        offsetMs: number;
      }
  );

export interface ScheduleOptions {
  nodes: readonly string[];
  kinds: readonly FaultKind[];
  intervalMs: number;
  timeLimitMs: number;
  shapes: readonly PartitionShape[];
  targets: readonly TargetMode[];
  /** Leader-aimed schedules drawn alongside the kinds (absent: none). */
  aimed?: readonly AimedFault[];
}

/**
 * Kill, power and pause share one slot (a paused node is never also killed); partitions and packet loss
 * have a slot each. A step only starts a kind whose slot is free, so at most one fault per slot
 * is in force, and every fault ends by the time limit.
 */
export function slotOf(kind: FaultKind): 'process' | 'partition' | 'packet' | 'clock' {
  return kind === 'kill' || kind === 'pause' || kind === 'power' ? 'process' : kind;
}

export function planSchedule(options: ScheduleOptions, random: Random): FaultStep[] {
  const steps: FaultStep[] = [];
  const busyUntilMs = new Map<string, number>();
  const choices: (FaultKind | AimedFault)[] = [...options.kinds, ...(options.aimed ?? [])];
  if (choices.length === 0) return steps;
  let atMs = 0;
  for (;;) {
    atMs += random.between(0, 2 * options.intervalMs);
    if (atMs >= options.timeLimitMs) return steps;
    const free = choices.filter((choice) =>
      kindsOf(choice).every((kind) => (busyUntilMs.get(slotOf(kind)) ?? 0) <= atMs),
    );
    if (free.length === 0) continue;
    const choice = random.pick(free);
    const factor = choice === 'fall-behind' ? FALL_BEHIND_DURATION_FACTOR : 1;
    const durationMs = Math.min(
      factor * random.between(0.5 * options.intervalMs, 1.5 * options.intervalMs),
      options.timeLimitMs - atMs,
    );
    for (const kind of kindsOf(choice)) busyUntilMs.set(slotOf(kind), atMs + durationMs);
    const base = { atMs, durationMs };
    if (isAimed(choice)) steps.push(...planAimed(choice, base, options, random));
    else steps.push(planStep(choice, base, options, random));
  }
}

function isAimed(choice: FaultKind | AimedFault): choice is AimedFault {
  return (AIMED_FAULTS as readonly string[]).includes(choice);
}

function kindsOf(choice: FaultKind | AimedFault): FaultKind[] {
  return isAimed(choice) ? kindsOfAimed(choice) : [choice];
}

function planAimed(aimed: AimedFault, base: StepBase, options: ScheduleOptions, random: Random): FaultStep[] {
  switch (aimed) {
    case 'isolate-leader':
      return [{ ...base, kind: 'partition', shape: aimed, partition: null }];
    case 'majorities-ring':
      return [
        {
          ...base,
          kind: 'partition',
          shape: aimed,
          partition: majoritiesRing(options.nodes, random),
          aimed: true,
        },
      ];
    case 'pause-leader':
      return [{ ...base, kind: 'pause', target: 'leader', nodes: null }];
    case 'fall-behind':
      return [
        {
          ...base,
          kind: 'partition',
          shape: 'isolate-follower',
          partition: null,
          order: random.shuffle(options.nodes),
          fallBehind: true,
        },
      ];
    case 'stale-candidate': {
      const { atMs, durationMs } = base;
      const order = random.shuffle(options.nodes);
      return [
        {
          atMs,
          durationMs: 0.75 * durationMs,
          kind: 'partition',
          shape: 'isolate-follower',
          partition: null,
          order,
        },
        {
          atMs: atMs + 0.5 * durationMs,
          durationMs: 0.5 * durationMs,
          kind: 'kill',
          target: 'leader',
          nodes: null,
        },
      ];
    }
  }
}

function planStep(kind: FaultKind, base: StepBase, options: ScheduleOptions, random: Random): FaultStep {
  const nodes = options.nodes;
  switch (kind) {
    case 'partition': {
      const shape = random.pick(options.shapes);
      return { ...base, kind, shape, partition: planPartition(shape, nodes, random) };
    }
    case 'kill':
    case 'power':
    case 'pause': {
      const target = random.pick(options.targets);
      return {
        ...base,
        kind,
        target,
        nodes: target === 'leader' ? null : pickTargets(target, nodes, random),
      };
    }
    case 'clock':
      return planClock(base, options, random);
    case 'packet': {
      // Loss on a minority, or on every node: the first slows a few links, the second all of them.
      const everyone = random.next() < 0.5;
      const hit = everyone ? [...nodes] : pickTargets('minority', nodes, random);
      return { ...base, kind, nodes: hit, lossFraction: round2(random.between(0.1, 0.5)) };
    }
  }
}

/**
 * Half the clock faults slow the targets (rate 0.05 to 0.5: a leader's lease and check-quorum then
 * outlast the others' election timeouts), a third speed them up (2 to 10), the rest jump (a second
 * or two forward or back at true rate).
 */
function planClock(base: StepBase, options: ScheduleOptions, random: Random): FaultStep {
  const target = random.pick(options.targets);
  const nodes = target === 'leader' ? null : pickTargets(target, options.nodes, random);
  const draw = random.next();
  const rate =
    draw < 0.5 ? round2(random.between(0.05, 0.5)) : draw < 0.85 ? round2(random.between(2, 10)) : 1;
  const offsetMs = rate === 1 ? Math.round(random.between(-2000, 2000)) : 0;
  return { ...base, kind: 'clock', target, nodes, rate, offsetMs };
}

export function planPartition(
  shape: PartitionShape,
  nodes: readonly string[],
  random: Random,
): Partition | null {
  switch (shape) {
    case 'isolate-one':
      return isolate(nodes, random.pick(nodes));
    case 'halves':
      return halves(nodes, random);
    case 'majorities-ring':
      return majoritiesRing(nodes, random);
    case 'bridge':
      return bridge(nodes, random);
    case 'isolate-leader':
    case 'isolate-follower':
      return null;
  }
}

export function pickTargets(
  mode: Exclude<TargetMode, 'leader'>,
  nodes: readonly string[],
  random: Random,
): string[] {
  if (mode === 'all') return [...nodes].sort();
  const count =
    mode === 'one' ? 1 : mode === 'majority' ? majority(nodes.length) : nodes.length - majority(nodes.length);
  return random.shuffle(nodes).slice(0, Math.max(1, count)).sort();
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** One line per step, for lab.log and the schedule tests. */
export function describeStep(step: FaultStep): string {
  const at = `${(step.atMs / 1000).toFixed(1)}s+${(step.durationMs / 1000).toFixed(1)}s`;
  switch (step.kind) {
    case 'partition':
      return `${at} partition ${step.partition?.detail ?? (step.shape === 'isolate-follower' ? 'isolate a follower' : 'isolate the leader')}${step.aimed === true ? ' (naming the leader)' : ''}${step.fallBehind === true ? ' to fall behind compaction' : ''}`;
    case 'kill':
    case 'power':
    case 'pause':
      return `${at} ${step.kind} ${step.nodes?.join(',') ?? 'the leader'} (${step.target})`;
    case 'clock':
      return `${at} clock ${describeClock(step)} on ${step.nodes?.join(',') ?? 'the leader'} (${step.target})`;
    case 'packet':
      return `${at} packet loss ${Math.round(step.lossFraction * 100)}% on ${step.nodes.join(',')}`;
  }
}

export function describeClock(step: { rate: number; offsetMs: number }): string {
  return step.rate !== 1 ? `rate x${step.rate}` : `jump ${step.offsetMs > 0 ? '+' : ''}${step.offsetMs} ms`;
}
