// The simulated network: every packet gets a delay from a distribution, and with the matching
// faults switched on may be dropped, duplicated or reordered (an extra delay). Partitions are a
// "grudge": for each node, the set of nodes whose packets it drops (both directions are listed).
// Client packets travel the same network but are not partitioned (clients sit next to every node,
// as in Jepsen), only delayed, dropped and duplicated.
import type { FaultName } from './config.js';
import { SIM_TIMING } from './config.js';
import type { SimRng } from './rng.js';

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  partitioned: number;
  delayedLong: number;
}

export class SimNetwork {
  private grudge = new Map<string, ReadonlySet<string>>();
  /** Extra loss during a "packet" nemesis fault, on top of the background drop rate. */
  extraDropProbability = 0;
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    partitioned: 0,
    delayedLong: 0,
  };

  // The fault switches, looked up once (a Set lookup per packet showed in the profile).
  private readonly drop: boolean;
  private readonly duplicate: boolean;
  private readonly reorder: boolean;
  private readonly longDelay: boolean;

  constructor(
    private readonly rng: SimRng,
    faults: ReadonlySet<FaultName>,
  ) {
    this.drop = faults.has('drop');
    this.duplicate = faults.has('duplicate');
    this.reorder = faults.has('reorder');
    this.longDelay = faults.has('delay');
  }

  /** Replaces the partition: `blocked[a]` = nodes a cannot exchange packets with. */
  setGrudge(grudge: Map<string, ReadonlySet<string>>): void {
    this.grudge = grudge;
  }

  heal(): void {
    this.grudge = new Map();
    this.extraDropProbability = 0;
  }

  isPartitioned(a: string, b: string): boolean {
    if (this.grudge.size === 0) return false;
    return this.grudge.get(a)?.has(b) === true || this.grudge.get(b)?.has(a) === true;
  }

  /**
   * The delivery delays (ns) of one packet: [] when it is lost, two when it is duplicated.
   * `peer` is true for node-to-node packets (which partitions cut).
   */
  deliveries(from: string, to: string, peer: boolean): number[] {
    const out: number[] = [];
    out.length = this.deliveriesInto(from, to, peer, out);
    return out;
  }

  /** deliveries() written into out[0], out[1] of a caller's array; returns how many (no allocation). */
  deliveriesInto(from: string, to: string, peer: boolean, out: number[]): number {
    this.stats.sent++;
    if (peer && this.isPartitioned(from, to)) {
      this.stats.partitioned++;
      return 0;
    }
    const dropProbability = (this.drop ? SIM_TIMING.dropProbability : 0) + this.extraDropProbability;
    if (this.rng.chance(dropProbability)) {
      this.stats.dropped++;
      return 0;
    }
    out[0] = this.delay(peer);
    if (this.duplicate && this.rng.chance(SIM_TIMING.duplicateProbability)) {
      this.stats.duplicated++;
      out[1] = this.delay(peer);
      return 2;
    }
    return 1;
  }

  private delay(peer: boolean): number {
    // A message stuck longer than an election timeout (a stalled connection, a retransmission after
    // a long outage): it arrives into a later term, from a sender that may have moved on.
    if (this.longDelay && peer && this.rng.chance(SIM_TIMING.longDelayProbability)) {
      this.stats.delayedLong++;
      return this.rng.int(SIM_TIMING.longDelayNsMin, SIM_TIMING.longDelayNsMax);
    }
    let d = SIM_TIMING.networkDelayNsMin + this.rng.exponential(SIM_TIMING.networkDelayNsMean);
    if (this.reorder && this.rng.chance(SIM_TIMING.reorderProbability)) {
      d += this.rng.next() * SIM_TIMING.reorderDelayNsMax;
    }
    return Math.round(Math.min(d, SIM_TIMING.networkDelayNsMax));
  }
}
