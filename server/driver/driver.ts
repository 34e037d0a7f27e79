// The driver: the node shell (server/node/shell.ts) over real time, a real WAL and real sockets.
// Everything a node decides between the core and the world (the order of persisting and sending,
// applying, the pending requests, reads, the step-down and leader-connection-lost policies) is the
// shell's, the same code the simulator runs. The driver only turns wall-clock time into ticks,
// turns the disk's promises into the shell's persisted() and snapshot-saved calls, and batches the
// inputs of one turn of the event loop into one pump (so a socket read of many frames makes one Ready).
import type { RaftNode } from '../raft/node.js';
import type { Entry, HardState, Message, Ready, Snapshot } from '../raft/types.js';
import type { UnsafeVariant } from '../raft/unsafe.js';
import type { KvCommand } from '../kv/command.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { Logger } from '../../shared/log.js';
import type { Inbox } from '../node/inbox.js';
import { kvMachine } from '../node/machine.js';
import type { Outcome } from '../node/pending.js';
import { NodeShell, type PersistStatus } from '../node/shell.js';
import { failpoint } from '../failpoints/failpoints.js';

/** The node's disk (server/storage NodeStorage): the WAL and the snapshot files. */
export interface DurableDisk {
  /** Saves a Ready; an installed snapshot first. Resolves once durable. */
  persist(hardState: HardState | undefined, entries: readonly Entry[], snapshot?: Snapshot): Promise<void>;
  /** A snapshot of this node's own state machine; durable when it resolves. */
  saveSnapshot(snapshot: Snapshot): Promise<unknown>;
  /** Deletes what entries <= throughIndex alone needed; resolves with the files deleted. */
  releaseLog(throughIndex: number): Promise<readonly string[]>;
}

/** When this node snapshots its state machine (NodeConfig; snapshotEntries 0 = never). */
export interface DriverSnapshotSettings {
  readonly snapshotEntries: number;
  readonly snapshotTailEntries: number;
  /** The snapshot the node booted from (0 = none): applied starts here too. */
  readonly snapshotIndex: number;
}

export interface DriverOptions {
  readonly node: RaftNode;
  readonly kv: KvStateMachine;
  readonly disk: DurableDisk;
  readonly snapshot: DriverSnapshotSettings;
  readonly send: (messages: readonly Message[]) => void;
  readonly logger: Logger;
  readonly unsafe: ReadonlySet<UnsafeVariant>;
  readonly tickMs: number;
  readonly electionTimeoutTicksMin: number;
  readonly inboxMessagesMax: number;
  /** Client address of a member, for NOT_LEADER redirects. */
  readonly clientAddressOf: (id: string) => string | undefined;
  readonly applied: number;
  /** Milliseconds for the tick timer; default performance.now (the lab's clock fault swaps it). */
  readonly now?: () => number;
}

type Done = (outcome: Outcome) => void;

export class Driver {
  private readonly shell: NodeShell<Done>;
  private readonly node: RaftNode;
  private ticker: NodeJS.Timeout | undefined;
  private tickedAtMs = 0;
  private pumpQueued = false;
  /** The WAL save the shell waits for, if any. */
  private saving: Promise<void> | undefined;
  private onFatal: (error: Error) => void = () => undefined;
  private readonly now: () => number;
  /** Set when the node had to stop on an error (a failed fsync is not retried). */
  fatal: Error | undefined;

  constructor(private readonly options: DriverOptions) {
    this.node = options.node;
    this.now = options.now ?? (() => performance.now());
    this.shell = new NodeShell<Done>({
      core: options.node,
      machine: kvMachine(options.kv),
      disk: {
        persist: (hardState, entries, mustSync, ready) => this.persist(hardState, entries, mustSync, ready),
        saveSnapshot: (snapshot, done) => this.saveSnapshot(snapshot, done),
        releaseLog: (throughIndex) => this.releaseLog(throughIndex),
      },
      send: options.send,
      answer: (done, outcome) => done(outcome),
      log: options.logger,
      unsafe: options.unsafe,
      electionTimeoutTicksMin: options.electionTimeoutTicksMin,
      inboxMessagesMax: options.inboxMessagesMax,
      applied: options.applied,
      snapshotIndex: options.snapshot.snapshotIndex,
      snapshotEntries: options.snapshot.snapshotEntries,
      snapshotTailEntries: options.snapshot.snapshotTailEntries,
      leaderAddressOf: options.clientAddressOf,
    });
  }

  /** The shell's bounded inbox: the transports pause their sockets while it is full. */
  get inbox(): Inbox<Done> {
    return this.shell.inbox;
  }

  start(onFatal: (error: Error) => void): void {
    this.onFatal = onFatal;
    this.tickedAtMs = this.now();
    this.ticker = setInterval(() => this.onTimer(), this.options.tickMs);
    this.pump();
  }

  /** Stops after the Ready in progress; everything still waiting fails with SHUTTING_DOWN. */
  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.shell.close();
    await this.saving;
  }

  status(): ReturnType<RaftNode['status']> {
    return this.node.status();
  }

  stepMessage(message: Message): void {
    if (this.shell.step(message)) this.schedulePump();
  }

  /** A peer's connection closed (a killed process closes its sockets at once). */
  peerDisconnected(peer: string): void {
    this.shell.peerLost(peer);
    this.schedulePump();
  }

  submitWrite(command: KvCommand, done: Done): void {
    this.shell.submitWrite(done, command);
    this.schedulePump();
  }

  submitRead(key: Uint8Array, done: Done): void {
    this.shell.submitRead(done, key);
    this.schedulePump();
  }

  /**
   * An operator's request (`lab kv snapshot`): snapshot the state machine now. False when one is
   * already being saved or nothing was applied since the last.
   */
  takeSnapshot(): boolean {
    if (this.fatal) return false;
    return this.shell.takeSnapshot();
  }

  /** Index of the newest durable snapshot (taken or installed); 0 when none. */
  get snapshotIndex(): number {
    return this.shell.snapshotIndex;
  }

  private persist(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    mustSync: boolean,
    ready: Ready,
  ): PersistStatus {
    const snapshot = ready.snapshot;
    const startedMs = this.now();
    const save = this.options.disk.persist(hardState, entries, snapshot);
    if (snapshot !== undefined) {
      void save.then(() =>
        this.options.logger.info(
          `snapshot at index ${snapshot.meta.index} from the leader durable in ${Math.round(this.now() - startedMs)} ms (${snapshot.data.length} bytes)`,
        ),
      );
    }
    if (!mustSync) {
      // Only the commit index changed: nothing waits for it (it is re-learned after a restart). The
      // WAL keeps saves in call order, so a later save of entries still lands after it.
      save.catch((error: unknown) => this.die(error));
      return 'done';
    }
    const votes = hardState !== undefined && hardState.vote !== '';
    this.saving = save
      .then(() => {
        if (votes) failpoint('after-vote-persisted');
        this.saving = undefined;
        this.shell.persisted();
      })
      .catch((error: unknown) => this.die(error));
    return 'syncing';
  }

  private saveSnapshot(snapshot: Snapshot, done: (error?: Error) => void): void {
    const startedMs = this.now();
    this.options.disk.saveSnapshot(snapshot).then(
      () => {
        const ms = Math.round(this.now() - startedMs);
        this.options.logger.info(
          `snapshot at index ${snapshot.meta.index} saved in ${ms} ms (${snapshot.data.length} bytes)`,
        );
        done();
        this.schedulePump();
      },
      // Not fatal: the shell compacts nothing and tries again later.
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private releaseLog(throughIndex: number): void {
    const startedMs = this.now();
    this.options.disk.releaseLog(throughIndex).then(
      (deleted) => {
        if (deleted.length === 0) return;
        const ms = Math.round(this.now() - startedMs);
        this.options.logger.info(
          `released ${deleted.length} WAL segments (entries <= ${throughIndex} covered by a snapshot) in ${ms} ms`,
        );
      },
      // The WAL cannot be trusted after a failed delete or directory sync: stop, as after an fsync.
      (error: unknown) => this.die(error),
    );
  }

  /** Inputs of one synchronous run (one socket read, one timer) are stepped together. */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.fatal) return;
    try {
      this.shell.pump();
    } catch (error) {
      this.die(error);
    }
  }

  /** Converts wall-clock time into ticks; a late timer (a long fsync) catches up in one go. */
  private onTimer(): void {
    const now = this.now();
    const due = Math.floor((now - this.tickedAtMs) / this.options.tickMs);
    if (due <= 0) return;
    this.tickedAtMs += due * this.options.tickMs;
    for (let i = 0; i < due; i++) this.shell.tick();
    this.pump();
  }

  private die(error: unknown): void {
    if (this.fatal) return;
    this.fatal = error instanceof Error ? error : new Error(String(error));
    this.shell.halt();
    if (this.ticker) clearInterval(this.ticker);
    this.options.logger.error(`driver stopped: ${this.fatal.message}`);
    this.onFatal(this.fatal);
  }
}
