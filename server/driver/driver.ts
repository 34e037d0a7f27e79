// The driver: the one place where wall-clock time, the disk and the network meet the pure Raft
// core. Its loop follows the Ready contract (server/raft/types.ts): persist entries and hard state
// (awaiting the fdatasync, rule 7), then send, then apply committed entries and answer the waiting
// clients, then serve confirmed reads, then advance(). Inputs that arrive meanwhile wait in the
// bounded inbox and are stepped together, so one WAL sync covers every write that came in during
// the previous one (group commit, as etcd does).
import type { RaftNode } from '../raft/node.js';
import type { Entry, HardState, Message, Ready, SoftState } from '../raft/types.js';
import type { KvCommand } from '../kv/command.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { Logger } from '../log.js';
import { Inbox } from './inbox.js';
import { failure, PendingTable, type Outcome, type PendingRead, type PendingWrite } from './pending.js';
import { describeMessage } from './describe.js';

export interface DurableLog {
  save(hardState: HardState | undefined, entries: readonly Entry[]): Promise<void>;
}

export interface DriverOptions {
  readonly node: RaftNode;
  readonly kv: KvStateMachine;
  readonly wal: DurableLog;
  readonly send: (messages: readonly Message[]) => void;
  readonly logger: Logger;
  readonly tickMs: number;
  readonly electionTimeoutTicksMin: number;
  readonly inboxMessagesMax: number;
  /** Client address of a member, for NOT_LEADER redirects. */
  readonly clientAddressOf: (id: string) => string | undefined;
  readonly applied: number;
}

export class Driver {
  readonly inbox: Inbox;
  private readonly pending = new PendingTable();
  private readonly node: RaftNode;
  private readonly log: Logger;
  private softState: SoftState = { leader: '', role: 'follower' };
  private applied: number;
  private ticker: NodeJS.Timeout | undefined;
  private tickedAtMs = 0;
  private wake: (() => void) | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Set when the loop died on an error: the node must stop (a failed fsync is not retried). */
  fatal: Error | undefined;

  constructor(private readonly options: DriverOptions) {
    this.node = options.node;
    this.log = options.logger;
    this.inbox = new Inbox(options.inboxMessagesMax);
    this.applied = options.applied;
  }

  start(onFatal: (error: Error) => void): void {
    this.tickedAtMs = performance.now();
    this.ticker = setInterval(() => this.poke(), this.options.tickMs);
    this.loop = this.run().catch((error: unknown) => {
      this.fatal = error instanceof Error ? error : new Error(String(error));
      this.log.error(`driver stopped: ${this.fatal.message}`);
      onFatal(this.fatal);
    });
  }

  /** Stops the loop after the Ready in progress; fails everything still waiting with SHUTTING_DOWN. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.ticker) clearInterval(this.ticker);
    this.poke();
    await this.loop;
    this.failEverything('SHUTTING_DOWN', 'the server is shutting down');
  }

  status(): ReturnType<RaftNode['status']> {
    return this.node.status();
  }

  stepMessage(message: Message): void {
    if (this.stopping) return;
    if (this.inbox.push({ kind: 'message', message })) this.poke();
  }

  /** A peer's connection closed (a killed process closes its sockets at once). */
  peerDisconnected(peer: string): void {
    if (this.stopping || this.softState.role !== 'follower' || this.softState.leader !== peer) return;
    this.inbox.push({ kind: 'peer-lost', peer });
    this.poke();
  }

  submitWrite(command: KvCommand, data: Uint8Array, done: (outcome: Outcome) => void): void {
    if (this.stopping) return done(failure('SHUTTING_DOWN', 'the server is shutting down'));
    const invalid = this.options.kv.validate(command.op);
    if (invalid) return done({ ok: false, error: invalid });
    if (this.softState.role !== 'leader') return done(this.notLeader());
    const write: PendingWrite = { done, index: 0, term: 0 };
    if (!this.inbox.push({ kind: 'write', write, command, data }))
      return done(failure('OVERLOADED', `driver inbox full (${this.inbox.inboxMessagesMax} inputs)`));
    this.poke();
  }

  submitRead(key: Uint8Array, done: (outcome: Outcome) => void): void {
    if (this.stopping) return done(failure('SHUTTING_DOWN', 'the server is shutting down'));
    const invalid = this.options.kv.validate({ type: 'get', key });
    if (invalid) return done({ ok: false, error: invalid });
    if (this.softState.role !== 'leader') return done(this.notLeader());
    const read: PendingRead = { key, done, requestId: 0, index: 0 };
    if (!this.inbox.push({ kind: 'read', read }))
      return done(failure('OVERLOADED', `driver inbox full (${this.inbox.inboxMessagesMax} inputs)`));
    this.poke();
  }

  private notLeader(definite = true): Outcome {
    const leader = this.softState.leader;
    const address = leader ? this.options.clientAddressOf(leader) : undefined;
    return failure(
      'NOT_LEADER',
      leader ? `not the leader; try ${leader}` : 'not the leader; no leader known',
      {
        definite,
        ...(leader ? { leaderHint: leader } : {}),
        ...(address ? { leaderAddress: address } : {}),
      },
    );
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.tickElapsed();
      this.drainInbox();
      if (!this.node.hasReady()) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      await this.handleReady(this.node.ready());
    }
    if (this.fatal) throw this.fatal;
  }

  /** Converts wall-clock time into ticks; a late timer (a long fsync) catches up in one go. */
  private tickElapsed(): void {
    const now = performance.now();
    const due = Math.floor((now - this.tickedAtMs) / this.options.tickMs);
    if (due <= 0) return;
    this.tickedAtMs += due * this.options.tickMs;
    for (let i = 0; i < due; i++) this.node.tick();
  }

  private drainInbox(): void {
    for (const item of this.inbox.takeAll()) {
      if (item.kind === 'message') this.node.step(item.message);
      else if (item.kind === 'write') this.propose(item.write, item.data);
      else if (item.kind === 'read') this.queueRead(item.read);
      else this.leaderConnectionLost(item.peer);
    }
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
    this.log.info(
      `${this.node.status().id} lost its connection to leader ${peer}; election timer runs ahead`,
    );
    for (let i = 0; i < this.options.electionTimeoutTicksMin; i++) this.node.tick();
  }

  private propose(write: PendingWrite, data: Uint8Array): void {
    const result = this.node.propose(data);
    if (!result.ok) {
      const info = result.error.toInfo();
      if (info.code === 'NOT_LEADER') return write.done(this.notLeader());
      return write.done({ ok: false, error: info });
    }
    write.index = result.index;
    write.term = result.term;
    this.pending.addWrite(write);
  }

  private queueRead(read: PendingRead): void {
    const refused = this.node.readIndex(this.pending.newReadId(read));
    if (!refused) return;
    this.pending.takeRead(read.requestId);
    read.done(refused.code === 'NOT_LEADER' ? this.notLeader() : { ok: false, error: refused.toInfo() });
  }

  private async handleReady(rd: Ready): Promise<void> {
    // The core's own term: a Ready carries hardState only when it changed, and a restarted node
    // that rejoins its old term's leader changes no hard state (it once logged "term 0").
    if (rd.softState) this.onSoftState(rd.softState, this.node.currentTerm());
    // A leader's appends and heartbeats promise nothing about its own disk (it counts itself toward
    // a commit only after advance(), i.e. after the sync), so they go out before the sync and the
    // followers' fsyncs overlap the leader's (Raft thesis 10.2.1). Everything else waits (rule 7).
    const early = rd.mustSync ? rd.messages.filter(isLeaderTraffic) : [];
    const late = early.length > 0 ? rd.messages.filter((m) => !isLeaderTraffic(m)) : rd.messages;
    this.sendMessages(early);
    if (rd.mustSync) await this.options.wal.save(rd.hardState, rd.entries);
    else if (rd.hardState) this.saveInBackground(rd.hardState);
    this.sendMessages(late);
    for (const entry of rd.committedEntries) this.apply(entry);
    for (const rs of rd.readStates) this.pending.readConfirmed(rs.requestId, rs.index);
    for (const id of rd.droppedReads) this.pending.takeRead(id)?.done(this.notLeader());
    this.serveReads();
    this.node.advance();
  }

  private sendMessages(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    if (this.log.debugEnabled) for (const m of messages) this.log.debug(`send ${describeMessage(m)}`);
    this.logRejections(messages);
    this.options.send(messages);
  }

  /**
   * A hard state that changed only its commit index need not be durable before anything (commit
   * is re-learned after a restart), so the loop does not wait for its sync. The WAL keeps saves in
   * call order, so a later save of entries still lands after it.
   */
  private saveInBackground(hardState: HardState): void {
    this.options.wal.save(hardState, []).catch((error: unknown) => {
      this.fatal = error instanceof Error ? error : new Error(String(error));
      this.stopping = true;
      this.poke();
    });
  }

  private apply(entry: Entry): void {
    if (entry.index !== this.applied + 1)
      throw new Error(`assertion failed: applying index ${entry.index} after ${this.applied}`);
    const result: Outcome =
      entry.type === 'normal' ? this.options.kv.apply(entry.index, entry.data) : { ok: true };
    this.applied = entry.index;
    const write = this.pending.takeWrite(entry.index);
    if (!write) return;
    // Log Matching: the entry at our index with our term is our proposal; another term's entry
    // replaced it, so our proposal was never committed (and never will be).
    if (write.term === entry.term) write.done(result);
    else
      write.done(
        failure('NOT_LEADER', `proposal at index ${entry.index} was overwritten by term ${entry.term}`),
      );
  }

  private serveReads(): void {
    for (const read of this.pending.takeReadsUpTo(this.applied)) read.done(this.options.kv.read(read.key));
  }

  private onSoftState(next: SoftState, term: number): void {
    const previous = this.softState;
    this.softState = next;
    const id = this.node.status().id;
    if (next.role === 'leader' && previous.role !== 'leader')
      this.log.info(`${id} became leader for term ${term}`);
    else if (next.role !== previous.role) this.log.info(`${id} became ${next.role} for term ${term}`);
    if (next.leader !== previous.leader && next.role !== 'leader')
      this.log.info(
        next.leader
          ? `${id} follows leader ${next.leader} in term ${term}`
          : `${id} lost its leader in term ${term}`,
      );
    if (previous.role === 'leader' && next.role !== 'leader') {
      this.log.warn(
        `${id} lost leadership in term ${term}; failing ${this.pending.writeCount} pending writes as indeterminate`,
      );
      // Proposed writes may still be committed by the next leader: indeterminate, and the client's
      // session makes its retry safe. Reads have no effect, so failing them is definite.
      this.pending.failAll(this.notLeader(false), this.notLeader());
    }
  }

  private logRejections(messages: readonly Message[]): void {
    for (const m of messages) {
      if (m.type === 'append-response' && !m.success)
        this.log.info(`${m.from} rejected append from ${m.to}: log conflict at ${m.rejectIndex}`, {
          hintIndex: m.hintIndex,
          hintTerm: m.hintTerm,
        });
    }
  }

  private failEverything(code: 'SHUTTING_DOWN', message: string): void {
    for (const item of this.inbox.takeAll()) {
      if (item.kind === 'write') item.write.done(failure(code, message));
      else if (item.kind === 'read') item.read.done(failure(code, message));
    }
    this.pending.failAll(failure(code, message, { definite: false }), failure(code, message));
  }
}

function isLeaderTraffic(m: Message): boolean {
  return m.type === 'append' || m.type === 'heartbeat';
}
