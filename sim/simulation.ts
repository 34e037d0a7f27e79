// One simulated run: N real Raft cores with real KV state machines, a simulated network, disk and
// clock, a nemesis and clients, all driven by one discrete-event queue and one seed. The safety
// properties are checked after every event; the client history is checked for linearizability at
// the end. runSimulation(options) is a pure function of its options: same seed, same trace.
import type { HistoryEvent, NemesisEvent } from '../checker/history-types.js';
import { checkHistory } from '../checker/index.js';
import type { ReadMode } from '../server/raft/config.js';
import type { Message, Ready } from '../server/raft/types.js';
import { SimClient } from './client.js';
import type { SimOptions } from './config.js';
import {
  formatFaults,
  LEASE_SHARE_OF_SEEDS,
  SIM_KV_LIMITS,
  SIM_TIMING,
  WAL_SHARE_OF_SEEDS,
  walDiskRefusal,
} from './config.js';
import { describeMessage } from '../server/node/describe.js';
import { describeOp, describeResult } from './describe.js';
import type { SimDisk } from './disk.js';
import { EventQueue } from './event-queue.js';
import type { HostEnv, SnapshotMoment } from './host.js';
import type { SnapshotSettings } from '../server/node/config.js';
import { SimHost } from './host.js';
import { LazyTimer } from './lazy-timer.js';
import type { CrashAim } from './nemesis.js';
import { Nemesis } from './nemesis.js';
import { SimNetwork } from './network.js';
import type { ClientRequest, Packet } from './packets.js';
import { SimRng } from './rng.js';
import type { SafetyProperty, Violation } from './safety.js';
import { SafetyChecker, STATE_HASH_EVERY_ENTRIES } from './safety.js';
import { Trace } from './trace.js';
import { Workload } from './workload.js';
import { SYNC_NS_MAX } from './sim-fs.js';
import type { StoreUnsafe } from './wal-disk.js';

/**
 * A queued event. A Raft message in flight is queued as itself, with no wrapper (they are two
 * thirds of all events, and the wrapper was a tenth of the bytes a sweep allocates): it is told
 * apart by having no `k` (Messages mirror the .proto and have no such field).
 */
type SimEvent =
  | Message
  | TickEvent
  | { readonly k: 'deliver'; readonly to: string; readonly packet: Packet }
  | { readonly k: 'client-wake'; readonly client: SimClient; readonly timer: LazyTimer<SimEvent> }
  | { readonly k: 'client-start'; readonly client: SimClient }
  | { readonly k: 'nemesis' }
  | { readonly k: 'call'; readonly action: () => void };

/** One per host life: a tick re-schedules the very event it came from (ticks are the commonest events). */
interface TickEvent {
  readonly k: 'tick';
  readonly host: SimHost;
  readonly incarnation: number;
  /** This host's tick period (its clock drift applied). */
  readonly tickNs: number;
}

export interface SimSummary {
  readonly seed: number;
  readonly nodes: number;
  readonly faults: string;
  readonly unsafe: string;
  readonly passed: boolean;
  readonly violation: Violation | undefined;
  readonly ops: { ok: number; fail: number; info: number };
  readonly simulatedNs: number;
  readonly events: number;
  readonly committedEntries: number;
  readonly wallMs: number;
  readonly linearizability: string;
  /** How this seed served reads ('read-index' or 'lease': --reads mixed draws it per seed). */
  readonly readMode: ReadMode;
  /** Client sessions evicted from a full table and expired for idleness, summed over replicas. */
  readonly sessions: { evicted: number; expired: number };
  /** The disk this seed ran on ('model' or 'wal': --disk mixed draws it per seed). */
  readonly disk: DiskMode;
}

export type DiskMode = 'model' | 'wal';

export interface SimRun {
  readonly summary: SimSummary;
  readonly history: HistoryEvent[];
  readonly trace: Trace;
}

export class Simulation {
  readonly queue = new EventQueue<SimEvent>();
  readonly trace: Trace;
  readonly history: HistoryEvent[] = [];
  readonly hosts = new Map<string, SimHost>();
  readonly clients = new Map<string, SimClient>();
  /** Each client's attempt/backoff timer (one re-armable timer per client). */
  private readonly clientTimers = new Map<SimClient, LazyTimer<SimEvent>>();
  readonly network: SimNetwork;
  readonly safety: SafetyChecker;
  private readonly nemesis: Nemesis;
  private readonly rng: SimRng;
  private readonly tickNsOf = new Map<string, number>();
  private readonly pausedInbox = new Map<string, Packet[]>();
  /** Messages a paused node had sent that were still in its send buffer: they leave on resume. */
  private readonly pausedOutbox = new Map<string, Packet[]>();
  private readonly pausedAt = new Map<string, number>();
  /** Nodes armed for an aimed crash, and at what moment. */
  private readonly crashAims = new Map<string, CrashAim>();
  readonly readMode: ReadMode;
  readonly diskMode: DiskMode;
  /** --disk wal: hosts that started WAL calls in this event (drained, then observed, after it). */
  private readonly ioHosts = new Set<SimHost>();
  /** --disk wal: nodes whose restart (the WAL's open) has not finished yet. */
  private readonly restarting = new Set<string>();
  /** Runs once every pending restart has finished (the final heal's bookkeeping). */
  private afterRestarts: (() => void) | undefined;
  /** This run's snapshot thresholds, drawn from the seed (small, so seeds take and send many). */
  readonly snapshotSettings: SnapshotSettings;
  private readonly snapshotRng: SimRng;
  now = 0;
  events = 0;
  private requestIds = 0;
  private opsTaken = 0;
  private opsDone = 0;
  private settling = false;
  private settleDeadline = 0;
  private nemesisRunning = false;
  /** The final heal: when, the highest term then, leaders elected since, and the probe operations. */
  private healedAtNs = 0;
  private termAtHeal = 0;
  private leadersAfterHeal = 0;
  private probing = false;
  private opsBudget: number;

  constructor(readonly options: SimOptions) {
    this.trace = new Trace(options.trace);
    this.rng = new SimRng(options.seed);
    this.opsBudget = options.ops;
    const nodeIds = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    this.network = new SimNetwork(this.rng.fork('network'), options.faults);
    this.readMode = this.chooseReadMode();
    this.diskMode = this.chooseDisk();
    // Its own stream, derived from the seed without a draw from the run's tree: choosing the disk
    // shifts nothing else, so a model-disk seed runs as it did before the WAL disk existed.
    const diskRng = new SimRng((options.seed ^ DISK_STREAM_SALT) >>> 0);
    // Its own generator from the seed: drawing these shifts none of the other components' draws.
    this.snapshotRng = new SimRng(options.seed).fork('snapshots');
    this.snapshotSettings = chooseSnapshotSettings(this.snapshotRng, options.snapshots);
    const driftMax = options.faults.has('clock')
      ? this.rng.next() * SIM_TIMING.clockDriftMaxWithFault
      : SIM_TIMING.clockDriftMax;
    const disks = new Map<string, SimDisk>();
    for (const id of nodeIds) {
      const wal =
        this.diskMode === 'wal' ? { rng: diskRng.fork(`fs-${id}`), unsafe: walUnsafe(options) } : undefined;
      const host = new SimHost(
        id,
        nodeIds,
        options.unsafe,
        this.rng.fork(`host-${id}`),
        this.hostEnv(id, wal),
      );
      this.hosts.set(id, host);
      disks.set(id, host.disk);
      host.disk.unsafeSyncOnlyEntries = options.unsafe.has('hard-state-no-fsync');
      const drift = (this.rng.next() * 2 - 1) * driftMax;
      this.tickNsOf.set(id, Math.round(SIM_TIMING.tickNs * (1 + drift)));
    }
    this.safety = new SafetyChecker(disks, Math.floor(options.nodes / 2) + 1);
    for (const [id, disk] of disks) disk.onDurable = (hs) => this.safety.durableHardState(id, hs);
    const workload = new Workload(this.rng.fork('workload'), options.keys);
    const hedge = options.faults.has('duplicate') ? 0.1 : 0;
    for (let i = 0; i < options.clients; i++) {
      const endpoint = `c${i}`;
      const client = new SimClient(
        endpoint,
        i,
        nodeIds,
        this.rng.fork(endpoint),
        workload,
        this.clientEnv(),
        hedge,
        options.clients,
      );
      this.clients.set(endpoint, client);
      this.clientTimers.set(
        client,
        new LazyTimer(this.queue, (timer) => ({ k: 'client-wake', client, timer })),
      );
    }
    this.nemesis = new Nemesis(
      this.rng.fork('nemesis'),
      options.faults,
      this.nemesisWorld(nodeIds),
      this.snapshotRng.fork('nemesis'),
    );
  }

  private chooseDisk(): DiskMode {
    const { disk } = this.options;
    const refusal = walDiskRefusal(this.options);
    if (disk === 'wal' && refusal !== undefined) throw new Error(`--disk wal: ${refusal}`);
    if (disk !== 'mixed') return disk;
    if (refusal !== undefined) return 'model';
    return new SimRng((this.options.seed ^ DISK_CHOICE_SALT) >>> 0).chance(WAL_SHARE_OF_SEEDS)
      ? 'wal'
      : 'model';
  }

  private chooseReadMode(): ReadMode {
    const reads = this.options.reads;
    if (reads === 'mixed') return this.rng.chance(LEASE_SHARE_OF_SEEDS) ? 'lease' : 'read-index';
    return reads === 'lease' ? 'lease' : 'read-index';
  }

  // ---- the run ------------------------------------------------------------------------------

  /** Runs a model-disk seed to the end (synchronous); a WAL-disk seed needs runAsync. */
  run(): Violation | undefined {
    if (this.diskMode === 'wal') throw new Error('a WAL-disk seed runs asynchronously: use runAsync');
    this.begin();
    while (this.nextEvent()) if (this.finished()) break;
    return this.safety.violation;
  }

  /**
   * Runs a seed of either disk. With the WAL disk, the real WAL's promises settle in microtasks:
   * after every event that started WAL calls, the loop waits one macrotask turn, by which point
   * every microtask has run (the simulated file system completes its calls at once and nothing
   * in the chain waits on a timer), and asserts that nothing is still in flight. The run stays a
   * function of its seed: event order is the queue's, and within an event the microtask order is.
   */
  async runAsync(): Promise<Violation | undefined> {
    if (this.diskMode === 'wal') {
      for (const host of this.hosts.values())
        void host.openFresh().catch((e: unknown) => this.internalError(e));
      await new Promise<void>((resolve) => setImmediate(resolve)); // once: every open and its check
    }
    this.begin();
    while (this.nextEvent()) {
      if (this.ioHosts.size > 0) await this.drainIo();
      if (this.finished()) break;
    }
    return this.safety.violation;
  }

  /**
   * Lets the WAL's continuations run until no save, open or restart of this event is pending: one
   * microtask turn at a time (a macrotask turn per event, setImmediate, cost a fifth of a WAL
   * seed's time). Nothing in the chain waits on a timer, so the loop ends.
   */
  private async drainIo(): Promise<void> {
    for (let turns = 0; this.ioBusy(); turns++) {
      if (turns > DRAIN_TURNS_MAX)
        throw new Error(`invariant: WAL calls still pending after ${DRAIN_TURNS_MAX} microtask turns`);
      await undefined;
    }
    for (const host of this.ioHosts) if (host.state === 'up') this.observe(host);
    this.ioHosts.clear();
  }

  /** Whether a WAL continuation can still run now (one waiting for an fsync waits for its event). */
  private ioBusy(): boolean {
    for (const node of this.restarting) if (this.hosts.get(node)?.store?.waitingOnDisk === false) return true;
    for (const host of this.ioHosts) if (host.store?.busy === true) return true;
    return false;
  }

  /**
   * A crashed invariant (thrown in an event, or in a WAL continuation) is a finding too, reported
   * like a violated property.
   */
  internalError(error: unknown): void {
    this.fail(
      'internal error',
      error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error),
    );
  }

  private begin(): void {
    const o = this.options;
    this.trace.note(
      0,
      `seed ${o.seed} nodes ${o.nodes} faults ${formatFaults(o.faults)} ops ${o.ops} clients ${o.clients} reads ${this.readMode} disk ${this.diskMode} unsafe ${[...o.unsafe].join(',') || 'none'}`,
    );
    for (const host of this.hosts.values()) this.scheduleTick(host, this.rng.int(0, SIM_TIMING.tickNs));
    for (const client of this.clients.values())
      this.queue.push(this.rng.int(0, SIM_TIMING.tickNs * 30), { k: 'client-start', client });
    if (this.nemesis.enabled) {
      this.nemesisRunning = true;
      this.queue.push(SIM_TIMING.nemesisQuietNsMax, { k: 'nemesis' });
    }
  }

  /** Handles the next event; false when there is none. */
  private nextEvent(): boolean {
    const event = this.queue.popEvent();
    if (event === undefined) return false;
    this.now = this.queue.time;
    this.safety.now = this.now;
    this.events++;
    this.dispatch(event);
    return true;
  }

  private finished(): boolean {
    return this.safety.violation !== undefined || (this.settling && this.settlingDone());
  }

  fail(property: SafetyProperty, detail: string): void {
    this.safety.fail(property, detail);
  }

  private dispatch(e: SimEvent): void {
    if (!('k' in e)) return this.onDeliverRaft(e);
    switch (e.k) {
      case 'tick':
        return this.onTick(e);
      case 'deliver':
        return this.onDeliver(e.to, e.packet);
      case 'client-wake': {
        const token = e.timer.popped();
        if (token !== undefined) e.client.wake(token);
        return;
      }
      case 'client-start':
        return e.client.startNext();
      case 'nemesis':
        return this.onNemesis();
      case 'call':
        return e.action();
    }
  }

  /** Starts the ticks of a host's current life, the first after `delayNs`. */
  private scheduleTick(host: SimHost, delayNs: number): void {
    const tickNs = this.tickNsOf.get(host.id) ?? SIM_TIMING.tickNs;
    this.queue.push(this.now + delayNs, { k: 'tick', host, incarnation: host.incarnation, tickNs });
  }

  private onTick(e: TickEvent): void {
    const host = e.host;
    if (e.incarnation !== host.incarnation || host.state === 'crashed') return;
    this.queue.push(this.now + e.tickNs, e);
    if (host.state === 'paused') return; // a paused process's timers stand still
    if (host.tick()) this.observe(host);
  }

  private onDeliver(to: string, packet: Packet): void {
    if (packet.kind === 'response') {
      if (this.pausedOutbox.size > 0 && this.holdFromPaused(packet.from, packet)) return;
      if (this.trace.enabled)
        this.trace.add(
          this.now,
          () => `${to} <- ${packet.from} #${packet.requestId} ${describeResult(packet.result)}`,
        );
      this.clients.get(to)?.receive(packet);
      return;
    }
    const host = this.hosts.get(to);
    if (host === undefined || host.state === 'crashed') return;
    if (host.state === 'paused') {
      this.pausedInbox.get(to)?.push(packet);
      return;
    }
    this.deliverToHost(host, packet);
  }

  /** A Raft message travels as its own event (no packet wrapper: one allocation less per message). */
  private onDeliverRaft(message: Message): void {
    if (this.pausedOutbox.size > 0 && this.holdFromPaused(message.from, message)) return;
    const host = this.hosts.get(message.to);
    if (host === undefined || host.state === 'crashed') return;
    if (host.state === 'paused') {
      this.pausedInbox.get(message.to)?.push({ kind: 'raft', message });
      return;
    }
    if (this.trace.enabled) this.trace.add(this.now, () => `deliver ${describeMessage(message)}`);
    if (host.step(message)) this.observe(host);
  }

  /**
   * A paused process's packets still in its send buffer do not leave until it runs again: held
   * here and re-sent on resume (so a pause freezes a node's output as well as its input).
   */
  private holdFromPaused(from: string, item: Message | Packet): boolean {
    const held = this.pausedOutbox.get(from);
    if (held === undefined) return false;
    held.push('kind' in item ? item : { kind: 'raft', message: item });
    return true;
  }

  private deliverToHost(host: SimHost, packet: Packet): void {
    let changed = false;
    if (packet.kind === 'raft') {
      if (this.trace.enabled) this.trace.add(this.now, () => `deliver ${describeMessage(packet.message)}`);
      changed = host.step(packet.message);
    } else if (packet.kind === 'request') {
      if (this.trace.enabled)
        this.trace.add(
          this.now,
          () =>
            `${packet.to} <- ${packet.from} #${packet.requestId} ${describeOp(packet.op)} session ${packet.clientId}/${packet.sequence}`,
        );
      changed = host.handleRequest(packet);
    }
    if (changed) this.observe(host);
  }

  private observe(host: SimHost): void {
    if (host.state !== 'up') return;
    const raft = host.raft;
    const role = raft.currentRole();
    const term = raft.currentTerm();
    this.safety.observe(host.id, role, term, raft.commitIndex(), host.appliedIndex);
    if (role === 'leader' && term > this.lastLeaderTerm) {
      this.lastLeaderTerm = term;
      if (this.trace.enabled) this.trace.add(this.now, () => `${host.id} is leader of term ${term}`);
      if (this.nemesisRunning) this.nemesis.leaderElected(host.id);
      if (this.settling) this.leaderAfterHeal();
    }
  }

  private lastLeaderTerm = 0;

  // ---- settling: after the last operation, heal everything and wait for the cluster to converge

  private startSettling(): void {
    if (this.settling) return;
    this.settling = true;
    this.nemesisRunning = false;
    this.nemesis.stopActive();
    this.network.heal();
    this.trace.note(
      this.now,
      'all operations done; healed; waiting for a leader, one more operation per client, and every node to apply every committed entry',
    );
    this.settleDeadline = this.now + SIM_TIMING.livenessAfterHealNs;
    this.healedAtNs = this.now;
    // The heal restarts every crashed node; on the WAL disk those restarts finish after this event's
    // drain, and the terms at the heal are the terms the restarted nodes come back with.
    if (this.restarting.size > 0) this.afterRestarts = () => this.noteHeal();
    else this.noteHeal();
  }

  private noteHeal(): void {
    this.termAtHeal = this.termMax();
    if (this.leaderUp() !== undefined) this.leaderAfterHeal();
  }

  private termMax(): number {
    let max = 0;
    for (const h of this.hosts.values()) if (h.state === 'up') max = Math.max(max, h.raft.currentTerm());
    return max;
  }

  /**
   * A leader exists after the final heal: once, every client runs one more operation (Jepsen's
   * final operations), which must be answered by the cluster (client progress).
   */
  private leaderAfterHeal(): void {
    this.leadersAfterHeal++;
    if (this.probing) return;
    this.probing = true;
    this.opsBudget += this.options.clients;
    for (const client of this.clients.values())
      if (!client.busy) this.queue.push(this.now, { k: 'client-start', client });
  }

  /** Liveness after the final heal, checked after every event while settling; true when the run ends. */
  private settlingDone(): boolean {
    if (this.safety.violation !== undefined) return true;
    if (!this.probing && this.now > this.healedAtNs + SIM_TIMING.leaderAfterHealNsMax) {
      this.fail(
        'liveness: leader after heal',
        `no leader ${SIM_TIMING.leaderAfterHealNsMax / 1e9}s after the final heal: ${this.nodesReport()}`,
      );
      return true;
    }
    // (Not while the heal's restarts are still opening their WALs: the terms at the heal are theirs.)
    const inflated = this.termMax() - this.termAtHeal - this.leadersAfterHeal;
    if (this.afterRestarts === undefined && inflated > SIM_TIMING.termsWithoutLeaderAfterHealMax) {
      this.fail(
        'liveness: term inflation',
        `terms rose from ${this.termAtHeal} to ${this.termMax()} after the final heal with ${this.leadersAfterHeal} leaders elected: ${this.nodesReport()}`,
      );
      return true;
    }
    if (this.now > this.settleDeadline) {
      this.fail('liveness after heal', this.livenessReport());
      return true;
    }
    return this.opsDone >= this.opsBudget && this.probing && this.settled();
  }

  /** A final operation must be answered by the cluster: ok, or a definite answer from the state machine. */
  private checkProgress(event: HistoryEvent): void {
    if (event.type !== 'ok' && event.type !== 'fail' && event.type !== 'info') return;
    if (event.type === 'ok' || (event.error !== undefined && ANSWERED_ERRORS.has(event.error))) return;
    this.fail(
      'liveness: client progress',
      `process ${event.process}'s ${event.f} after the final heal ended ${event.type} ${event.error ?? ''}: ${this.nodesReport()}`,
    );
  }

  private settled(): boolean {
    const committed = this.safety.committedCount;
    let leaders = 0;
    for (const host of this.hosts.values()) {
      if (host.state !== 'up' || host.appliedIndex !== committed) return false;
      if (host.raft.currentRole() === 'leader') leaders++;
      if (host.raft.commitIndex() !== committed) return false;
    }
    return leaders === 1;
  }

  private nodesReport(): string {
    const parts = [...this.hosts.values()].map((h) => {
      const s = h.raft.status();
      return `${h.id} ${h.state} ${s.role} t${s.term} commit ${s.commit} applied ${h.appliedIndex} last ${s.lastIndex}`;
    });
    return parts.join('; ');
  }

  private livenessReport(): string {
    return `no convergence ${SIM_TIMING.livenessAfterHealNs / 1e9}s after the final heal (committed anywhere: ${this.safety.committedCount}): ${this.nodesReport()}`;
  }

  private onNemesis(): void {
    if (!this.nemesisRunning) return;
    const delay = this.nemesis.step();
    this.queue.push(this.now + delay, { k: 'nemesis' });
  }

  // ---- environments handed to the parts -----------------------------------------------------

  /** Reused by send() (never re-entered): the delays of one packet. */
  private readonly delays: number[] = [0, 0];

  private send(from: string, to: string, packet: Packet, peer: boolean, copies = 1): void {
    const delays = this.delays;
    for (let c = 0; c < copies; c++) {
      const n = this.network.deliveriesInto(from, to, peer, delays);
      for (let i = 0; i < n; i++) {
        this.queue.push(this.now + (delays[i] as number), { k: 'deliver', to, packet });
      }
    }
  }

  /** send() for a Raft message (peer traffic), queued as itself. */
  private sendRaftMessage(from: string, message: Message): void {
    const delays = this.delays;
    const n = this.network.deliveriesInto(from, message.to, true, delays);
    for (let i = 0; i < n; i++) this.queue.push(this.now + (delays[i] as number), message);
  }

  private hostEnv(id: string, wal: HostEnv['wal']): HostEnv {
    return {
      wal,
      ioStarted: (host) => this.ioHosts.add(host),
      storageFailed: (node, error) =>
        this.fail(
          'storage: WAL failed',
          `${node}: ${error instanceof Error ? error.message : String(error)}`,
        ),
      asyncError: (error) => this.internalError(error),
      after: (delayNs, action) => this.queue.push(this.now + delayNs, { k: 'call', action }),
      sendRaft: (messages) => {
        // Indexed: this for-of was not optimized away, and its iterator results were ~8% of the bytes a sweep allocates.
        for (let i = 0; i < messages.length; i++) this.sendRaftMessage(id, messages[i] as Message);
      },
      reply: (request, result) => {
        if (this.trace.enabled)
          this.trace.add(
            this.now,
            () => `${id} -> ${request.from} #${request.requestId} ${describeResult(result)}`,
          );
        this.send(
          id,
          request.from,
          { kind: 'response', from: id, to: request.from, requestId: request.requestId, result },
          false,
        );
      },
      applied: (node, entry) => {
        this.safety.applied(node, entry);
        const every = entry.index % STATE_HASH_EVERY_ENTRIES === 0;
        if (every || this.safety.hasSnapshotHash(entry.index)) {
          const kv = this.hosts.get(node)?.kv;
          if (kv === undefined) return;
          const digest = kv.digest();
          if (every) this.safety.stateHash(node, entry.index, digest);
          else this.safety.snapshotHash(node, entry.index, digest);
        }
      },
      persisted: (node, ready, disk) => this.safety.persisted(node, ready, disk),
      trace: (text) => this.trace.add(this.now, text),
      tracing: this.trace.enabled,
      readMode: this.readMode,
      preVote: !this.options.unsafe.has('no-pre-vote'),
      kvLimits: SIM_KV_LIMITS,
      tearsWrite: (node, ready) => this.tearsWrite(node, ready),
      snapshot: this.snapshotSettings,
      snapshotSaveNs: () => this.snapshotRng.int(0, SIM_TIMING.snapshotSaveNsMax),
      snapshotMoment: (node, moment, now) => this.snapshotMoment(node, moment, now),
      snapshotTaken: (node, index, digest) => this.safety.snapshotHash(node, index, digest),
      snapshotInstalled: (node, before, index, digest) => {
        if (this.trace.enabled) this.trace.add(this.now, () => `${node} installed snapshot ${index}`);
        this.safety.installed(node, before, index);
        this.safety.snapshotHash(node, index, digest);
        if (index % STATE_HASH_EVERY_ENTRIES === 0) this.safety.stateHash(node, index, digest);
      },
    };
  }

  /** An aimed crash waiting for this snapshot step of the node happens now (or right after this event). */
  private snapshotMoment(node: string, moment: SnapshotMoment, now: boolean): boolean {
    if (this.crashAims.get(node) !== moment) return false;
    this.crashAims.delete(node);
    if (now) this.crashAimedNow(node, moment);
    else this.queue.push(this.now, { k: 'call', action: () => this.crashAimedNow(node, moment) });
    return true;
  }

  /** Whether an armed crash tears this Ready's write; aimed crashes wait for their moment instead. */
  private tearsWrite(node: string, ready: Ready): boolean {
    const aim = this.crashAims.get(node);
    if (aim === undefined) return ready.entries.length > 0 || ready.snapshot !== undefined;
    if (aim === 'before-fsync') return ready.mustSync;
    const moment =
      aim === 'after-vote'
        ? ready.messages.some((m) => m.type === 'vote-response' && m.granted && !m.preVote)
        : aim === 'after-term-change'
          ? ready.hardState !== undefined &&
            ready.hardState.term > (this.hosts.get(node)?.disk.lastHardState.term ?? 0)
          : aim === 'snapshot-install' && ready.snapshot !== undefined; // other snapshot steps: not a write
    if (moment) {
      // After this Ready is persisted and its messages sent: crash before the node does more.
      this.crashAims.delete(node);
      this.queue.push(this.now, { k: 'call', action: () => this.crashAimedNow(node, aim) });
    }
    return false;
  }

  private crashAimedNow(node: string, aim: CrashAim): void {
    const h = this.hosts.get(node);
    if (h === undefined || h.state !== 'up') return;
    // On the WAL disk the aimed Ready may still wait for its fsync: the crash comes after it (and
    // its vote or acknowledgement) went out, as on the model disk, not in the middle of it.
    if (h.shell.syncing) {
      this.queue.push(this.now + SYNC_NS_MAX, { k: 'call', action: () => this.crashAimedNow(node, aim) });
      return;
    }
    this.crashHost(h, `CRASH ${aim}`);
  }

  /** A crash between writes; with the WAL disk, the trace says what the file system lost. */
  private crashHost(h: SimHost, what: string): void {
    const lost = h.crash();
    if (this.trace.enabled)
      this.trace.note(this.now, `${h.id} ${what}${lost.length > 0 ? `: ${lost.join('; ')}` : ''}`);
  }

  private clientEnv(): ConstructorParameters<typeof SimClient>[5] {
    return {
      now: () => this.now,
      send: (request: ClientRequest, hedge: boolean) => {
        if (this.trace.enabled)
          this.trace.add(
            this.now,
            () =>
              `${request.from} -> ${request.to} #${request.requestId} ${describeOp(request.op)}${hedge ? ' (sent twice)' : ''}`,
          );
        this.send(request.from, request.to, request, false, hedge ? 2 : 1);
      },
      wakeAt: (time, client, token) => this.clientTimers.get(client)?.arm(time, token),
      record: (event) => {
        this.history.push(event);
        if (this.trace.enabled) this.trace.add(this.now, () => `history ${JSON.stringify(event)}`);
        if (this.probing && this.opsTaken > this.options.ops) this.checkProgress(event);
      },
      nextRequestId: () => ++this.requestIds,
      takeOp: () => {
        if (this.opsTaken >= this.opsBudget) return false;
        this.opsTaken++;
        return true;
      },
      opDone: () => {
        this.opsDone++;
        if (this.opsDone >= this.options.ops) this.startSettling();
        for (const client of this.clients.values()) {
          if (!client.busy)
            this.queue.push(this.now + this.rng.int(0, 2_000_000), { k: 'client-start', client });
        }
      },
      observedRead: (key, value, node) => this.checkNoDuplicateTokens(key, value, node),
    };
  }

  /**
   * Every written token is unique, so a value holding one token twice means a write applied twice.
   * A read mostly sees the value the key's last read saw, or that value with more appended: only
   * the new tokens are checked then (splitting every value read and filling a fresh Set showed
   * in the profile). The first token seen twice, in the value's order, is the one reported.
   */
  private checkNoDuplicateTokens(key: string, value: string | null, node: string): void {
    if (value === null) return;
    const known = this.tokensRead.get(key);
    if (known !== undefined && value === known.value) return;
    const extended = known !== undefined && known.value.endsWith(',') && value.startsWith(known.value);
    const tokens = extended ? known.tokens : new Set<string>();
    for (let from = extended ? known.value.length : 0; from < value.length;) {
      const comma = value.indexOf(',', from);
      const end = comma < 0 ? value.length : comma;
      const token = value.slice(from, end);
      from = end + 1;
      if (token === '') continue;
      if (tokens.has(token)) {
        this.fail(
          'no duplicate appends',
          `read of ${key} from ${node} holds token ${token} twice: ${JSON.stringify(value)}`,
        );
        return;
      }
      tokens.add(token);
    }
    this.tokensRead.set(key, { value, tokens });
  }

  /** Per key: the last value read (holding no token twice) and its tokens. */
  private readonly tokensRead = new Map<string, { value: string; tokens: Set<string> }>();

  private nemesisWorld(nodes: readonly string[]): ConstructorParameters<typeof Nemesis>[2] {
    return {
      nodes,
      leader: () => this.leaderUp(),
      partition: (grudge) => this.network.setGrudge(grudge),
      heal: () => this.network.heal(),
      pause: (node) => {
        const h = this.hosts.get(node);
        if (h === undefined || h.state !== 'up') return;
        h.state = 'paused';
        this.pausedInbox.set(node, []);
        this.pausedOutbox.set(node, []);
        this.pausedAt.set(node, this.now);
      },
      resume: (node, clockJump) => this.resume(node, clockJump),
      crash: (node, midWrite) => {
        const h = this.hosts.get(node);
        if (h === undefined || h.state !== 'up') return;
        if (midWrite) h.crashAtNextWrite = true;
        else this.crashHost(h, 'CRASH');
      },
      crashAimed: (node, aim) => {
        const h = this.hosts.get(node);
        if (h === undefined || h.state !== 'up') return;
        h.crashAtNextWrite = true;
        this.crashAims.set(node, aim);
      },
      pausesJumpClock: this.readMode === 'lease',
      restart: (node, recovering) => this.restart(node, recovering),
      lastIndex: (node) => this.hosts.get(node)?.disk.lastIndex ?? 0,
      logStart: (node) => {
        const h = this.hosts.get(node);
        return h !== undefined && h.state !== 'crashed' ? h.raft.logStart().index : 0;
      },
      snapshots: this.snapshotSettings.snapshotEntries > 0,
      healthy: () =>
        [...this.hosts.values()].every(
          (h) => h.state === 'up' && !h.crashAtNextWrite && h.raft.status().recoveryIndex === 0,
        ),
      loseDisk: (node, keep) => this.hosts.get(node)?.disk.lose(keep),
      guardOff: () => this.options.unsafe.has('no-lost-state-guard'),
      packetLoss: (p) => {
        this.network.extraDropProbability = p;
      },
      isDown: (node) =>
        this.hosts.get(node)?.state === 'crashed' || this.hosts.get(node)?.crashAtNextWrite === true,
      isCrashed: (node) => this.hosts.get(node)?.state === 'crashed',
      after: (delayNs, action) => this.queue.push(this.now + delayNs, { k: 'call', action }),
      record: (e) => {
        const event: NemesisEvent = { type: 'nemesis', time: this.now, ...e };
        this.history.push(event);
        this.trace.note(this.now, `nemesis ${e.phase} ${e.fault}: ${e.detail}`);
      },
    };
  }

  sessionCounters(): { evicted: number; expired: number } {
    const out = { evicted: 0, expired: 0 };
    for (const h of this.hosts.values()) {
      out.evicted += h.kv.sessionCounters.evicted;
      out.expired += h.kv.sessionCounters.expired;
    }
    return out;
  }

  private leaderUp(): string | undefined {
    for (const h of this.hosts.values())
      if (h.state === 'up' && h.raft.currentRole() === 'leader') return h.id;
    return undefined;
  }

  private resume(node: string, clockJump: boolean): void {
    const h = this.hosts.get(node);
    if (h === undefined || h.state !== 'paused') return;
    h.state = 'up';
    const tickNs = this.tickNsOf.get(node) ?? SIM_TIMING.tickNs;
    const missed = Math.floor((this.now - (this.pausedAt.get(node) ?? this.now)) / tickNs);
    this.pausedAt.delete(node);
    // The clock first: a driver that reads elapsed time sees every missed tick before any input.
    const jump = clockJump ? Math.min(missed, SIM_TIMING.clockJumpTicksMax) : 0;
    for (let i = 0; i < jump && h.state === 'up'; i++) if (h.tick()) this.observe(h);
    const inbox = this.pausedInbox.get(node) ?? [];
    this.pausedInbox.delete(node);
    for (const packet of inbox) {
      if (h.state !== 'up') break;
      this.deliverToHost(h, packet);
    }
    const outbox = this.pausedOutbox.get(node) ?? [];
    this.pausedOutbox.delete(node);
    for (const packet of outbox) {
      if (packet.kind === 'raft') this.sendRaftMessage(node, packet.message);
      else this.send(node, packet.to, packet, false);
    }
  }

  private restart(node: string, recovering = false): void {
    const h = this.hosts.get(node);
    if (h === undefined || this.restarting.has(node)) return;
    if (h.state === 'up') this.crashHost(h, 'CRASH (restart)'); // a mid-write crash that never found its write
    if (h.state === 'paused') return;
    this.crashAims.delete(node);
    this.safety.restarted(node);
    if (this.options.unsafe.has('forget-vote-on-restart')) h.disk.forgetVote();
    if (h.store === undefined) {
      h.start(recovering);
      return this.restarted(h);
    }
    this.reopenWal(h, recovering);
  }

  /**
   * The real WAL opens on the crashed file system, and the node restarts when it has (after this
   * event's drain). A WAL that refuses (corrupt) or gives back a log with a hole is a storage
   * failure; an exception while restarting from it is an internal one.
   */
  private reopenWal(h: SimHost, recovering: boolean): void {
    this.restarting.add(h.id);
    h.reopen()
      .then(
        (reopened) => {
          for (const w of reopened.warnings) this.trace.note(this.now, `${h.id} storage: ${w}`);
          const start = reopened.boot.snapshot?.meta.index ?? 0;
          const first = reopened.boot.entries[0]?.index ?? start + 1;
          if (first !== start + 1)
            return this.fail(
              'storage: WAL lost entries',
              `${h.id}'s storage booted a log starting at index ${first} after snapshot ${start}: entries ${start + 1}..${first - 1} are gone`,
            );
          h.startFrom(reopened, recovering);
          this.restarted(h);
        },
        (error: unknown) =>
          this.fail(
            'storage: WAL refused to start',
            `${h.id}: ${error instanceof Error ? error.message : String(error)}`,
          ),
      )
      .finally(() => {
        this.restarting.delete(h.id);
        const after = this.afterRestarts;
        if (this.restarting.size > 0 || after === undefined) return;
        this.afterRestarts = undefined;
        after();
      })
      .catch((error: unknown) => this.internalError(error));
  }

  private restarted(h: SimHost): void {
    this.safety.checkRestart(h.id, h.disk, h.raft.commitIndex(), h.appliedIndex);
    if (this.trace.enabled)
      this.trace.note(this.now, `${h.id} restarted from disk: ${describeDurable(h.disk)}`);
    this.scheduleTick(h, this.rng.int(1, SIM_TIMING.tickNs));
    this.observe(h);
  }
}

/** A bound on the drain after one event (a chain runs a few dozen turns; more means a hang). */
const DRAIN_TURNS_MAX = 100_000;

/** Salts of the disk's streams, derived from the seed apart from the run's Rng tree. */
const DISK_CHOICE_SALT = 0x6d69_7864;
const DISK_STREAM_SALT = 0x7761_6c64;

function walUnsafe(options: SimOptions): StoreUnsafe {
  return {
    ackBeforeFsync: options.unsafe.has('ack-before-fsync'),
    skipDirSyncOnRoll: options.unsafe.has('wal-skip-dir-sync-on-roll'),
    renameBeforeFsync: options.unsafe.has('snapshot-rename-before-fsync'),
  };
}

const ANSWERED_ERRORS: ReadonlySet<string> = new Set([
  'CAS_MISMATCH',
  'SESSION_EXPIRED',
  'TOO_LARGE',
  'BAD_REQUEST',
]);

function describeDurable(disk: SimDisk): string {
  const d = disk.read();
  return `term ${d.hardState.term} vote ${d.hardState.vote || '-'} commit ${d.hardState.commit} entries ${d.entries.length}`;
}

/** Runs one model-disk seed to the end and checks the history (a WAL-disk seed: runSimulationAsync). */
export function runSimulation(options: SimOptions): SimRun {
  const started = performance.now();
  const sim = new Simulation(options);
  try {
    sim.run();
  } catch (error) {
    if (sim.diskMode === 'wal') throw error; // the synchronous run refused a WAL seed
    sim.internalError(error);
  }
  return finishRun(sim, options, started);
}

/** Runs one seed of either disk to the end and checks the history. */
export async function runSimulationAsync(options: SimOptions): Promise<SimRun> {
  const started = performance.now();
  const sim = new Simulation(options);
  try {
    await sim.runAsync();
  } catch (error) {
    sim.internalError(error);
  }
  return finishRun(sim, options, started);
}

function finishRun(sim: Simulation, options: SimOptions, started: number): SimRun {
  let violation = sim.safety.violation;
  let linearizability = 'not checked';
  if (violation === undefined && options.checkLinearizability) {
    const result = checkHistory(sim.history, { model: 'kv', timeLimitMs: 20_000 });
    linearizability = result.verdict;
    if (result.verdict === 'illegal') {
      const bad = result.keys.filter((k) => k.verdict === 'illegal').map((k) => k.key);
      sim.fail(
        'linearizability',
        `the client history is not linearizable (keys ${bad.join(', ')}); see the counterexample pages, or lab check on history.jsonl`,
      );
      violation = sim.safety.violation;
    }
  }
  if (violation !== undefined)
    sim.trace.note(violation.timeNs, `VIOLATION ${violation.property}: ${violation.detail}`);
  const ops = { ok: 0, fail: 0, info: 0 };
  for (const e of sim.history) if (e.type === 'ok' || e.type === 'fail' || e.type === 'info') ops[e.type]++;
  const summary: SimSummary = {
    seed: options.seed,
    nodes: options.nodes,
    faults: formatFaults(options.faults),
    unsafe: [...options.unsafe].join(',') || 'none',
    passed: violation === undefined,
    violation,
    ops,
    simulatedNs: sim.now,
    events: sim.events,
    committedEntries: sim.safety.committedCount,
    wallMs: performance.now() - started,
    linearizability,
    // What the nodes really served: the unsafe lease-read-no-clock-bound forces leases on a seed
    // whose clocks were not promised to stay lease-safe (so the label must not say ReadIndex).
    readMode: sim.options.unsafe.has('lease-read-no-clock-bound') ? 'lease' : sim.readMode,
    sessions: sim.sessionCounters(),
    disk: sim.diskMode,
  };
  return { summary, history: sim.history, trace: sim.trace };
}

/**
 * Snapshot thresholds of one run: a snapshot every 20-200 applied entries, 0-50 entries kept behind
 * it, chunks of 16-512 bytes (images are a few KiB here, so transfers take many chunks).
 */
function chooseSnapshotSettings(rng: SimRng, on: boolean): SnapshotSettings {
  const snapshotEntries = rng.int(20, 200);
  const snapshotTailEntries = rng.int(0, 50);
  const snapshotChunkBytes = rng.int(16, 512);
  return { snapshotEntries: on ? snapshotEntries : 0, snapshotTailEntries, snapshotChunkBytes };
}
