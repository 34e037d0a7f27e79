import { describe, expect, it } from 'vitest';
import { Random } from '../random.js';
import { describeStep, planSchedule, slotOf, type ScheduleOptions } from './schedule.js';
import { PARTITION_SHAPES } from './shapes.js';

const options: ScheduleOptions = {
  nodes: ['n1', 'n2', 'n3', 'n4', 'n5'],
  kinds: ['partition', 'kill', 'pause', 'packet'],
  intervalMs: 2_000,
  timeLimitMs: 60_000,
  shapes: PARTITION_SHAPES,
  targets: ['one', 'leader', 'minority', 'majority'],
};

describe('the fault schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = planSchedule(options, new Random(42)).map(describeStep);
    const b = planSchedule(options, new Random(42)).map(describeStep);
    const c = planSchedule(options, new Random(43)).map(describeStep);
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(5);
    expect(c).not.toEqual(a);
  });

  it('keeps at most one fault per slot in force and ends every fault by the time limit', () => {
    for (let seed = 0; seed < 30; seed++) {
      const steps = planSchedule(options, new Random(seed));
      for (const [i, step] of steps.entries()) {
        expect(step.atMs + step.durationMs).toBeLessThanOrEqual(options.timeLimitMs + 1e-6);
        for (const other of steps.slice(i + 1)) {
          if (slotOf(other.kind) !== slotOf(step.kind)) continue;
          expect(other.atMs).toBeGreaterThanOrEqual(step.atMs + step.durationMs);
        }
      }
    }
  });

  it('draws gaps from [0, 2 x interval], so faults average one per interval', () => {
    const steps = planSchedule({ ...options, kinds: ['partition'], timeLimitMs: 2_000_000 }, new Random(7));
    // One slot: each gap is drawn after the previous fault ends or is skipped; the mean stays near the interval.
    const perSecond = steps.length / 2_000;
    expect(perSecond).toBeGreaterThan(0.2);
    expect(perSecond).toBeLessThan(0.5);
  });

  it('uses only the enabled kinds and plans nothing for none', () => {
    const steps = planSchedule({ ...options, kinds: ['kill'] }, new Random(1));
    expect(new Set(steps.map((step) => step.kind))).toEqual(new Set(['kill']));
    expect(planSchedule({ ...options, kinds: [] }, new Random(1))).toEqual([]);
  });

  it('sizes kill, power and pause targets as one node, a minority, a majority or all, and leaves the leader open', () => {
    const steps = planSchedule(
      {
        ...options,
        kinds: ['kill', 'pause', 'power'],
        targets: ['one', 'leader', 'minority', 'majority', 'all'],
        timeLimitMs: 600_000,
      },
      new Random(3),
    );
    const sizes = { one: 1, minority: 2, majority: 3, all: 5 } as const;
    expect(new Set(steps.map((s) => s.kind))).toEqual(new Set(['kill', 'pause', 'power']));
    expect(steps.some((s) => 'target' in s && s.target === 'all')).toBe(true);
    for (const step of steps) {
      if (step.kind !== 'kill' && step.kind !== 'pause' && step.kind !== 'power') continue;
      if (step.target === 'leader') expect(step.nodes).toBeNull();
      else expect(step.nodes).toHaveLength(sizes[step.target]);
    }
  });

  it('plans leader-aimed schedules in the slot of their kind, with the leader left to the start of each fault', () => {
    const steps = planSchedule(
      {
        ...options,
        kinds: ['kill'],
        aimed: ['isolate-leader', 'majorities-ring', 'pause-leader'],
        timeLimitMs: 600_000,
      },
      new Random(5),
    );
    const names = new Set(
      steps.map((s) =>
        s.kind === 'partition'
          ? `${s.shape}${s.aimed === true ? ' aimed' : ''}`
          : `${s.kind} ${s.kind === 'kill' || s.kind === 'pause' ? s.target : ''}`,
      ),
    );
    expect(names).toEqual(
      new Set([
        'isolate-leader',
        'majorities-ring aimed',
        'pause leader',
        'kill one',
        'kill leader',
        'kill minority',
        'kill majority',
      ]),
    );
    for (const step of steps) {
      if (step.kind === 'partition' && step.shape === 'isolate-leader') expect(step.partition).toBeNull();
      if (step.kind === 'partition' && step.shape === 'majorities-ring')
        expect(step.partition?.nodes).toHaveLength(5);
      if (step.kind === 'pause') expect(step.nodes).toBeNull();
    }
    // A pause shares the process slot with kills: never both in force.
    const process = steps.filter((s) => slotOf(s.kind) === 'process');
    for (const [i, step] of process.entries())
      for (const other of process.slice(i + 1))
        expect(other.atMs).toBeGreaterThanOrEqual(step.atMs + step.durationMs);
    expect(describeStep(steps.find((s) => s.kind === 'partition' && s.aimed === true)!)).toMatch(
      /ring .* \(naming the leader\)$/,
    );
  });

  it('plans stale-candidate as two steps that hold both the partition and the process slot', () => {
    let planned = 0;
    for (let seed = 0; seed < 20; seed++) {
      const steps = planSchedule(
        { ...options, kinds: ['kill', 'partition', 'pause'], aimed: ['stale-candidate', 'pause-leader'] },
        new Random(seed),
      );
      for (const [i, step] of steps.entries()) {
        for (const other of steps.slice(i + 1)) {
          if (slotOf(other.kind) !== slotOf(step.kind)) continue;
          expect(other.atMs).toBeGreaterThanOrEqual(step.atMs + step.durationMs - 1e-6);
        }
        if (step.kind !== 'partition' || step.shape !== 'isolate-follower') continue;
        // The kill of the leader follows at half the schedule's length and ends after the heal.
        const kill = steps[i + 1]!;
        expect(kill.kind === 'kill' && kill.target).toBe('leader');
        expect(kill.atMs).toBeCloseTo(step.atMs + (2 / 3) * step.durationMs, 6);
        expect(kill.atMs + kill.durationMs).toBeGreaterThan(step.atMs + step.durationMs);
        expect(step.order).toHaveLength(5);
        planned += 1;
      }
    }
    expect(planned).toBeGreaterThan(10);
  });

  it('plans fall-behind as a long isolation of a follower, in the partition slot', () => {
    let planned = 0;
    for (let seed = 0; seed < 20; seed++) {
      const steps = planSchedule(
        { ...options, kinds: ['partition', 'kill'], aimed: ['fall-behind'], timeLimitMs: 600_000 },
        new Random(seed),
      );
      for (const [i, step] of steps.entries()) {
        for (const other of steps.slice(i + 1)) {
          if (slotOf(other.kind) !== slotOf(step.kind)) continue;
          expect(other.atMs).toBeGreaterThanOrEqual(step.atMs + step.durationMs - 1e-6);
        }
        if (step.kind !== 'partition' || step.fallBehind !== true) continue;
        expect(step.shape).toBe('isolate-follower');
        expect(step.partition).toBeNull();
        expect([...step.order!].sort()).toEqual(options.nodes);
        // Twice a usual fault: between 1 and 3 intervals, unless the time limit cuts it.
        expect(step.durationMs).toBeGreaterThanOrEqual(Math.min(options.intervalMs, 600_000 - step.atMs));
        expect(step.durationMs).toBeLessThanOrEqual(3 * options.intervalMs);
        expect(describeStep(step)).toMatch(/partition isolate a follower to fall behind compaction$/);
        planned += 1;
      }
    }
    expect(planned).toBeGreaterThan(20);
  });

  it('leaves the schedule of other choices as it was when fall-behind is not asked for', () => {
    // Adding the choice must not move the draws of existing seeds (a replay stays a replay).
    const before = planSchedule(options, new Random(7)).map(describeStep);
    expect(planSchedule({ ...options, aimed: [] }, new Random(7)).map(describeStep)).toEqual(before);
    expect(before.join('\n')).not.toMatch(/fall behind/);
  });
});
