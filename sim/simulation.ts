// One simulated run: N real Raft cores with real KV state machines, a simulated network, disk and
// clock, a nemesis and clients, all driven by one discrete-event queue and one seed. The safety
// properties are checked after every event; the client history is checked for linearizability at
// the end. runSimulation(options) is a pure function of its options: same seed, same trace.
import type { HistoryEvent, NemesisEvent } from '../checker/history-types.js';
import { checkHistory } from '../checker/index.js';
import type { Message, Ready } from '../server/raft/types.js';
import { SimClient } from './client.js';
import type { SimOptions } from './config.js';
import { formatFaults, SIM_TIMING } from './config.js';
import { describeMessage, describeOp, describeResult } from './describe.js';
import type { SimDisk } from './disk.js';
import { EventQueue } from './event-queue.js';
import type { HostEnv } from './host.js';
import { SimHost } from './host.js';
import { LazyTimer } from './lazy-timer.js';
import { Nemesis } from './nemesis.js';
import { SimNetwork } from './network.js';
import type { ClientRequest, Packet } from './packets.js';
import { SimRng } from './rng.js';
import type { SafetyProperty, Violation } from './safety.js';
import { SafetyChecker } from './safety.js';
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
  now = 0;
  events = 0;
  private requestIds = 0;
  private opsTaken = 0;
  private opsDone = 0;
  private settling = false;
  private settleDeadline = 0;
  private nemesisRunning = false;

  constructor(readonly options: SimOptions) {
    this.trace = new Trace(options.trace);
    this.rng = new SimRng(options.seed);
    const nodeIds = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    this.network = new SimNetwork(this.rng.fork('network'), options.faults);
    const disks = new Map<string, SimDisk>();
    for (const id of nodeIds) {
      const host = new SimHost(id, nodeIds, options.unsafe, this.rng.fork(`host-${id}`), this.hostEnv(id));
      this.hosts.set(id, host);
      disks.set(id, host.disk);
      const drift = (this.rng.next() * 2 - 1) * SIM_TIMING.clockDriftMax;
      this.tickNsOf.set(id, Math.round(SIM_TIMING.tickNs * (1 + drift)));
    }
    this.safety = new SafetyChecker(disks, Math.floor(options.nodes / 2) + 1);
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
    this.nemesis = new Nemesis(this.rng.fork('nemesis'), options.faults, this.nemesisWorld(nodeIds));
  }

  // ---- the run ------------------------------------------------------------------------------

  run(): Violation | undefined {
    const o = this.options;
    this.trace.note(
      0,
      `seed ${o.seed} nodes ${o.nodes} faults ${formatFaults(o.faults)} ops ${o.ops} clients ${o.clients} unsafe ${[...o.unsafe].join(',') || 'none'}`,
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
      if (this.settling && this.settled()) break;
      if (this.settling && this.now > this.settleDeadline) {
        this.fail('liveness after heal', this.livenessReport());
        break;
      }
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
    const host = this.hosts.get(message.to);
    if (host === undefined || host.state === 'crashed') return;
    if (host.state === 'paused') {
      this.pausedInbox.get(message.to)?.push({ kind: 'raft', message });
      return;
    }
    if (this.trace.enabled) this.trace.add(this.now, () => `deliver ${describeMessage(message)}`);
    if (host.step(message)) this.observe(host);
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
      'all operations done; healed; waiting for every node to apply every committed entry',
    );
    this.settleDeadline = this.now + SIM_TIMING.livenessAfterHealNs;
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

  private livenessReport(): string {
    const parts = [...this.hosts.values()].map((h) => {
      const s = h.raft.status();
      return `${h.id} ${h.state} ${s.role} t${s.term} commit ${s.commit} applied ${h.appliedIndex} last ${s.lastIndex}`;
    });
    return `no convergence ${SIM_TIMING.livenessAfterHealNs / 1e9}s after the final heal (committed anywhere: ${this.safety.committedCount}): ${parts.join('; ')}`;
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
      sendRaft: (ready: Ready, from: string) => {
        for (const message of ready.messages) this.sendRaftMessage(from, message);
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
      applied: (node, entry) => this.safety.applied(node, entry),
      persisted: (node, ready, disk) => this.safety.persisted(node, ready, disk),
      trace: (text) => this.trace.add(this.now, text),
    };
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
      },
      nextRequestId: () => ++this.requestIds,
      takeOp: () => {
        if (this.opsTaken >= this.options.ops) return false;
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
      leader: () => {
        for (const h of this.hosts.values())
          if (h.state === 'up' && h.raft.status().role === 'leader') return h.id;
        return undefined;
      },
      partition: (grudge) => this.network.setGrudge(grudge),
      heal: () => this.network.heal(),
      pause: (node) => {
        const h = this.hosts.get(node);
        if (h === undefined || h.state !== 'up') return;
        h.state = 'paused';
        this.pausedInbox.set(node, []);
      },
      resume: (node) => this.resume(node),
      crash: (node, midWrite) => {
        const h = this.hosts.get(node);
        if (h === undefined || h.state !== 'up') return;
        if (midWrite) h.crashAtNextWrite = true;
        else h.crash();
      },
      restart: (node, recovering) => this.restart(node, recovering),
      lastIndex: (node) => this.hosts.get(node)?.disk.log.length ?? 0,
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
      after: (delayNs, action) => this.queue.push(this.now + delayNs, { k: 'call', action }),
      record: (e) => {
        const event: NemesisEvent = { type: 'nemesis', time: this.now, ...e };
        this.history.push(event);
        this.trace.note(this.now, `nemesis ${e.phase} ${e.fault}: ${e.detail}`);
      },
    };
  }

  private resume(node: string): void {
    const h = this.hosts.get(node);
    if (h === undefined || h.state !== 'paused') return;
    h.state = 'up';
    const inbox = this.pausedInbox.get(node) ?? [];
    this.pausedInbox.delete(node);
    for (const packet of inbox) {
      if (h.state !== 'up') break;
      this.deliverToHost(h, packet);
    }
  }

  private restart(node: string, recovering = false): void {
    const h = this.hosts.get(node);
    if (h === undefined) return;
    if (h.state === 'up') h.crash(); // a mid-write crash that never found its write: crash now
    if (h.state === 'paused') return;
    this.safety.restarted(node);
    h.start(recovering);
    if (this.trace.enabled)
      this.trace.note(this.now, `${node} restarted from disk: ${describeDurable(h.disk)}`);
    this.scheduleTick(h, this.rng.int(1, SIM_TIMING.tickNs));
    this.observe(h);
  }
}

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
  };
  return { summary, history: sim.history, trace: sim.trace };
}
