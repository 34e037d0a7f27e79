// The disk-loss fault (opt-in: --faults all,disk-loss). Raft assumes that what a node made durable
// stays durable; a lost disk breaks that, and a node that lost entries it had acknowledged can help
// elect a leader that lacks committed entries. The schedule that exposes it: the leader crashes and,
// at the same instant, the most up-to-date follower loses its disk (the one that helped commit the
// newest entries); the others may lack those entries. The follower comes back the way the operator
// guide says (docs/storage.md, A lost disk), through the server's own start decision:
//   wipe      the whole data directory is gone (MEMBER too): restarted with --rejoin-after-data-loss;
//   wipe-log  the log is gone, MEMBER kept: a plain restart is refused (WAL_LOST), then the flag;
//   truncate  the log is cut at a random point: restarted with the flag.
// The correct server stays safe (no leader without every committed entry) and recovers once the
// old leader is back; with the unsafe variant no-lost-state-guard the recovering node votes, and a
// stale leader overwrites committed entries (leader completeness).
// A fourth mode leaves the leader up:
//   cut-tail  a follower crashes; while it is down its log is cut below what it acknowledged, and
//             it restarts WITHOUT the flag (nobody noticed): the leader's heartbeat must tell it,
//             and the leader must probe it back; a follower left at its old index fails the run's
//             final liveness check. (The cut comes at the restart, so entries the leader commits
//             meanwhile are counted on disks that still hold them: a disk lost while the leader
//             keeps counting the copy on it is data loss no protocol can undo, and the checker's
//             "durable on a majority" would rightly flag it.)
import { decideStart } from '../server/storage/start-decision.js';
import type { SimRng } from './rng.js';

export type DiskLossMode = 'wipe' | 'wipe-log' | 'truncate' | 'cut-tail';
const MODES: readonly DiskLossMode[] = ['wipe', 'wipe-log', 'truncate', 'cut-tail'];

/** What the fault needs from the simulated world. */
export interface DiskLossWorld {
  readonly nodes: readonly string[];
  leader(): string | undefined;
  /** Durable log length of a node. */
  lastIndex(node: string): number;
  /** Every node is up and none is recovering: the fault only starts from a healthy cluster. */
  healthy(): boolean;
  crash(node: string, midWrite: boolean): void;
  /** Keeps the first `keep` durable entries of a crashed node; its hard state is lost. */
  loseDisk(node: string, keep: number): void;
  /** Restarts a crashed node, `recovering` as RaftConfig.recovering. */
  restart(node: string, recovering?: boolean): void;
  /** The unsafe variant no-lost-state-guard is on (the server then starts a lost member as fresh). */
  guardOff(): boolean;
  record(event: { phase: 'start' | 'stop'; fault: string; detail: string; nodes: string[] }): void;
}

/** Starts the fault; `next()` runs its later phases and returns their delays, undefined once healed. */
export function startDiskLoss(
  rng: SimRng,
  world: DiskLossWorld,
  phaseNs: () => number,
): { next: () => number | undefined } {
  const leader = world.leader();
  const victim = leader === undefined ? undefined : mostUpToDateFollower(world, leader);
  if (!world.healthy() || leader === undefined || victim === undefined) return { next: () => undefined };
  const mode = rng.pick(MODES);
  const last = world.lastIndex(victim);
  const keep =
    mode === 'truncate' ? rng.int(0, last - 1) : mode === 'cut-tail' ? rng.int(1, Math.max(1, last - 1)) : 0;
  const leaderToo = mode !== 'cut-tail';
  if (leaderToo) world.crash(leader, false);
  world.crash(victim, false);
  if (leaderToo) world.loseDisk(victim, keep);
  const what =
    mode === 'wipe'
      ? 'its whole data directory'
      : mode === 'wipe-log'
        ? 'its log (MEMBER kept)'
        : `its log after index ${keep}`;
  const detail = leaderToo ? `crash leader ${leader}; ${victim} loses ${what}` : `crash ${victim}`;
  world.record({ phase: 'start', fault: 'kill', detail, nodes: leaderToo ? [leader, victim] : [victim] });
  let started = false;
  const phases = [
    () => {
      if (!leaderToo) cutTail(world, victim, keep);
      started = startVictim(world, victim, mode);
    },
    () => {
      if (!started) startVictim(world, victim, mode, true);
    },
  ];
  if (leaderToo)
    phases.push(() => {
      world.restart(leader);
      world.record({ phase: 'stop', fault: 'kill', detail: `restart ${leader}`, nodes: [leader] });
    });
  return {
    next: () => {
      const phase = phases.shift();
      if (phase === undefined) return undefined;
      phase();
      return phases.length > 0 ? phaseNs() : undefined;
    },
  };
}

function cutTail(world: DiskLossWorld, node: string, keep: number): void {
  world.loseDisk(node, keep);
  world.record({
    phase: 'start',
    fault: 'kill',
    detail: `${node} loses its log after index ${keep}`,
    nodes: [node],
  });
}

function mostUpToDateFollower(world: DiskLossWorld, leader: string): string | undefined {
  let best: string | undefined;
  for (const node of world.nodes)
    if (node !== leader && (best === undefined || world.lastIndex(node) > world.lastIndex(best))) best = node;
  return best;
}

/**
 * Starts the victim as `lab server` would (server/storage/start-decision.ts); returns false when the
 * server refused. The operator passes --rejoin-after-data-loss after wipe and truncate, and on the
 * second try; the first start after wipe-log or cut-tail is a plain restart.
 */
function startVictim(world: DiskLossWorld, node: string, mode: DiskLossMode, secondTry = false): boolean {
  const rejoin = mode === 'wipe' || mode === 'truncate' || secondTry;
  const identity = { node, cluster: world.nodes.join(',') };
  try {
    const decision = decideStart({
      dir: `/sim/${node}`,
      identity,
      member: mode === 'wipe' ? undefined : identity,
      walEmpty: world.lastIndex(node) === 0,
      rejoin,
      guard: !world.guardOff(),
    });
    world.restart(node, decision.recovering);
    const how = rejoin
      ? ' with --rejoin-after-data-loss'
      : mode === 'cut-tail'
        ? ' (nobody noticed the cut)'
        : ' as a fresh node (unsafe: guard off)';
    world.record({ phase: 'stop', fault: 'kill', detail: `restart ${node}${how}`, nodes: [node] });
    return true;
  } catch (error) {
    world.record({
      phase: 'start',
      fault: 'kill',
      detail: `${node} refuses to start: ${(error as Error).message.slice(0, 120)}...`,
      nodes: [node],
    });
    return false;
  }
}
