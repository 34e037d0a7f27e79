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
import { formatFaults, LEASE_SHARE_OF_SEEDS, SIM_KV_LIMITS, SIM_TIMING } from './config.js';
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

type SimEvent =
  | TickEvent
  | { readonly k: 'deliver'; readonly to: string; readonly packet: Packet }
  | { readonly k: 'raft'; readonly message: Message }
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
}

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
    // Its own generator from the seed: drawing these shifts none of the other components' draws.
    this.snapshotRng = new SimRng(options.seed).fork('snapshots');
    this.snapshotSettings = chooseSnapshotSettings(this.snapshotRng, options.snapshots);
    const driftMax = options.faults.has('clock')
      ? this.rng.next() * SIM_TIMING.clockDriftMaxWithFault
      : SIM_TIMING.clockDriftMax;
    const disks = new Map<string, SimDisk>();
    for (const id of nodeIds) {
      const host = new SimHost(id, nodeIds, options.unsafe, this.rng.fork(`host-${id}`), this.hostEnv(id));
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

  private chooseReadMode(): ReadMode {
    const reads = this.options.reads;
    if (reads === 'mixed') return this.rng.chance(LEASE_SHARE_OF_SEEDS) ? 'lease' : 'read-index';
    return reads === 'lease' ? 'lease' : 'read-index';
  }

  // ---- the run ------------------------------------------------------------------------------

  run(): Violation | undefined {
    const o = this.options;
    this.trace.note(
      0,
      `seed ${o.seed} nodes ${o.nodes} faults ${formatFaults(o.faults)} ops ${o.ops} clients ${o.clients} reads ${this.readMode} unsafe ${[...o.unsafe].join(',') || 'none'}`,
    );
    for (const host of this.hosts.values()) this.scheduleTick(host, this.rng.int(0, SIM_TIMING.tickNs));
    for (const client of this.clients.values())
      this.queue.push(this.rng.int(0, SIM_TIMING.tickNs * 30), { k: 'client-start', client });
    if (this.nemesis.enabled) {
      this.nemesisRunning = true;
      this.queue.push(SIM_TIMING.nemesisQuietNsMax, { k: 'nemesis' });
    }
    for (;;) {
      const event = this.queue.popEvent();
      if (event === undefined) break;
      this.now = this.queue.time;
      this.safety.now = this.now;
      this.events++;
      this.dispatch(event);
      if (this.safety.violation !== undefined) break;
      if (this.settling && this.settlingDone()) break;
    }
    return this.safety.violation;
  }

  fail(property: SafetyProperty, detail: string): void {
    this.safety.fail(property, detail);
  }

  private dispatch(e: SimEvent): void {
    switch (e.k) {
      case 'tick':
        return this.onTick(e);
      case 'deliver':
        return this.onDeliver(e.to, e.packet);
      case 'raft':
        return this.onDeliverRaft(e.message);
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
    const inflated = this.termMax() - this.termAtHeal - this.leadersAfterHeal;
    if (inflated > SIM_TIMING.termsWithoutLeaderAfterHealMax) {
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

  /** send() for a Raft message (peer traffic), scheduled as a 'raft' event. */
  private sendRaftMessage(from: string, message: Message): void {
    const delays = this.delays;
    const n = this.network.deliveriesInto(from, message.to, true, delays);
    for (let i = 0; i < n; i++) this.queue.push(this.now + (delays[i] as number), { k: 'raft', message });
  }

  private hostEnv(id: string): HostEnv {
    return {
      sendRaft: (messages) => {
        for (const message of messages) this.sendRaftMessage(id, message);
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
      after: (delayNs, action) => this.queue.push(this.now + delayNs, { k: 'call', action }),
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
    h.crash();
    this.trace.note(this.now, `${node} CRASH ${aim}`);
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

  /** Every written token is unique, so a value holding one token twice means a write applied twice. */
  private checkNoDuplicateTokens(key: string, value: string | null, node: string): void {
    if (value === null) return;
    const seen = new Set<string>();
    for (const token of value.split(',')) {
      if (token === '') continue;
      if (seen.has(token)) {
        this.fail(
          'no duplicate appends',
          `read of ${key} from ${node} holds token ${token} twice: ${JSON.stringify(value)}`,
        );
        return;
      }
      seen.add(token);
    }
  }

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
        else h.crash();
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
    if (h === undefined) return;
    if (h.state === 'up') h.crash(); // a mid-write crash that never found its write: crash now
    if (h.state === 'paused') return;
    this.crashAims.delete(node);
    this.safety.restarted(node);
    if (this.options.unsafe.has('forget-vote-on-restart')) h.disk.forgetVote();
    h.start(recovering);
    this.safety.checkRestart(node, h.disk, h.raft.commitIndex(), h.appliedIndex);
    if (this.trace.enabled)
      this.trace.note(this.now, `${node} restarted from disk: ${describeDurable(h.disk)}`);
    this.scheduleTick(h, this.rng.int(1, SIM_TIMING.tickNs));
    this.observe(h);
  }
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

/** Runs one seed to the end and checks the history. */
export function runSimulation(options: SimOptions): SimRun {
  const started = performance.now();
  const sim = new Simulation(options);
  let violation: Violation | undefined;
  try {
    violation = sim.run();
  } catch (error) {
    // A crashed invariant inside the core is a finding too, reported like a violated property.
    sim.fail(
      'internal error',
      error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error),
    );
    violation = sim.safety.violation;
  }
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
    readMode: sim.readMode,
    sessions: sim.sessionCounters(),
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
