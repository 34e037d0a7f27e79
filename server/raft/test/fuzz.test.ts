// Seeded random schedules (ticks, reordering, loss, duplication, partitions, crashes) over the
// scripted harness, checking Raft's safety properties after every step. The full simulator lives
// in sim/; this keeps the core honest on its own and pins determinism (same seed, same trace).
import { describe, expect, it } from 'vitest';
import { createRng, type SeededRng } from '../rng.js';
import type { UnsafeVariant } from '../unsafe.js';
import { Cluster } from './harness.js';

interface Outcome {
  trace: string;
  violation: string | undefined;
  commits: number;
}

function checkSafety(
  c: Cluster,
  leadersByTerm: Map<number, string>,
  appliedAt: Map<number, string>,
): string | undefined {
  for (const [id, node] of c.nodes) {
    const st = node.status();
    if (st.role === 'leader') {
      const other = leadersByTerm.get(st.term);
      if (other !== undefined && other !== id) return `two leaders in term ${st.term}: ${other} and ${id}`;
      leadersByTerm.set(st.term, id);
    }
    if (st.applied > st.commit) return `${id} applied ${st.applied} beyond commit ${st.commit}`;
    for (const e of c.applied.get(id) ?? []) {
      const key = `${e.term}:${new TextDecoder().decode(e.data)}`;
      const seen = appliedAt.get(e.index);
      if (seen === undefined) appliedAt.set(e.index, key);
      else if (seen !== key)
        return `state machine safety: index ${e.index} applied as ${seen} and as ${key} (${id})`;
    }
  }
  return undefined;
}

function randomStep(c: Cluster, rng: SeededRng, ids: readonly string[], step: number): void {
  const roll = rng.next();
  const pick = (): string => ids[rng.int(0, ids.length - 1)] as string;
  if (roll < 0.3) c.tick(pick());
  else if (roll < 0.75 && c.queue.length > 0) c.deliverOne(rng.int(0, c.queue.length - 1));
  else if (roll < 0.8 && c.queue.length > 0) c.drop((m) => m === c.queue[0]);
  else if (roll < 0.82 && c.queue.length > 0) c.deliverOne(rng.int(0, c.queue.length - 1), true);
  else if (roll < 0.9) {
    const leader = c.leaders()[0];
    if (leader !== undefined) c.propose(leader, `v${step}`);
  } else if (roll < 0.93) {
    const leader = c.leaders()[0];
    if (leader !== undefined) c.read(leader, step);
  } else if (roll < 0.95) c.isolate(pick());
  else if (roll < 0.98) c.heal();
  else c.restart(pick());
}

/**
 * Now and then a node snapshots its applied state and compacts, keeping 0-3 entries behind it, so
 * laggards (isolated, restarted, dropped messages) catch up by multi-chunk InstallSnapshot.
 */
function maybeSnapshot(c: Cluster, rng: SeededRng, ids: readonly string[]): void {
  if (rng.next() >= 0.02) return;
  const id = ids[rng.int(0, ids.length - 1)] as string;
  const node = c.node(id);
  const applied = node.status().applied;
  if (applied <= node.logStart().index) return;
  c.takeSnapshot(id, Math.max(node.logStart().index, applied - rng.int(0, 3)));
}

function chaos(
  seed: number,
  steps: number,
  unsafe: readonly UnsafeVariant[] = [],
  preVote = true,
  snapshots = false,
): Outcome {
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const snapshotLimits = snapshots ? { snapshotChunkBytes: 24, snapshotChunksInflightMax: 2 } : {};
  const c = new Cluster(
    ids,
    { preVote, checkQuorum: preVote, unsafe: new Set(unsafe), ...snapshotLimits },
    seed,
  );
  const rng = createRng(seed);
  const leadersByTerm = new Map<number, string>();
  const appliedAt = new Map<number, string>();
  let violation: string | undefined;
  for (let step = 0; step < steps && violation === undefined; step++) {
    try {
      if (snapshots) maybeSnapshot(c, rng, ids);
      randomStep(c, rng, ids, step);
    } catch (e) {
      violation = `crash: ${(e as Error).message}`;
      break;
    }
    violation = checkSafety(c, leadersByTerm, appliedAt);
  }
  return { trace: c.text(), violation, commits: appliedAt.size };
}

describe('seeded random schedules', () => {
  it('the same seed gives the same trace; another seed a different one', () => {
    const a = chaos(7, 1500);
    const b = chaos(7, 1500);
    expect(a.trace).toBe(b.trace);
    expect(chaos(8, 1500).trace).not.toBe(a.trace);
  });

  it('safety holds (one leader per term, state machine safety, applied <= commit, no invariant crash) across 10 seeds', () => {
    let commits = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const o = chaos(seed, 2500);
      expect(o.violation, `seed ${seed}`).toBeUndefined();
      commits += o.commits;
    }
    expect(commits).toBeGreaterThan(10 * 10); // the schedules make real progress, not only elections
  });

  it('safety also holds without pre-vote and check-quorum', () => {
    for (let seed = 1; seed <= 6; seed++) {
      expect(chaos(seed, 2500, [], false).violation, `seed ${seed}`).toBeUndefined();
    }
  });

  it('safety holds with snapshots, compaction and InstallSnapshot in the schedule', () => {
    let installs = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const o = chaos(seed, 3000, [], true, true);
      expect(o.violation, `seed ${seed}`).toBeUndefined();
      installs += (o.trace.match(/ install snapshot /g) ?? []).length;
    }
    expect(installs).toBeGreaterThan(0);
  });

  it('vote-twice is caught by the same checks (without pre-vote, where concurrent candidates are common)', () => {
    let caught: string | undefined;
    for (let seed = 1; seed <= 20 && caught === undefined; seed++) {
      caught = chaos(seed, 2500, ['vote-twice'], false).violation;
    }
    expect(caught).toMatch(/two leaders in term|crash: raft invariant violated/);
  });
});
