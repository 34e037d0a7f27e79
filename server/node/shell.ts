// The node shell: everything one Raft node does between its pure core and the outside world, as a
// synchronous module with no I/O of its own. The server's driver runs it over a real WAL, sockets
// and timers; the simulator's host runs the very same code over a simulated disk, network and
// clock. Disk, network, log and the answers to clients are passed in.
//
// For each Ready (server/raft/types.ts) the shell:
//  1. applies the step-down policy when the node lost office (pending writes fail as indeterminate);
//  2. hands entries and hard state to the disk; nothing that depends on them leaves before they are
//     durable (persist before you promise: a vote, an append acknowledgement, the leader counting
//     itself, an answer to a client), except a leader's own appends and heartbeats, which promise
//     nothing about its disk and so go out while its write is in flight (Raft thesis 10.2.1, etcd);
//  3. once durable, sends the rest, installs a received snapshot (Ready.snapshot: the state machine
//     is restored from it), applies committed entries, answers the writes proposed at their
//     indexes, serves confirmed reads once applied reaches their index, and calls advance();
//  4. takes a snapshot of the state machine every snapshotEntries applied entries; once the disk
//     says it is durable, the core keeps it (to send) and compacts its log, keeping
//     snapshotTailEntries entries for slow followers, and the disk may release what was compacted.
// Inputs that arrive while a write is in flight wait in the bounded inbox and are stepped together
// afterwards, so one sync covers every write that came in meanwhile (group commit).
import type { RaftNode } from '../raft/node.js';
import type { Entry, HardState, Message, Ready, Snapshot, SoftState } from '../raft/types.js';
import type { UnsafeVariant } from '../raft/unsafe.js';
import { encodeCommand, type KvCommand } from '../kv/command.js';
import type { Logger } from '../../shared/log.js';
import { Inbox } from './inbox.js';
import { failure, PendingTable, type Answer, type Outcome, type PendingRead } from './pending.js';
import { describeMessage } from './describe.js';
import type { ShellMachine } from './machine.js';

/** What the disk says about a write: durable now, durable later (call persisted()), or the node died. */
export type PersistStatus = 'done' | 'syncing' | 'halted';

export interface ShellDisk {
  /**
   * Writes a Ready's entries (an entry replaces any entry at its index and after) and hard state.
   * With mustSync: 'done' once durable (fsynced), or 'syncing' when the host calls
   * shell.persisted() once it is; 'halted' when the node died in the write (a simulated crash),
   * after which the shell does nothing more. Without mustSync only the commit index changed, which
   * need not be durable before anything (it is re-learned after a restart): the write may finish
   * in the background, and the answer is 'done'.
   */
  persist(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    mustSync: boolean,
    /**
     * The whole Ready. A disk must save ready.snapshot (when present) FIRST: durable, and the log
     * now starts after its index. A simulated disk also aims its crashes with it.
     */
    ready: Ready,
  ): PersistStatus;
  /**
   * Saves a snapshot this node took of its own state machine. Nothing is promised on it: `done()`
   * without an error says it is durable, and only then does the shell compact the log.
   */
  saveSnapshot(snapshot: Snapshot, done: (error?: Error) => void): void;
  /** Entries <= throughIndex are covered by a durable snapshot: the disk may delete them. */
  releaseLog(throughIndex: number): void;
}

export interface ShellOptions<R> {
  readonly core: RaftNode;
  readonly machine: ShellMachine;
  readonly disk: ShellDisk;
  readonly send: (messages: readonly Message[]) => void;
  /** Answers one client request (each exactly once). */
  readonly answer: Answer<R>;
  /** Where the shell's lines go; undefined = nowhere (a simulation sweep without a trace). */
  readonly log: Logger | undefined;
  readonly unsafe: ReadonlySet<UnsafeVariant>;
  readonly electionTimeoutTicksMin: number;
  readonly inboxMessagesMax: number;
  /** Index the state machine has applied when this life starts. */
  readonly applied: number;
  /** Index of the durable snapshot this life started from (0: none). */
  readonly snapshotIndex?: number;
  /** Take a snapshot when applied - last snapshot index >= this (0 or absent: never). */
  readonly snapshotEntries?: number;
  /** Entries kept in the log behind a snapshot, for followers a little behind. */
  readonly snapshotTailEntries?: number;
  /** Client address of a member, for NOT_LEADER redirects. */
  readonly leaderAddressOf?: (id: string) => string | undefined;
  /** After a Ready's entries are durable (the simulator checks log matching here). */
  readonly onPersisted?: (ready: Ready) => void;
}

/** idle: ready for inputs; handling: inside a Ready; syncing: waiting for the disk; halted: dead. */
type Stage = 'idle' | 'handling' | 'syncing' | 'halted';

const NO_SOFT_STATE: SoftState = { leader: '', role: 'follower' };

export class NodeShell<R> {
  readonly inbox: Inbox<R>;
  private readonly pending: PendingTable<R>;
  private readonly core: RaftNode;
  private readonly log: Logger | undefined;
  private readonly machine: ShellMachine;
  private readonly disk: ShellDisk;
  private readonly send: (messages: readonly Message[]) => void;
  private readonly answer: Answer<R>;
  private readonly sendBeforePersist: boolean;
  private stage: Stage = 'idle';
  private inFlight: Ready | undefined;
  private closing = false;
  private ticksOwed = 0;
  private softState: SoftState = NO_SOFT_STATE;
  private notLeaderCache: { readonly soft: SoftState; readonly outcome: Outcome } | undefined;
  private readonly serveRead: (key: Uint8Array) => Outcome;
  /** Index of the last committed entry applied (of any type). */
  appliedIndex: number;
  /** Index of the latest durable snapshot (taken or installed). */
  snapshotIndex: number;
  /** A snapshot handed to the disk and not yet durable (one at a time). */
  private snapshotSaving: Snapshot | undefined;
  /** After a failed save, the next attempt waits until applied reaches this. */
  private snapshotRetryAt = 0;
  private readonly snapshotEntries: number;
  private readonly snapshotTailEntries: number;
  private readonly compactUnsnapshotted: boolean;

  constructor(private readonly options: ShellOptions<R>) {
    this.core = options.core;
    this.log = options.log;
    this.machine = options.machine;
    this.disk = options.disk;
    this.send = options.send;
    this.answer = options.answer;
    this.inbox = new Inbox(options.inboxMessagesMax);
    this.pending = new PendingTable(options.answer);
    this.appliedIndex = options.applied;
    this.snapshotIndex = options.snapshotIndex ?? 0;
    this.snapshotEntries = options.snapshotEntries ?? 0;
    this.snapshotTailEntries = options.snapshotTailEntries ?? 0;
    // UNSAFE (testing the testers): the log is compacted and released before the snapshot is durable.
    this.compactUnsnapshotted = options.unsafe.has('compact-unsnapshotted');
    this.serveRead = (key) => options.machine.read(key);
    // UNSAFE (testing the testers): votes and acknowledgements leave before the fsync.
    this.sendBeforePersist = options.unsafe.has('send-before-persist');
  }

  /** True while the shell waits for persisted(). */
  get syncing(): boolean {
    return this.stage === 'syncing';
  }

  /** False once the node died or was closed: it takes no more inputs. */
  get running(): boolean {
    return this.stage !== 'halted' && !this.closing;
  }

  // ---- inputs: each takes effect now when the shell is idle, else waits in the inbox ----------

  tick(): void {
    if (this.stage === 'idle') this.core.tick();
    else if (this.stage !== 'halted') this.ticksOwed++;
  }

  /** Returns false when the message was dropped (inbox full; Raft tolerates loss). */
  step(message: Message): boolean {
    if (this.stage === 'idle') {
      this.core.step(message);
      return true;
    }
    return this.stage !== 'halted' && this.inbox.push({ kind: 'message', message });
  }

  submitWrite(request: R, command: KvCommand): void {
    if (!this.running) return this.answer(request, shuttingDown());
    const invalid = this.machine.validate(command.op);
    if (invalid) return this.answer(request, { ok: false, error: invalid });
    if (this.softState.role !== 'leader') return this.answer(request, this.notLeader());
    const data = encodeCommand(command);
    if (this.stage === 'idle') return this.propose(request, data);
    if (!this.inbox.push({ kind: 'write', request, data }))
      this.answer(request, overloaded(this.inbox.inboxMessagesMax));
  }

  submitRead(request: R, key: Uint8Array): void {
    if (!this.running) return this.answer(request, shuttingDown());
    const invalid = this.machine.validate({ type: 'get', key });
    if (invalid) return this.answer(request, { ok: false, error: invalid });
    if (this.softState.role !== 'leader') return this.answer(request, this.notLeader());
    const read: PendingRead<R> = { request, key, requestId: 0, index: 0 };
    if (this.stage === 'idle') return this.queueRead(read);
    if (!this.inbox.push({ kind: 'read', read }))
      this.answer(request, overloaded(this.inbox.inboxMessagesMax));
  }

  /** A peer's connection closed (a killed process closes its sockets at once). */
  peerLost(peer: string): void {
    if (this.softState.role !== 'follower' || this.softState.leader !== peer) return;
    if (this.stage === 'idle') this.leaderConnectionLost(peer);
    else if (this.stage !== 'halted') this.inbox.push({ kind: 'peer-lost', peer });
  }

  // ---- the Ready loop -------------------------------------------------------------------------

  /** Handles Readies until the core has none or a write is in flight; true if it handled any. */
  pump(): boolean {
    let any = false;
    while (this.stage === 'idle' && !this.closing && this.core.hasReady()) {
      any = true;
      this.handleReady(this.core.ready());
    }
    return any;
  }

  /** The write the disk answered 'syncing' for is durable: finish its Ready and go on. */
  persisted(): void {
    const rd = this.inFlight;
    if (this.stage !== 'syncing' || rd === undefined)
      throw new Error(`assertion failed: persisted() while ${this.stage}, no write in flight`);
    this.inFlight = undefined;
    this.stage = 'handling';
    this.finishReady(rd, true);
    if (this.closing) this.failEverything();
    else this.pump();
  }

  /** The node died (a failed fsync is not retried): no more Readies, no more answers. */
  halt(): void {
    this.stage = 'halted';
  }

  /**
   * Stops taking inputs. Everything waiting fails with SHUTTING_DOWN (writes as indeterminate), at
   * once, or after the Ready whose write is in flight when there is one.
   */
  close(): void {
    this.closing = true;
    if (this.stage === 'idle') this.failEverything();
  }

  private handleReady(rd: Ready): void {
    this.stage = 'handling';
    // The core's own term: a Ready carries hardState only when it changed, and a restarted node
    // that rejoins its old term's leader changes no hard state (it once logged "term 0").
    if (rd.softState) this.onSoftState(rd.softState, this.core.currentTerm());
    // Lost state found or healed (a lost disk): loud, in the server's log and the simulator's trace.
    if (this.log !== undefined)
      for (const n of rd.notices) this.log[n.level === 'info' ? 'info' : 'warn'](n.text, { code: n.code });
    if (this.sendBeforePersist) this.sendMessages(rd.messages); // UNSAFE: before the write
    const status =
      rd.entries.length > 0 || rd.hardState !== undefined || rd.snapshot !== undefined
        ? this.disk.persist(rd.hardState, rd.entries, rd.mustSync, rd)
        : 'done';
    if (status === 'halted') {
      this.stage = 'halted';
      return;
    }
    if (status === 'done') return this.finishReady(rd, false);
    if (!rd.mustSync) throw new Error('assertion failed: the disk waits on a write that needs no sync');
    this.inFlight = rd;
    this.stage = 'syncing';
    // A leader's appends and heartbeats promise nothing about its own disk (it counts itself toward
    // a commit only after advance(), i.e. after the sync), so they go out now and the followers'
    // fsyncs overlap the leader's. Everything else waits for persisted().
    if (!this.sendBeforePersist) this.sendMessages(rd.messages.filter(isLeaderTraffic));
  }

  private finishReady(rd: Ready, leaderTrafficSent: boolean): void {
    if (rd.entries.length > 0) this.options.onPersisted?.(rd);
    if (!this.sendBeforePersist)
      this.sendMessages(leaderTrafficSent ? rd.messages.filter((m) => !isLeaderTraffic(m)) : rd.messages);
    if (rd.snapshot !== undefined) this.installSnapshot(rd.snapshot);
    for (const entry of rd.committedEntries) this.apply(entry);
    if (rd.readStates.length > 0 || rd.droppedReads.length > 0) this.readsDecided(rd);
    this.pending.serveReadsUpTo(this.appliedIndex, this.serveRead);
    this.core.advance();
    this.stage = 'idle';
    if (this.snapshotDue()) this.takeSnapshot();
    if (this.ticksOwed > 0 || this.inbox.length > 0) this.drainInbox();
  }

  private readsDecided(rd: Ready): void {
    for (const rs of rd.readStates) this.pending.readConfirmed(rs.requestId, rs.index);
    for (const id of rd.droppedReads) this.pending.failRead(id, this.notLeader());
  }

  private sendMessages(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    if (this.log !== undefined) this.logSends(this.log, messages);
    this.send(messages);
  }

  private apply(entry: Entry): void {
    if (entry.index !== this.appliedIndex + 1)
      throw new Error(`assertion failed: applying index ${entry.index} after ${this.appliedIndex}`);
    const result = this.machine.apply(entry);
    this.appliedIndex = entry.index;
    const write = this.pending.takeWrite(entry.index);
    if (!write) return;
    // Log Matching: the entry at our index with our term is our proposal; another term's entry
    // replaced it, so our proposal was never committed (and never will be).
    this.answer(
      write.request,
      write.term === entry.term
        ? result
        : failure('NOT_LEADER', `proposal at index ${entry.index} was overwritten by term ${entry.term}`),
    );
  }

  // ---- snapshots ------------------------------------------------------------------------------

  /** The leader's snapshot, durable: the state machine becomes its image (applied = its index). */
  private installSnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    if (index <= this.appliedIndex && !this.options.unsafe.has('install-older-snapshot'))
      throw new Error(`assertion failed: installing snapshot ${index} at applied ${this.appliedIndex}`);
    this.machine.restore(snapshot.data, index);
    this.appliedIndex = index;
    if (index > this.snapshotIndex) this.snapshotIndex = index;
    // Writes proposed at covered indexes (this node led before): their fate is inside the image,
    // which does not say whose entry it applied there. Indeterminate; a retry is deduplicated.
    const failed = this.pending.failWritesThrough(index, this.notLeader(false));
    this.log?.info(
      `${this.core.status().id} installed snapshot at index ${index} (term ${term}, ${snapshot.data.length} bytes); state machine restored${failed > 0 ? `, ${failed} pending writes failed as indeterminate` : ''}`,
    );
  }

  private snapshotDue(): boolean {
    return (
      this.snapshotEntries > 0 &&
      this.snapshotSaving === undefined &&
      this.appliedIndex - this.snapshotIndex >= this.snapshotEntries &&
      this.appliedIndex >= this.snapshotRetryAt
    );
  }

  /**
   * Takes a snapshot of the state machine at the applied index now (also on an operator's request)
   * and hands it to the disk. Returns false when one is already being saved or nothing is new.
   */
  takeSnapshot(): boolean {
    if (this.snapshotSaving !== undefined || !this.running || this.appliedIndex <= this.snapshotIndex)
      return false;
    const index = this.appliedIndex;
    const term = this.core.termAt(index);
    if (term === undefined) throw new Error(`assertion failed: no term for applied index ${index}`);
    const snapshot: Snapshot = { meta: { index, term }, data: this.machine.snapshot() };
    this.snapshotSaving = snapshot;
    this.log?.info(
      `${this.core.status().id} takes snapshot at index ${index} (term ${term}, ${snapshot.data.length} bytes, ${index - this.snapshotIndex} entries since the last)`,
    );
    if (this.compactUnsnapshotted) this.compactTo(snapshot); // UNSAFE: before it is durable
    this.disk.saveSnapshot(snapshot, (error) => this.snapshotSaved(snapshot, error));
    return true;
  }

  private snapshotSaved(snapshot: Snapshot, error: Error | undefined): void {
    this.snapshotSaving = undefined;
    if (this.stage === 'halted') return;
    if (error !== undefined) {
      // Not fatal: the log is simply not compacted yet. Try again snapshotEntries entries later.
      this.snapshotRetryAt = this.appliedIndex + Math.max(1, this.snapshotEntries);
      this.log?.error(`snapshot at index ${snapshot.meta.index} not saved: ${error.message}`);
      return;
    }
    if (!this.compactUnsnapshotted) this.compactTo(snapshot);
  }

  /** The core keeps the snapshot to send and drops the log behind it but the tail; the disk may release it. */
  private compactTo(snapshot: Snapshot): void {
    const through = Math.max(0, snapshot.meta.index - this.snapshotTailEntries);
    this.core.snapshotTaken(snapshot);
    if (snapshot.meta.index > this.snapshotIndex) this.snapshotIndex = snapshot.meta.index;
    this.core.compact(through);
    this.disk.releaseLog(through);
    this.log?.info(
      `${this.core.status().id} snapshot at index ${snapshot.meta.index} durable; log compacted through ${through}`,
    );
  }

  private drainInbox(): void {
    for (; this.ticksOwed > 0; this.ticksOwed--) this.core.tick();
    if (this.inbox.length === 0) return;
    for (const item of this.inbox.takeAll()) {
      if (item.kind === 'message') this.core.step(item.message);
      else if (item.kind === 'write') this.proposeIfLeader(item.request, item.data);
      else if (item.kind === 'read') this.queueRead(item.read);
      else this.leaderConnectionLost(item.peer);
    }
  }

  private proposeIfLeader(request: R, data: Uint8Array): void {
    // Leadership may have ended while the write waited: refuse it now (definite, never proposed).
    if (this.softState.role !== 'leader') return this.answer(request, this.notLeader());
    this.propose(request, data);
  }

  private propose(request: R, data: Uint8Array): void {
    const result = this.core.propose(data);
    if (!result.ok) {
      const refused =
        result.error.code === 'NOT_LEADER'
          ? this.notLeader()
          : { ok: false as const, error: result.error.toInfo() };
      return this.answer(request, refused);
    }
    this.pending.addWrite({ request, index: result.index, term: result.term });
  }

  private queueRead(read: PendingRead<R>): void {
    const refused = this.core.readIndex(this.pending.newReadId(read));
    if (!refused) return;
    this.pending.failRead(
      read.requestId,
      refused.code === 'NOT_LEADER' ? this.notLeader() : { ok: false, error: refused.toInfo() },
    );
  }

  /**
   * The leader's connection closed: it probably crashed. Run the election clock forward by one
   * minimum election timeout, so this follower leaves the leader's lease (it will grant votes) and
   * its randomized timeout, drawn in [T, 2T], fires within the next T instead of up to 2T after the
   * last heartbeat. Only time moves faster, which Raft's safety never depends on; if the leader is
   * alive, its next heartbeat resets the clock before the timeout fires in most cases.
   */
  private leaderConnectionLost(peer: string): void {
    if (this.softState.role !== 'follower' || this.softState.leader !== peer) return;
    this.log?.info(
      `${this.core.status().id} lost its connection to leader ${peer}; election timer runs ahead`,
    );
    for (let i = 0; i < this.options.electionTimeoutTicksMin; i++) this.core.tick();
  }

  private onSoftState(next: SoftState, term: number): void {
    const previous = this.softState;
    this.softState = next;
    this.logRoleChange(previous, next, term);
    if (previous.role === 'leader' && next.role !== 'leader') {
      this.log?.warn(
        `${this.core.status().id} lost leadership in term ${term}; failing ${this.pending.writeCount} pending writes as indeterminate`,
      );
      // Proposed writes may still be committed by the next leader: indeterminate, and the client's
      // session makes its retry safe. Reads have no effect, so failing them is definite.
      this.pending.failAll(this.notLeader(false), this.notLeader());
    }
  }

  private logRoleChange(previous: SoftState, next: SoftState, term: number): void {
    const log = this.log;
    if (log === undefined) return;
    const id = this.core.status().id;
    if (next.role === 'leader' && previous.role !== 'leader')
      log.info(`${id} became leader for term ${term}`);
    else if (next.role !== previous.role) log.info(`${id} became ${next.role} for term ${term}`);
    if (next.leader !== previous.leader && next.role !== 'leader')
      log.info(
        next.leader
          ? `${id} follows leader ${next.leader} in term ${term}`
          : `${id} lost its leader in term ${term}`,
      );
  }

  private notLeader(definite = true): Outcome {
    const cached = this.notLeaderCache;
    if (definite && cached !== undefined && cached.soft === this.softState) return cached.outcome;
    const leader = this.softState.leader;
    const address = leader ? this.options.leaderAddressOf?.(leader) : undefined;
    const outcome = failure(
      'NOT_LEADER',
      leader ? `not the leader; try ${leader}` : 'not the leader; no leader known',
      {
        definite,
        ...(leader ? { leaderHint: leader } : {}),
        ...(address ? { leaderAddress: address } : {}),
      },
    );
    if (definite) this.notLeaderCache = { soft: this.softState, outcome };
    return outcome;
  }

  private logSends(log: Logger, messages: readonly Message[]): void {
    for (const m of messages) {
      if (log.debugEnabled) log.debug(`send ${describeMessage(m)}`);
      if (m.type === 'append-response' && !m.success)
        log.info(
          `${m.from} rejected append from ${m.to}: ${m.logLost ? `its log was lost (it ends at ${m.hintIndex})` : `log conflict at ${m.rejectIndex}`}`,
          {
            hintIndex: m.hintIndex,
            hintTerm: m.hintTerm,
          },
        );
    }
  }

  private failEverything(): void {
    const message = 'the server is shutting down';
    for (const item of this.inbox.takeAll()) {
      if (item.kind === 'write') this.answer(item.request, failure('SHUTTING_DOWN', message));
      else if (item.kind === 'read') this.answer(item.read.request, failure('SHUTTING_DOWN', message));
    }
    this.pending.failAll(
      failure('SHUTTING_DOWN', message, { definite: false }),
      failure('SHUTTING_DOWN', message),
    );
  }
}

function isLeaderTraffic(m: Message): boolean {
  return m.type === 'append' || m.type === 'heartbeat';
}

function shuttingDown(): Outcome {
  return failure('SHUTTING_DOWN', 'the server is shutting down');
}

function overloaded(inboxMessagesMax: number): Outcome {
  return failure('OVERLOADED', `node inbox full (${inboxMessagesMax} inputs)`);
}
