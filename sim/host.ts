// One simulated server: the real Raft core and the real KV state machine, run by the node shell
// (server/node/shell.ts), the same code the real server's driver runs, over the simulated disk,
// network and clock. What stays here is what only a simulation has: a crash injected in the middle
// of a disk write (a torn write, after which the shell does nothing more), the restart from the
// simulated disk, and the safety checker's hooks.
import { RaftNode } from '../server/raft/node.js';
import type { Entry, HardState, Message, Ready, Snapshot } from '../server/raft/types.js';
import type { UnsafeVariant } from '../server/raft/unsafe.js';
import type { KvCommand, KvOp } from '../server/kv/command.js';
import type { ErrorInfo } from '../shared/errors.js';
import { decodeCommand } from '../server/kv/command.js';
import { KvStateMachine } from '../server/kv/state-machine.js';
import type { KvLimits, KvResult } from '../server/kv/state-machine.js';
import type { Logger } from '../shared/log.js';
import { DEFAULT_LIMITS } from '../shared/config.js';
import { buildNodeConfig, type NodeConfig, type SnapshotSettings } from '../server/node/config.js';
import { APPLIED_WITHOUT_EFFECT, type ShellMachine } from '../server/node/machine.js';
import { NodeShell, type PersistStatus, type ShellDisk } from '../server/node/shell.js';
import type { ReadMode } from '../server/raft/config.js';
import { SIM_NODE_TIMING } from './config.js';
import { SimDisk } from './disk.js';
import type { ClientRequest } from './packets.js';
import type { SimRng } from './rng.js';
import { WalStore, type Reopened, type StoreUnsafe } from './wal-disk.js';

/** What the host needs from the simulation around it. */
export interface HostEnv {
  /** Arrow functions: the shell calls them unbound. */
  readonly sendRaft: (messages: readonly Message[]) => void;
  readonly reply: (request: ClientRequest, result: KvResult) => void;
  /** Called for each committed entry a state machine applies (the safety checker listens). */
  applied(node: string, entry: Entry): void;
  /** Called after each Ready's entries are persisted, with the node's durable log. */
  persisted(node: string, ready: Ready, disk: SimDisk): void;
  trace(text: () => string): void;
  /** Whether the run records a trace (the shell logs into it only then). */
  readonly tracing: boolean;
  /** Core settings the run chooses (named fields: a spread into the config slowed every access). */
  readonly readMode: ReadMode;
  readonly preVote: boolean;
  /** The KV limits of the run (shrunk in simulation, so eviction and expiry run). */
  readonly kvLimits: Partial<KvLimits>;
  /** With crashAtNextWrite set: whether this Ready is the write the crash tears. */
  tearsWrite(node: string, ready: Ready): boolean;
  /**
   * --disk wal: the real WAL over a simulated file system (its own seeded stream, and its unsafe
   * switches); undefined: the model disk alone.
   */
  readonly wal: { readonly rng: SimRng; readonly unsafe: StoreUnsafe } | undefined;
  /** A WAL call was started: the simulation drains its continuations before the next event. */
  ioStarted(host: SimHost): void;
  /** The WAL failed a save (a WalFailedError): a storage failure, not a Raft one. */
  storageFailed(node: string, error: unknown): void;
  /** An exception thrown in a WAL continuation (a crashed invariant of the shell or the core). */
  asyncError(error: unknown): void;
  /** Runs `action` as a simulation event `delayNs` from now (an fsync or a snapshot save completing). */
  after(delayNs: number, action: () => void): void;
  /** This run's snapshot thresholds (seeded per run; snapshotEntries 0: no snapshots). */
  readonly snapshot: SnapshotSettings;
  /** How long a snapshot save takes on this node's disk (seeded draws). */
  snapshotSaveNs(node: string): number;
  /**
   * A snapshot step of this node that an aimed crash may be waiting for: true when it crashes
   * there (at once when `now`, else right after the current event).
   */
  snapshotMoment(node: string, moment: SnapshotMoment, now: boolean): boolean;
  /**
   * The node took a snapshot or restarted from one (its digest at the index), or installed one
   * (digest, and its applied index before).
   */
  snapshotTaken(node: string, index: number, digest: number): void;
  snapshotInstalled(node: string, appliedBefore: number, index: number, digest: number): void;
}

/** Snapshot steps an aimed crash can hit (sim/nemesis.ts CrashAim). */
export type SnapshotMoment = 'snapshot-save' | 'snapshot-durable' | 'snapshot-chunk' | 'snapshot-install';

/** Stands in appliedLog for indexes a snapshot install covered (they were never applied here). */
const COVERED_BY_SNAPSHOT: Entry = Object.freeze({
  term: -1,
  index: -1,
  type: 'noop' as const,
  data: new Uint8Array(0),
});

export type HostState = 'up' | 'paused' | 'crashed';

/** A copy of the state machine taken after applying appliedLog[0 .. index). */
interface Checkpoint {
  readonly index: number;
  readonly kv: KvStateMachine;
}

/** A save that completes while the node is paused waits for it to run again (polled this often). */
const SIM_SAVE_RETRY_NS = 5_000_000;

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

export class SimHost implements ShellDisk, ShellMachine {
  raft!: RaftNode;
  kv!: KvStateMachine;
  /** This life's node shell: a crash throws it away with everything it was waiting for. */
  shell!: NodeShell<ClientRequest>;
  /** The model disk; with --disk wal, the record of what the WAL acknowledged (the checker's view). */
  readonly disk = new SimDisk();
  /** --disk wal: the real WAL on a simulated file system, what a restart really reads back. */
  readonly store: WalStore | undefined;
  state: HostState = 'up';
  /** Bumped on every restart, so timers of an earlier life are ignored. */
  incarnation = 0;
  /** Set by the nemesis: the next Ready that appends log entries crashes this node mid-write. */
  crashAtNextWrite = false;
  /** Index of the last committed entry applied (of any type; the KV sees only 'normal' ones). */
  appliedIndex = 0;
  /** appliedLog[i] = the entry object applied at index i + 1 (in this life or replayed into it). */
  private readonly appliedLog: Entry[] = [];
  private checkpoints: Checkpoint[] = [];
  private readonly config: NodeConfig;
  private readonly log: Logger | undefined;

  constructor(
    readonly id: string,
    voters: readonly string[],
    private readonly unsafe: ReadonlySet<UnsafeVariant>,
    private readonly rng: SimRng,
    private readonly env: HostEnv,
  ) {
    this.config = buildNodeConfig({
      id,
      voters,
      unsafe,
      ...SIM_NODE_TIMING,
      readMode: env.readMode,
      preVote: env.preVote,
      kvLimits: env.kvLimits,
      snapshot: env.snapshot,
    });
    this.log = env.tracing ? traceLogger(env) : undefined;
    if (env.wal !== undefined) {
      const latency = {
        after: (delayNs: number, done: () => void) =>
          env.after(delayNs, () => {
            env.ioStarted(this);
            done();
          }),
      };
      this.store = new WalStore(`/sim/${id}`, env.wal.rng, env.wal.unsafe, latency);
    }
    this.start();
  }

  /** --disk wal: the first life opens a new, empty WAL (the core already started empty). */
  async openFresh(): Promise<void> {
    if (this.store === undefined) throw new Error('invariant: openFresh without a WAL');
    this.env.ioStarted(this);
    const { boot } = await this.store.open();
    if (boot.entries.length > 0 || boot.hardState.term > 0 || boot.snapshot !== undefined)
      throw new Error(`invariant: ${this.id}'s new storage is not empty`);
  }

  /**
   * --disk wal: opens the WAL on the (crashed) file system: the real replay and torn-tail repair.
   * Rejects as openWal does (WalCorruptError: it refuses to start).
   */
  reopen(): Promise<Reopened> {
    const store = this.store;
    if (store === undefined) throw new Error('invariant: reopen without a WAL');
    this.env.ioStarted(this);
    return store.open();
  }

  /** --disk wal: restarts from what the storage booted (the model disk takes it as its durable state). */
  startFrom(reopened: Reopened, recovering: boolean): void {
    const { boot } = reopened;
    this.disk.replace(boot.hardState, boot.entries, boot.snapshot);
    this.start(recovering);
  }

  /**
   * Starts (or restarts) from the disk: a new core from the durable state, a new state machine
   * replaying it. `recovering`: the node lost acknowledged state (RaftConfig.recovering).
   */
  start(recovering = false): void {
    const durable = this.disk.read();
    const commit = durable.hardState.commit;
    const start = durable.snapshot?.meta.index ?? 0;
    const first = durable.snapshot
      ? this.resumeFromSnapshot(durable.snapshot)
      : this.resumeFrom(durable.entries, commit);
    for (let i = first; i < commit; i++) this.applyEntry(durable.entries[i - start] as Entry);
    const restored =
      durable.entries.length > 0 || durable.hardState.term > 0 || durable.snapshot !== undefined;
    this.raft = new RaftNode({
      ...this.config.raft,
      rng: this.rng.fork(`raft-${this.incarnation}`),
      ...(restored ? { initial: durable } : {}),
      applied: commit,
      recovering,
    });
    this.shell = new NodeShell<ClientRequest>({
      core: this.raft,
      machine: this,
      disk: this,
      send: this.env.sendRaft,
      answer: this.env.reply,
      log: this.log,
      unsafe: this.unsafe,
      electionTimeoutTicksMin: this.config.raft.electionTimeoutTicksMin,
      inboxMessagesMax: DEFAULT_LIMITS.inboxMessagesMax,
      applied: commit,
      snapshotIndex: start,
      snapshotEntries: this.config.snapshotEntries,
      snapshotTailEntries: this.config.snapshotTailEntries,
      onPersisted: (ready) => this.env.persisted(this.id, ready, this.disk),
    });
    this.state = 'up';
  }

  /**
   * Sets up the state machine for replaying the durable committed prefix and returns how many of
   * its entries are already applied. Replaying from scratch is the reference; resuming from a
   * checkpoint gives the same state because the checkpoint was taken after applying the very same
   * entry objects (compared by identity, so a rewritten log entry falls back to an earlier one).
   * Entries below the checkpoint were checked by the safety checker when first applied, and the
   * previous life's pending requests died with its shell, so skipping them changes nothing.
   */
  private resumeFrom(entries: readonly Entry[], commit: number): number {
    const bound = Math.min(commit, this.appliedLog.length);
    let same = 0;
    while (same < bound && entries[same] === this.appliedLog[same]) same++;
    this.checkpoints = this.checkpoints.filter((c) => c.index <= same);
    const checkpoint = this.checkpoints[this.checkpoints.length - 1];
    this.kv = checkpoint?.kv.clone() ?? new KvStateMachine(this.config.kvLimits, this.unsafe);
    this.appliedIndex = checkpoint?.index ?? 0;
    this.appliedLog.length = this.appliedIndex;
    return this.appliedIndex;
  }

  /**
   * A restart over a durable snapshot starts from its image (the log before it is gone), then
   * replays the entries after it: the reference path, no checkpoints.
   */
  private resumeFromSnapshot(snapshot: Snapshot): number {
    this.kv = new KvStateMachine(this.config.kvLimits, this.unsafe);
    this.kv.restore(snapshot.data, snapshot.meta.index);
    this.coverBySnapshot(snapshot.meta.index);
    this.env.snapshotTaken(this.id, snapshot.meta.index, this.kv.digest()); // compared like any image
    return snapshot.meta.index;
  }

  /** appliedLog and checkpoints after the state machine jumped to a snapshot's index. */
  private coverBySnapshot(index: number): void {
    this.appliedLog.length = 0;
    for (let i = 0; i < index; i++) this.appliedLog.push(COVERED_BY_SNAPSHOT);
    this.checkpoints = [];
    this.appliedIndex = index;
  }

  /** Returns what the crash did to the simulated file system (--disk wal), for the trace. */
  crash(): readonly string[] {
    this.disk.crash();
    this.state = 'crashed';
    this.crashAtNextWrite = false;
    this.incarnation++;
    return this.store?.crash() ?? [];
  }

  // tick, step and handleRequest return whether the core produced a Ready. When it did not, its
  // role, term and commit and this host's applied index are what the simulation last observed (it
  // observes after every Ready), so the safety checks need not look again.

  tick(): boolean {
    this.shell.tick();
    return this.shell.pump();
  }

  step(message: Message): boolean {
    this.shell.step(message);
    const changed = this.shell.pump();
    // An aimed crash of a follower in the middle of a transfer: its partial buffer is lost.
    if (message.type === 'snapshot' && !message.done && this.state === 'up')
      this.env.snapshotMoment(this.id, 'snapshot-chunk', false);
    return changed;
  }

  handleRequest(request: ClientRequest): boolean {
    const { clientId, sequence, ackedSequence, op } = request;
    if (op.type === 'get') this.shell.submitRead(request, op.key);
    else this.shell.submitWrite(request, { clientId, sequence, ackedSequence, op });
    return this.shell.pump();
  }

  // ---- the shell's disk and state machine ----------------------------------------------------

  /** The simulated disk writes at once; an injected crash tears the write. */
  persist(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    mustSync: boolean,
    ready: Ready,
  ): PersistStatus {
    if (this.store !== undefined) return this.persistToWal(this.store, hardState, entries, mustSync, ready);
    if (this.crashAtNextWrite && this.env.tearsWrite(this.id, ready)) {
      const what = this.disk.crashDuringWrite(hardState, entries, this.rng, ready.snapshot);
      this.env.trace(
        () => `${this.id} CRASH mid-write: ${what}; ${ready.messages.length} messages never sent`,
      );
      this.crash();
      return 'halted';
    }
    this.disk.write(hardState, entries, mustSync, ready.snapshot);
    return 'done';
  }

  /**
   * The server driver's persist (server/driver/driver.ts) over the real WAL: a save without
   * mustSync goes on in the background ('done'), one with mustSync answers 'syncing' and calls
   * shell.persisted() when the WAL resolves it. A crash aimed at this write lands right after the
   * WAL issued it: whatever the WAL wrote and did not sync is up to the file system's crash model.
   */
  private persistToWal(
    store: WalStore,
    hardState: HardState | undefined,
    entries: readonly Entry[],
    mustSync: boolean,
    ready: Ready,
  ): PersistStatus {
    this.env.ioStarted(this);
    const saved = store.save(
      hardState,
      entries,
      ready.snapshot,
      () => {
        this.disk.write(hardState, entries, mustSync, ready.snapshot);
        if (mustSync) this.shell.persisted();
      },
      (error) => this.env.storageFailed(this.id, error),
    );
    saved.catch((error: unknown) => this.env.asyncError(error));
    if (this.crashAtNextWrite && this.env.tearsWrite(this.id, ready)) {
      const lost = this.crash();
      this.env.trace(
        () =>
          `${this.id} CRASH mid-write (WAL): ${lost.join('; ') || 'nothing unsynced'}; ${ready.messages.length} messages never sent`,
      );
      return 'halted';
    }
    return mustSync ? 'syncing' : 'done';
  }

  /**
   * Saving a snapshot takes a seeded while; a crash before it completes loses it (this life's
   * incarnation is gone), and an aimed crash may hit while it is in flight or right once durable.
   */
  saveSnapshot(snapshot: Snapshot, done: (error?: Error) => void): void {
    if (this.store !== undefined) return this.saveSnapshotToWal(this.store, snapshot, done);
    const incarnation = this.incarnation;
    if (this.env.snapshotMoment(this.id, 'snapshot-save', false)) return;
    const complete = (): void => {
      if (incarnation !== this.incarnation) return; // crashed meanwhile: the save never finished
      if (this.state === 'paused') return this.env.after(SIM_SAVE_RETRY_NS, complete);
      this.disk.snapshotSaved(snapshot);
      this.env.trace(() => `${this.id} snapshot ${snapshot.meta.index} durable`);
      if (this.env.snapshotMoment(this.id, 'snapshot-durable', true)) return;
      done();
    };
    this.env.after(this.env.snapshotSaveNs(this.id), complete);
  }

  /**
   * The driver's snapshot save over the real snapshot store (temp file, fsync, rename, directory
   * fsync). An aimed 'snapshot-save' crash lands right after this event, with the temp file being
   * written or synced; 'snapshot-durable' right once the store resolved, before the log is released.
   */
  private saveSnapshotToWal(store: WalStore, snapshot: Snapshot, done: (error?: Error) => void): void {
    this.env.ioStarted(this);
    const saved = store.saveSnapshot(
      snapshot,
      () => {
        this.disk.snapshotSaved(snapshot);
        this.env.trace(() => `${this.id} snapshot ${snapshot.meta.index} durable`);
        if (this.env.snapshotMoment(this.id, 'snapshot-durable', true)) return;
        done();
      },
      (error) => done(error instanceof Error ? error : new Error(String(error))),
    );
    saved.catch((error: unknown) => this.env.asyncError(error));
    this.env.snapshotMoment(this.id, 'snapshot-save', false);
  }

  releaseLog(throughIndex: number): void {
    this.disk.releaseLog(throughIndex);
    const store = this.store;
    if (store === undefined) return;
    this.env.ioStarted(this);
    const released = store.releaseLog(throughIndex, (error) => this.env.storageFailed(this.id, error));
    released.catch((error: unknown) => this.env.asyncError(error));
  }

  snapshot(): Uint8Array {
    this.env.snapshotTaken(this.id, this.appliedIndex, this.kv.digest());
    return this.kv.snapshot();
  }

  restore(data: Uint8Array, appliedIndex: number): void {
    const before = this.appliedIndex;
    this.kv.restore(data, appliedIndex);
    this.coverBySnapshot(appliedIndex);
    this.env.snapshotInstalled(this.id, before, appliedIndex, this.kv.digest());
  }

  validate(op: KvOp): ErrorInfo | undefined {
    return this.kv.validate(op);
  }

  apply(entry: Entry): KvResult {
    return this.applyEntry(entry);
  }

  read(key: Uint8Array): KvResult {
    return this.kv.read(key);
  }

  private applyEntry(entry: Entry): KvResult {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`invariant: ${this.id} applies index ${entry.index} after ${this.appliedIndex}`);
    }
    this.appliedIndex = entry.index;
    this.appliedLog.push(entry);
    const result = entry.type === 'normal' ? applyNormal(this.kv, entry) : APPLIED_WITHOUT_EFFECT;
    if (entry.index % CHECKPOINT_EVERY_ENTRIES === 0) {
      this.checkpoints.push({ index: entry.index, kv: this.kv.clone() });
      if (this.checkpoints.length > CHECKPOINTS_MAX) this.checkpoints.shift();
    }
    this.env.applied(this.id, entry);
    return result;
  }
}

/** The shell's log lines go into the run's trace (when it is on). */
function traceLogger(env: HostEnv): Logger {
  const line = (message: string): void => env.trace(() => message);
  return { debugEnabled: false, debug: () => undefined, info: line, warn: line, error: line };
}
