// Plain data shared by the Raft core, its drivers (server/, sim/) and the wire codec (proto/).
// These mirror the Raft messages of proto/raftlab.proto field for field; the codec converts.
// Indexes and terms are plain numbers (safe up to 2^53).

export type NodeId = string;

export type EntryType = 'normal' | 'noop' | 'config';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * What must be durable before a node votes, acknowledges, or counts itself: a crash must not make it
 * forget a vote (two leaders in one term) or a term it has seen.
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | ''; // '' = voted for nobody in `term`
  readonly commit: number;
  /**
   * Non-zero while this node recovers from lost acknowledged state (see recovery.ts): it neither
   * votes nor campaigns until it has committed at least this index with an entry of its current
   * term. Absent or 0: not recovering.
   */
  readonly recoveryIndex?: number;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export interface AppendMessage extends MessageBase {
  readonly type: 'append';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponseMessage extends MessageBase {
  readonly type: 'append-response';
  readonly success: boolean;
  readonly matchIndex: number;
  readonly rejectIndex: number;
  readonly hintIndex: number;
  readonly hintTerm: number;
  /** A rejection saying the follower lost entries it had acknowledged; hintIndex is its last index. */
  readonly logLost: boolean;
}

export interface VoteMessage extends MessageBase {
  readonly type: 'vote';
  readonly preVote: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

export interface VoteResponseMessage extends MessageBase {
  readonly type: 'vote-response';
  readonly preVote: boolean;
  readonly granted: boolean;
}

export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly context: Uint8Array;
}

export interface HeartbeatResponseMessage extends MessageBase {
  readonly type: 'heartbeat-response';
  readonly context: Uint8Array;
}

/** Where a snapshot's state ends: the index and term of the last entry it covers. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
}

/** A state-machine image (KvStateMachine.snapshot() bytes: keys, values, session table) at meta.index. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** One chunk of an InstallSnapshot transfer (Raft §7): bytes [offset, offset + data.length) of the image. */
export interface SnapshotMessage extends MessageBase {
  readonly type: 'snapshot';
  /** The snapshot's SnapshotMeta, flat as on the wire. */
  readonly metaIndex: number;
  readonly metaTerm: number;
  readonly offset: number;
  readonly data: Uint8Array;
  /** The last chunk: the follower installs the image once it holds all totalBytes. */
  readonly done: boolean;
  readonly totalBytes: number;
}

/**
 * A follower's answer to a chunk: the offset it wants next of the snapshot at snapshotIndex (a lost
 * or reordered chunk makes it ask again from where its buffer ends), or a rejection (the image is
 * larger than it may buffer). The end of a transfer is answered with an append-response instead.
 */
export interface SnapshotResponseMessage extends MessageBase {
  readonly type: 'snapshot-response';
  readonly snapshotIndex: number;
  readonly nextOffset: number;
  readonly rejected: boolean;
}

/** One discriminated union for every message that travels between peers. */
export type Message =
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotMessage
  | SnapshotResponseMessage;

export type MessageType = Message['type'];

/** A linearizable read that may be served once the state machine has applied `index`. */
export interface ReadState {
  readonly requestId: number;
  readonly index: number;
}

export interface SoftState {
  readonly leader: NodeId | '';
  readonly role: Role;
}

/** Something an operator must hear about; the driver logs it (a warning unless level is 'info'). */
export interface RaftNotice {
  readonly code:
    | 'FOLLOWER_LOST_ENTRIES'
    | 'LOST_STATE'
    | 'RECOVERED'
    | 'SNAPSHOT_SENDING'
    | 'SNAPSHOT_SENT'
    | 'SNAPSHOT_RECEIVING'
    | 'SNAPSHOT_INSTALLED'
    | 'SNAPSHOT_REJECTED';
  readonly text: string;
  readonly level?: 'info' | 'warn';
}

/**
 * What the driver must do next, in order:
 *  0. when `snapshot` is present, make it durable first (its log now starts after snapshot.meta.index),
 *     then restore the state machine from it (applied = snapshot.meta.index) before step 3;
 *  1. persist `entries` (appending; an entry whose index already exists replaces it and every
 *     entry after it) and `hardState` (when present), and fsync if `mustSync`;
 *  2. send `messages` (only after step 1: they may promise what step 1 makes durable);
 *  3. apply `committedEntries` to the state machine, in order;
 *  4. serve each of `readStates` once the applied index reaches its `index`;
 *  5. call `advance()`.
 */
export interface Ready {
  readonly softState: SoftState | undefined; // present when role or leader changed
  readonly hardState: HardState | undefined; // present when it changed
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /** Reads refused since the last Ready (this node is not leader, or lost leadership). */
  readonly droppedReads: readonly number[];
  readonly mustSync: boolean;
  /** Lost state detected or recovered (loud on purpose: see docs/storage.md, lost disks). */
  readonly notices: readonly RaftNotice[];
  /**
   * A snapshot received complete from the leader that this node must install: durable (before the
   * entries and hard state of this Ready, and before anything that depends on it leaves), then the
   * state machine is restored from it. Undefined in almost every Ready.
   */
  readonly snapshot: Snapshot | undefined;
}

/** A seeded pseudo-random source; the core never touches Math.random. */
export interface Rng {
  /** A uniform integer in [min, max], inclusive. */
  int(min: number, max: number): number;
}
