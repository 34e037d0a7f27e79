// One simulated server: the real Raft core and the real KV state machine, driven the way the real
// driver drives them. For each Ready: persist (simulated disk, fsync when mustSync), only then send
// its messages, apply committed entries, serve reads, advance(). A crash may be injected in the
// middle of a Ready: after a torn write and before anything is sent.
import { RaftNode } from '../server/raft/node.js';
import type { Entry, Ready } from '../server/raft/types.js';
import type { UnsafeVariant } from '../server/raft/unsafe.js';
import type { KvCommand } from '../server/kv/command.js';
import { decodeCommand, encodeCommand } from '../server/kv/command.js';
import { KvStateMachine } from '../server/kv/state-machine.js';
import type { KvResult } from '../server/kv/state-machine.js';
import { SIM_TIMING } from './config.js';
import { SimDisk } from './disk.js';
import type { ClientRequest } from './packets.js';
import { refusal } from './packets.js';
import type { SimRng } from './rng.js';

/** What the host needs from the simulation around it. */
export interface HostEnv {
  sendRaft(ready: Ready, from: string): void;
  reply(request: ClientRequest, result: KvResult): void;
  /** Called for each committed entry a state machine applies (the safety checker listens). */
  applied(node: string, entry: Entry): void;
  /** Called after each Ready is persisted, with the node's durable log. */
  persisted(node: string, ready: Ready, disk: SimDisk): void;
  trace(text: () => string): void;
}

export type HostState = 'up' | 'paused' | 'crashed';

interface PendingWrite {
  readonly request: ClientRequest;
  readonly term: number;
}

/** A copy of the state machine taken after applying appliedLog[0 .. index). */
interface Checkpoint {
  readonly index: number;
  readonly kv: KvStateMachine;
}

/** Restart speed: a restart resumes from the latest checkpoint its durable log still matches. */
const CHECKPOINT_EVERY_ENTRIES = 64;
const CHECKPOINTS_MAX = 4;

/**
 * Every replica applies the same entry object (messages are shared, not copied), so each command
 * is decoded once for all of them: decoded[index] remembers the last entry decoded at that index
 * (by identity; another entry at the index just replaces it). A plain array rather than a WeakMap,
 * whose ephemeron bookkeeping costs every garbage collection. Undecodable data is left to
 * KvStateMachine.apply (BAD_REQUEST).
 */
const decoded: ({ readonly entry: Entry; readonly command: KvCommand } | undefined)[] = [];

function decodedCommand(entry: Entry): KvCommand | undefined {
  const slot = decoded[entry.index];
  if (slot !== undefined && slot.entry === entry) return slot.command;
  let command: KvCommand;
  try {
    command = decodeCommand(entry.data);
  } catch {
    return undefined;
  }
  if (entry.index <= DECODED_INDEX_MAX) decoded[entry.index] = { entry, command };
  return command;
}

/** Past this index (very long runs) commands are decoded per replica again, bounding the cache. */
const DECODED_INDEX_MAX = 1_000_000;

function applyNormal(kv: KvStateMachine, entry: Entry): KvResult {
  const command = decodedCommand(entry);
  return command === undefined ? kv.apply(entry.index, entry.data) : kv.applyCommand(entry.index, command);
}

export class SimHost {
  raft!: RaftNode;
  kv!: KvStateMachine;
  readonly disk = new SimDisk();
  state: HostState = 'up';
  /** Bumped on every restart, so timers of an earlier life are ignored. */
  incarnation = 0;
  /** Set by the nemesis: the next Ready that appends log entries crashes this node mid-write. */
  crashAtNextWrite = false;
  private pendingWrites = new Map<number, PendingWrite>();
  private pendingReads = new Map<number, ClientRequest>();
  /** Confirmed reads waiting for the state machine to reach their index. */
  private readyReads: { index: number; request: ClientRequest }[] = [];
  private nextReadId = 1;
  /** Index of the last committed entry applied (of any type; the KV sees only 'normal' ones). */
  appliedIndex = 0;
  /** appliedLog[i] = the entry object applied at index i + 1 (in this life or replayed into it). */
  private readonly appliedLog: Entry[] = [];
  private checkpoints: Checkpoint[] = [];

  constructor(
    readonly id: string,
    private readonly voters: readonly string[],
    private readonly unsafe: ReadonlySet<UnsafeVariant>,
    private readonly rng: SimRng,
    private readonly env: HostEnv,
  ) {
    this.start();
  }

  /**
   * Starts (or restarts) from the disk: a new core from the durable state, a new state machine
   * replaying it. `recovering`: the node lost acknowledged state (RaftConfig.recovering).
   */
  start(recovering = false): void {
    const durable = this.disk.read();
    const commit = durable.hardState.commit;
    for (let i = this.resumeFrom(durable.entries, commit); i < commit; i++)
      this.applyEntry(durable.entries[i] as Entry);
    this.raft = new RaftNode({
      id: this.id,
      voters: this.voters,
      electionTimeoutTicksMin: SIM_TIMING.electionTimeoutTicksMin,
      electionTimeoutTicksMax: SIM_TIMING.electionTimeoutTicksMax,
      heartbeatIntervalTicks: SIM_TIMING.heartbeatIntervalTicks,
      appendEntriesMax: 64,
      appendBytesMax: 64 * 1024,
      inflightAppendsMax: 16,
      proposalsPendingMax: 1000,
      readsPendingMax: 1000,
      preVote: true,
      checkQuorum: true,
      readMode: 'read-index',
      unsafe: this.unsafe,
      rng: this.rng.fork(`raft-${this.incarnation}`),
      ...(durable.entries.length > 0 || durable.hardState.term > 0 ? { initial: durable } : {}),
      applied: durable.hardState.commit,
      recovering,
    });
    this.pendingWrites = new Map();
    this.pendingReads = new Map();
    this.readyReads = [];
    this.state = 'up';
  }

  /**
   * Sets up the state machine for replaying the durable committed prefix and returns how many of
   * its entries are already applied. Replaying from scratch is the reference; resuming from a
   * checkpoint gives the same state because the checkpoint was taken after applying the very same
   * entry objects (compared by identity, so a rewritten log entry falls back to an earlier one).
   * Entries below the checkpoint were checked by the safety checker when first applied, and none
   * has a pending write of the previous life (the bound below), so skipping them changes nothing.
   */
  private resumeFrom(entries: readonly Entry[], commit: number): number {
    let bound = Math.min(commit, this.appliedLog.length);
    for (const index of this.pendingWrites.keys()) bound = Math.min(bound, index - 1);
    let same = 0;
    while (same < bound && entries[same] === this.appliedLog[same]) same++;
    this.checkpoints = this.checkpoints.filter((c) => c.index <= same);
    const checkpoint = this.checkpoints[this.checkpoints.length - 1];
    this.kv =
      checkpoint?.kv.clone() ??
      new KvStateMachine({ sessionsMax: 1000, sessionIdleEntriesMax: 100_000 }, this.unsafe);
    this.appliedIndex = checkpoint?.index ?? 0;
    this.appliedLog.length = this.appliedIndex;
    return this.appliedIndex;
  }

  crash(): void {
    this.disk.crash();
    this.state = 'crashed';
    this.crashAtNextWrite = false;
    this.incarnation++;
  }

  // tick, step and handleRequest return whether the core produced a Ready. When it did not, its
  // role, term and commit and this host's applied index are what the simulation last observed (it
  // observes after every Ready), so the safety checks need not look again.

  tick(): boolean {
    this.raft.tick();
    return this.drain();
  }

  step(message: Parameters<RaftNode['step']>[0]): boolean {
    this.raft.step(message);
    return this.drain();
  }

  handleRequest(request: ClientRequest): boolean {
    if (request.op.type === 'get') this.handleRead(request);
    else this.handleWrite(request);
    return this.drain();
  }

  private handleRead(request: ClientRequest): void {
    const readId = this.nextReadId++;
    const error = this.raft.readIndex(readId);
    if (error !== undefined) {
      this.env.reply(request, { ok: false, error: error.toInfo() });
      return;
    }
    this.pendingReads.set(readId, request);
  }

  private handleWrite(request: ClientRequest): void {
    const invalid = this.kv.validate(request.op);
    if (invalid !== undefined) {
      this.env.reply(request, { ok: false, error: invalid });
      return;
    }
    const { clientId, sequence, ackedSequence, op } = request;
    const proposed = this.raft.propose(encodeCommand({ clientId, sequence, ackedSequence, op }));
    if (!proposed.ok) {
      this.env.reply(request, { ok: false, error: proposed.error.toInfo() });
      return;
    }
    this.pendingWrites.set(proposed.index, { request, term: proposed.term });
  }

  /**
   * Processes Ready values until the core has nothing more; stops early if a crash is injected.
   * Returns whether there was any.
   */
  private drain(): boolean {
    let any = false;
    while (this.state === 'up' && this.raft.hasReady()) {
      any = true;
      const ready = this.raft.ready();
      if (this.crashAtNextWrite && ready.entries.length > 0) {
        const what = this.disk.crashDuringWrite(ready.hardState, ready.entries, this.rng);
        this.env.trace(
          () => `${this.id} CRASH mid-write: ${what}; ${ready.messages.length} messages never sent`,
        );
        this.crash();
        return true;
      }
      this.disk.write(ready.hardState, ready.entries, ready.mustSync);
      for (const n of ready.notices) this.env.trace(() => `${this.id} ${n.code}: ${n.text}`);
      // Most Readies carry one or two of these parts; the empty ones are skipped (same effect).
      if (ready.entries.length > 0) this.env.persisted(this.id, ready, this.disk);
      if (ready.messages.length > 0) this.env.sendRaft(ready, this.id);
      for (const entry of ready.committedEntries) this.applyEntry(entry);
      if (ready.droppedReads.length > 0 || ready.readStates.length > 0 || this.readyReads.length > 0)
        this.serveReads(ready);
      this.raft.advance();
    }
    return any;
  }

  private applyEntry(entry: Entry): void {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`invariant: ${this.id} applies index ${entry.index} after ${this.appliedIndex}`);
    }
    this.appliedIndex = entry.index;
    this.appliedLog.push(entry);
    const result = entry.type === 'normal' ? applyNormal(this.kv, entry) : undefined;
    if (entry.index % CHECKPOINT_EVERY_ENTRIES === 0) {
      this.checkpoints.push({ index: entry.index, kv: this.kv.clone() });
      if (this.checkpoints.length > CHECKPOINTS_MAX) this.checkpoints.shift();
    }
    this.env.applied(this.id, entry);
    const pending = this.pendingWrites.get(entry.index);
    if (pending === undefined) return;
    this.pendingWrites.delete(entry.index);
    if (pending.term === entry.term && result !== undefined) {
      this.env.reply(pending.request, result);
    } else {
      // Another entry took this index: our proposal can never commit (log matching). The client
      // retries; a retry of a write that did apply elsewhere is deduplicated by its session.
      this.env.reply(
        pending.request,
        refusal('NOT_LEADER', 'proposal superseded by a new leader', true, this.raft.status().leader),
      );
    }
  }

  private serveReads(ready: Ready): void {
    for (const readId of ready.droppedReads) {
      const request = this.pendingReads.get(readId);
      if (request === undefined) continue;
      this.pendingReads.delete(readId);
      this.env.reply(
        request,
        refusal('NOT_LEADER', 'read dropped: leadership lost', true, this.raft.status().leader),
      );
    }
    for (const rs of ready.readStates) {
      const request = this.pendingReads.get(rs.requestId);
      if (request === undefined) continue;
      this.pendingReads.delete(rs.requestId);
      this.readyReads.push({ index: rs.index, request });
    }
    if (this.readyReads.length === 0) return;
    const applied = this.appliedIndex;
    const waiting: { index: number; request: ClientRequest }[] = [];
    for (const r of this.readyReads) {
      if (r.index <= applied) this.env.reply(r.request, this.kv.read(r.request.op.key));
      else waiting.push(r);
    }
    this.readyReads = waiting;
  }
}
