// The Raft core: a pure, synchronous, deterministic state machine, so the
// simulator can drive it from a seed and replay any schedule exactly. Inputs are tick(),
// step(message), propose(), readIndex(); outputs leave through ready() and advance(). Role
// transitions and message handling live here; the log, follower progress, majority arithmetic and
// the ReadIndex queue are in their own files.
import { RaftlabError } from '../../shared/errors.js';
import { DEFAULT_SNAPSHOT_LIMITS, validateConfig, type RaftConfig } from './config.js';
import { invariant } from './invariant.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { RecoveryGuard } from './recovery.js';
import { quorumSize, quorumValue, voteResult } from './quorum.js';
import { ReadOnlyQueue } from './read-only.js';
import { decodeRound, encodeRound, RoundClock } from './rounds.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import type {
  AppendMessage,
  AppendResponseMessage,
  Entry,
  HardState,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  NodeId,
  RaftNotice,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SnapshotMessage,
  SnapshotMeta,
  SnapshotResponseMessage,
  SoftState,
  VoteMessage,
  VoteResponseMessage,
} from './types.js';

export type { RaftConfig, ReadMode } from './config.js';
export { InvariantError } from './invariant.js';

export type ProposeResult = { ok: true; index: number; term: number } | { ok: false; error: RaftlabError };

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  leader: NodeId | '';
  commit: number;
  applied: number;
  lastIndex: number;
  vote: NodeId | '';
  /** Non-zero while recovering from lost state (HardState.recoveryIndex): no votes, no campaigns. */
  recoveryIndex: number;
}

const NO_ENTRIES: readonly Entry[] = [];
const NO_MESSAGES: readonly Message[] = Object.freeze([]);
const NO_NOTICES: readonly RaftNotice[] = Object.freeze([]);

export class RaftNode {
  private readonly cfg: RaftConfig;
  private readonly id: NodeId;
  private readonly peers: readonly NodeId[];
  private readonly voterIds: ReadonlySet<NodeId>;
  private readonly log: RaftLog;
  private readonly reads: ReadOnlyQueue;
  private readonly rounds = new RoundClock();
  private readonly strict: boolean;
  private readonly recovery: RecoveryGuard;
  private notices: RaftNotice[] = [];
  private term = 0;
  private vote: NodeId | '' = '';
  private role: Role = 'follower';
  private leader: NodeId | '' = '';
  private now = 0;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private appendsPending = false;
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private droppedReads: number[] = [];
  private prevHard: HardState;
  private prevSoft: SoftState;
  private readyOutstanding = false;
  private readonly scratch: number[];
  private notLeaderCache: { term: number; role: Role; leader: NodeId | ''; error: RaftlabError } | undefined;
  /** The latest durable snapshot (taken here or installed): what a follower behind the log gets. */
  private snapshot: Snapshot | undefined;
  /** A snapshot received complete, to hand out in the next Ready for installing. */
  private installing: Snapshot | undefined;
  private readonly receiver: SnapshotReceiver;
  private readonly snapshotChunkBytes: number;
  private readonly snapshotChunksInflightMax: number;

  constructor(config: RaftConfig) {
    validateConfig(config);
    this.cfg = config;
    this.id = config.id;
    this.peers = config.voters.filter((v) => v !== config.id);
    this.voterIds = new Set(config.voters);
    this.scratch = new Array<number>(config.voters.length).fill(0);
    this.strict = [...config.unsafe].every((u) => u === 'no-session-dedup');
    const hs = config.initial?.hardState ?? { term: 0, vote: '', commit: 0 };
    this.snapshot = config.initial?.snapshot;
    this.log = new RaftLog(
      config.initial?.entries ?? [],
      hs.commit,
      config.applied ?? this.snapshot?.meta.index ?? 0,
      this.snapshot?.meta,
    );
    this.snapshotChunkBytes = config.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_LIMITS.snapshotChunkBytes;
    this.snapshotChunksInflightMax =
      config.snapshotChunksInflightMax ?? DEFAULT_SNAPSHOT_LIMITS.snapshotChunksInflightMax;
    this.receiver = new SnapshotReceiver(config.snapshotBytesMax ?? DEFAULT_SNAPSHOT_LIMITS.snapshotBytesMax);
    this.term = hs.term;
    this.vote = hs.vote;
    if (this.log.lastTerm() > this.term) {
      // A torn write kept entries of a newer term but not the hard state of that term. No vote of
      // that term was ever promised (a grant leaves only after its hard state is durable), so
      // adopting the term with no vote is safe and restores term >= last log term.
      this.term = this.log.lastTerm();
      this.vote = '';
    }
    this.reads = new ReadOnlyQueue(config.readsPendingMax);
    this.prevHard = {
      term: hs.term,
      vote: hs.vote,
      commit: this.log.committed,
      recoveryIndex: hs.recoveryIndex ?? 0,
    };
    this.recovery = new RecoveryGuard(hs.recoveryIndex ?? 0);
    if (config.recovering && this.recovery.enter(0)) {
      this.notice(
        'LOST_STATE',
        `${this.id} starts recovering from lost state (log ends at ${this.log.lastIndex()}): it will not vote or campaign until it has caught up with a leader`,
      );
    }
    this.prevSoft = { leader: '', role: 'follower' };
    this.resetTimers();
  }

  // ---- inputs -------------------------------------------------------------------------------

  tick(): void {
    this.now++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  step(m: Message): void {
    // Misrouted, or from outside the configuration: the network may do anything.
    if (m.to !== this.id || m.from === this.id || !this.voterIds.has(m.from)) return;
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    if (m.type === 'vote') this.handleVote(m);
    else if (this.role === 'leader') this.stepLeader(m);
    else if (this.role === 'follower') this.stepFollower(m);
    else this.stepCandidate(m);
  }

  propose(data: Uint8Array): ProposeResult {
    if (this.role !== 'leader') return { ok: false, error: this.notLeader() };
    if (this.log.lastIndex() - this.log.committed >= this.cfg.proposalsPendingMax) {
      const error = new RaftlabError(
        'OVERLOADED',
        `${this.log.lastIndex() - this.log.committed} proposals not yet committed (proposalsPendingMax ${this.cfg.proposalsPendingMax})`,
      );
      return { ok: false, error };
    }
    const entry: Entry = { term: this.term, index: this.log.lastIndex() + 1, type: 'normal', data };
    this.log.appendAsLeader(entry);
    this.appendsPending = true; // sent at the next ready(), so proposals between Readies batch
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * Queues a linearizable read. Each read is answered exactly once: by the returned error (refused
   * at once), or later in Ready.readStates (serve once applied >= index) or Ready.droppedReads.
   */
  readIndex(requestId: number): RaftlabError | undefined {
    if (this.role !== 'leader') return this.notLeader();
    if (this.cfg.unsafe.has('stale-leader-read')) {
      this.readStates.push({ requestId, index: this.log.committed }); // UNSAFE: no confirmation
      return undefined;
    }
    if (this.reads.full()) {
      return new RaftlabError(
        'OVERLOADED',
        `${this.reads.size()} reads pending (readsPendingMax ${this.cfg.readsPendingMax})`,
      );
    }
    if (this.cfg.readMode === 'lease' && this.committedInTerm() && this.leaseValid()) {
      this.readStates.push({ requestId, index: this.log.committed });
      return undefined;
    }
    this.reads.enqueue(requestId);
    return undefined;
  }

  /** Starts an election now (pre-vote first when enabled), as if the election timeout fired. */
  campaign(): void {
    this.hup();
  }

  // ---- outputs ------------------------------------------------------------------------------

  hasReady(): boolean {
    if (this.role === 'leader' && (this.appendsPending || this.readRoundDue())) return true;
    return (
      this.msgs.length > 0 ||
      this.installing !== undefined ||
      this.log.hasUnstable() ||
      this.log.hasCommittedToApply() ||
      this.readStates.length > 0 ||
      this.droppedReads.length > 0 ||
      this.notices.length > 0 ||
      this.softChanged() ||
      this.hardChanged()
    );
  }

  /** See the Ready type for the order in which the driver must act; call advance() after each. */
  ready(): Ready {
    if (this.readyOutstanding) throw new Error('raft: ready() called again before advance()');
    if (this.role === 'leader') this.flushLeader();
    const hardState = this.hardChanged() ? this.hardState() : undefined;
    const softState = this.softChanged() ? { leader: this.leader, role: this.role } : undefined;
    const entries = this.log.hasUnstable() ? this.log.takeUnstable() : NO_ENTRIES;
    const rd: Ready = {
      softState,
      hardState,
      entries,
      // An exact-size copy: the outbox keeps its grown backing store instead of a fresh array
      // (whose first push allocates room for 16) after every Ready; most Readies carry 1-4 messages.
      messages: this.msgs.length > 0 ? this.msgs.slice() : NO_MESSAGES,
      committedEntries: this.log.hasCommittedToApply() ? this.log.takeCommitted() : NO_ENTRIES,
      readStates: this.readStates,
      droppedReads: this.droppedReads,
      mustSync:
        entries.length > 0 ||
        this.installing !== undefined ||
        (hardState !== undefined && this.mustSyncHardState(hardState)),
      notices: this.notices.length > 0 ? this.notices : NO_NOTICES,
      snapshot: this.installing,
    };
    this.installing = undefined;
    if (hardState) {
      invariant(hardState.term >= this.prevHard.term, 'term never decreases');
      invariant(
        hardState.commit >= this.prevHard.commit || this.cfg.unsafe.has('install-older-snapshot'),
        () => `commit decreases from ${this.prevHard.commit} to ${hardState.commit}`,
      );
      this.prevHard = hardState;
    }
    if (softState) this.prevSoft = softState;
    while (this.msgs.length > 0) this.msgs.pop(); // (pop is inlined; setting length is a runtime call)
    if (this.readStates.length > 0) this.readStates = [];
    if (this.droppedReads.length > 0) this.droppedReads = [];
    if (this.notices.length > 0) this.notices = [];
    this.readyOutstanding = true;
    return rd;
  }

  /** The driver persisted, sent and applied the last Ready. */
  advance(): void {
    if (!this.readyOutstanding) throw new Error('raft: advance() called without a Ready');
    this.readyOutstanding = false;
    this.log.acceptPersisted();
    this.log.acceptApplied();
    if (this.role !== 'leader') return;
    // The leader counts itself only for what is durable: an entry committed on the strength of an
    // unsynced write could vanish in a crash after clients were told it is committed.
    const self = this.progress.get(this.id);
    if (self && self.maybeUpdate(this.log.stableIndex) && this.maybeCommit()) this.appendsPending = true;
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      vote: this.vote,
      recoveryIndex: this.recovery.index,
    };
  }

  // status() fields one at a time, without building an object: a simulator checking safety after
  // every event reads these millions of times.

  /** This node's role now. */
  currentRole(): Role {
    return this.role;
  }

  /** This node's term now. */
  currentTerm(): number {
    return this.term;
  }

  /** This node's commit index now. */
  commitIndex(): number {
    return this.log.committed;
  }

  /** The entry at `index` in this node's log (for simulators checking log matching); undefined if compacted. */
  entryAt(index: number): Entry | undefined {
    return this.log.entry(index);
  }

  /** Term of the entry at `index`; undefined beyond the log or below its start. */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  /** Where the log starts: the snapshot it was compacted to or installed from ({0, 0}: none). */
  logStart(): SnapshotMeta {
    return { index: this.log.offset, term: this.log.offsetTerm };
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /**
   * The shell made `snapshot` of its own state machine durable: keep it to send to followers that
   * need compacted entries. An older one than the one kept changes nothing.
   */
  snapshotTaken(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    invariant(index <= this.log.applied, () => `snapshot at ${index} beyond applied ${this.log.applied}`);
    invariant(snapshot.data.length > 0, 'an empty snapshot image');
    const known = this.log.term(index);
    invariant(
      known === undefined || known === term,
      () => `snapshot at ${index} has term ${term}, log ${known}`,
    );
    if (this.snapshot !== undefined && index <= this.snapshot.meta.index) return;
    this.snapshot = snapshot;
  }

  /** Drops the log through `throughIndex`, which the kept durable snapshot must cover. */
  compact(throughIndex: number): void {
    const covered = this.snapshot?.meta.index ?? 0;
    invariant(
      throughIndex <= covered,
      () => `compact(${throughIndex}) past the durable snapshot at ${covered}`,
    );
    this.log.compact(throughIndex);
  }

  // ---- timers -------------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTimeoutTicksMin) {
      this.electionElapsed = 0;
      // UNSAFE stale-leader-read also keeps a cut-off leader in office, so it goes on serving stale
      // reads until it hears a higher term: the bug this variant models, without a timing lottery.
      if (this.cfg.checkQuorum && !this.quorumActive() && !this.cfg.unsafe.has('stale-leader-read')) {
        this.becomeFollower(this.term, ''); // check-quorum: a leader cut off from a majority steps down
        return;
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatIntervalTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.rng.int(
      this.cfg.electionTimeoutTicksMin,
      this.cfg.electionTimeoutTicksMax,
    );
  }

  // ---- role transitions ---------------------------------------------------------------------

  private setTerm(term: number): void {
    invariant(term >= this.term, () => `term decreases from ${this.term} to ${term}`);
    if (term !== this.term) {
      this.term = term;
      this.vote = '';
    }
  }

  private setVote(candidate: NodeId): void {
    invariant(
      this.vote === '' || this.vote === candidate || this.cfg.unsafe.has('vote-twice'),
      () => `${this.id} votes for ${candidate} in term ${this.term} after voting for ${this.vote}`,
    );
    this.vote = candidate;
  }

  private becomeFollower(term: number, leader: NodeId | ''): void {
    if (this.role === 'leader') this.stepDownLeader();
    this.setTerm(term);
    this.role = 'follower';
    this.leader = leader;
    this.votes.clear();
    this.resetTimers();
  }

  private stepDownLeader(): void {
    this.reads.dropAll(this.droppedReads);
    this.progress = new Map();
    this.appendsPending = false;
  }

  private becomePreCandidate(): void {
    this.role = 'pre-candidate';
    this.leader = '';
    this.votes.clear();
    this.resetTimers();
  }

  private becomeCandidate(): void {
    this.setTerm(this.term + 1);
    this.setVote(this.id);
    this.role = 'candidate';
    this.leader = '';
    this.votes.clear();
    this.resetTimers();
  }

  private becomeLeader(): void {
    if (this.role !== 'candidate') invariant(false, `${this.id} becomes leader from ${this.role}`);
    this.role = 'leader';
    this.leader = this.id;
    this.resetTimers();
    const next = this.log.lastIndex() + 1;
    this.progress = new Map();
    for (const v of this.cfg.voters) {
      this.progress.set(v, new Progress(next, this.cfg.inflightAppendsMax));
    }
    const self = this.progress.get(this.id) as Progress;
    self.match = this.log.stableIndex;
    self.ackedRound = this.rounds.current;
    // §8: a no-op of the new term lets the leader learn the commit index and serve reads. The unsafe
    // Figure 8 variant leaves it out, since the no-op would mask the bug in most schedules.
    if (!this.cfg.unsafe.has('commit-previous-term')) {
      this.log.appendAsLeader({ term: this.term, index: next, type: 'noop', data: new Uint8Array(0) });
    }
    this.bcastAppend();
  }

  private hup(): void {
    if (this.role === 'leader') return;
    // Its own vote would count like any other: a node that lost state must not elect itself.
    if (this.guardsLostState()) return;
    if (this.cfg.preVote) this.startElection(true);
    else this.startElection(false);
  }

  private startElection(pre: boolean): void {
    if (pre) this.becomePreCandidate();
    else this.becomeCandidate();
    this.votes.set(this.id, true);
    if (this.tallyVotes(pre)) return; // a single-node cluster wins at once
    const voteTerm = pre ? this.term + 1 : this.term;
    for (const to of this.peers) {
      const m: VoteMessage = {
        type: 'vote',
        from: this.id,
        to,
        term: voteTerm,
        preVote: pre,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
      };
      this.msgs.push(m);
    }
  }

  /** Acts on the votes so far; returns true when the election is decided. */
  private tallyVotes(pre: boolean): boolean {
    let granted = 0;
    let rejected = 0;
    for (const g of this.votes.values()) {
      if (g) granted++;
      else rejected++;
    }
    const result = voteResult(granted, rejected, this.cfg.voters.length);
    if (result === 'won') {
      if (pre) this.startElection(false);
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, '');
    }
    return result !== 'pending';
  }

  // ---- message handling by term -------------------------------------------------------------

  /** Returns false when the message must be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'vote' && this.inLease()) return false; // leader stickiness (thesis §4.2.3)
    if (m.type === 'vote' && m.preVote) return true; // a pre-vote never changes our term
    if (m.type === 'vote-response' && m.preVote && m.granted) return true; // granted for our future term
    this.becomeFollower(m.term, isFromLeader(m) ? m.from : '');
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if (isFromLeader(m) && (this.cfg.checkQuorum || this.cfg.preVote)) {
      // A deposed leader that cannot learn our term would never step down once pre-vote or
      // leader stickiness keeps us from voting it out: tell it.
      this.send(this.appendResponse(m.from, false, 0, 0, 0, 0));
    } else if (m.type === 'vote' && m.preVote) {
      this.send(this.voteResponse(m.from, this.term, true, false));
    }
  }

  /** Heard from a live leader within the minimum election timeout: refuse to help depose it. */
  private inLease(): boolean {
    if (this.cfg.readMode === 'lease' && this.now < this.cfg.electionTimeoutTicksMin) return true;
    return (
      this.cfg.checkQuorum && this.leader !== '' && this.electionElapsed < this.cfg.electionTimeoutTicksMin
    );
  }

  private handleVote(m: VoteMessage): void {
    const canVote =
      !this.guardsLostState() &&
      (this.vote === m.from ||
        (this.vote === '' && this.leader === '') ||
        (m.preVote && m.term > this.term) ||
        (!m.preVote && this.cfg.unsafe.has('vote-twice'))); // UNSAFE: ignores an earlier vote
    const upToDate =
      this.cfg.unsafe.has('no-log-check-on-vote') || this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    if (canVote && upToDate) {
      // The grant leaves in the same Ready as the hard state recording the vote, so the driver syncs
      // the vote first: a node that forgot its vote after a crash could vote twice in one term.
      this.send(this.voteResponse(m.from, m.term, m.preVote, true));
      if (!m.preVote) {
        this.electionElapsed = 0;
        this.setVote(m.from);
      }
    } else {
      this.send(this.voteResponse(m.from, this.term, m.preVote, false));
    }
  }

  private stepFollower(m: Message): void {
    if (m.type === 'append') {
      this.electionElapsed = 0;
      this.leader = m.from;
      this.handleAppend(m);
    } else if (m.type === 'heartbeat') {
      this.electionElapsed = 0;
      this.leader = m.from;
      this.handleHeartbeat(m);
    } else if (m.type === 'snapshot') {
      this.electionElapsed = 0;
      this.leader = m.from;
      this.handleSnapshot(m);
    }
  }

  private stepCandidate(m: Message): void {
    if (isFromLeader(m)) {
      this.becomeFollower(m.term, m.from); // someone won this term
      this.stepFollower(m);
    } else if (m.type === 'vote-response') {
      const pre = this.role === 'pre-candidate';
      if (m.preVote !== pre || this.votes.has(m.from)) return;
      this.votes.set(m.from, m.granted);
      this.tallyVotes(pre);
    }
  }

  private stepLeader(m: Message): void {
    if (isFromLeader(m)) {
      invariant(
        false,
        `${this.id} is leader of term ${this.term} and got ${m.type} from leader ${m.from} of the same term`,
      );
    }
    const pr = this.progress.get(m.from);
    if (!pr) return;
    if (m.type === 'append-response') this.handleAppendResponse(m, pr);
    else if (m.type === 'heartbeat-response') this.handleHeartbeatResponse(m, pr);
    else if (m.type === 'snapshot-response') this.handleSnapshotResponse(m, pr);
  }

  // ---- follower side of replication ---------------------------------------------------------

  private handleAppend(m: AppendMessage): void {
    if (m.prevLogIndex < this.log.offset) {
      // Behind our snapshot, so behind our commit: everything up to the commit matches any leader
      // (Leader Completeness); say so and the leader goes on from there (etcd does the same).
      this.send(this.appendResponse(m.from, true, this.log.committed, 0, 0, 0));
      this.heardCommit(m.commit);
      return;
    }
    if (this.log.matchTerm(m.prevLogIndex, m.prevLogTerm)) {
      const lastNew = this.log.appendAfter(m.prevLogIndex, m.entries);
      this.log.commitTo(Math.min(m.commit, lastNew));
      // This answer leaves in the Ready that carries the appended entries, so the driver syncs them
      // first: the leader may count this acknowledgement toward a commit.
      this.send(this.appendResponse(m.from, true, lastNew, 0, 0, 0));
      this.heardCommit(m.commit);
      return;
    }
    this.heardCommit(m.commit);
    // Fast backtracking: point the leader past every entry of ours that cannot match.
    const hintIndex = this.log.findConflictByTerm(
      Math.min(m.prevLogIndex, this.log.lastIndex()),
      m.prevLogTerm,
    );
    const hintTerm = this.log.term(hintIndex) ?? 0;
    this.send(this.appendResponse(m.from, false, 0, m.prevLogIndex, hintIndex, hintTerm));
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    // The leader sends min(commit, our match), so this never commits an entry we do not share.
    if (m.commit > this.log.lastIndex()) this.lostAcknowledgedEntries(m);
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.heardCommit(m.commit);
    const r: HeartbeatResponseMessage = {
      type: 'heartbeat-response',
      from: this.id,
      to: m.from,
      term: this.term,
      context: m.context,
    };
    this.send(r);
  }

  /**
   * A heartbeat's commit is at most our match, i.e. what we acknowledged to this leader; our log
   * ends below it, so we lost entries we had acknowledged (a lost or truncated disk). Recover, and
   * tell the leader where our log really ends: it answers with a probe from there. This answer goes
   * out once per heartbeat at most, so it cannot spin.
   */
  private lostAcknowledgedEntries(m: HeartbeatMessage): void {
    const last = this.log.lastIndex();
    if (this.recovery.enter(m.commit)) {
      this.notice(
        'LOST_STATE',
        `${this.id} lost acknowledged entries: leader ${m.from} counts it up to index ${m.commit} but its log ends at ${last}; it will not vote or campaign until it has caught up`,
      );
    }
    this.send(this.appendResponse(m.from, false, 0, m.commit, last, this.log.lastTerm(), true));
  }

  /** A leader's commit index while recovering: the target moves up; recovery may end. */
  private heardCommit(commit: number): void {
    if (!this.recovery.active) return;
    this.recovery.heard(commit);
    const committed = this.log.committed;
    if (this.recovery.maybeEnd(committed, this.log.term(committed), this.term)) {
      this.notice(
        'RECOVERED',
        `${this.id} recovered from lost state: it has committed index ${committed} of term ${this.term} from leader ${this.leader}; it votes again`,
      );
    }
  }

  // ---- leader side of replication -----------------------------------------------------------

  private handleAppendResponse(m: AppendResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    if (!m.success) {
      const nextProbe = m.hintTerm > 0 ? this.log.findConflictByTerm(m.hintIndex, m.hintTerm) : m.hintIndex;
      const reprobe = this.cfg.unsafe.has('reprobe-at-match'); // UNSAFE: the bug of issue 10
      if (m.logLost && m.hintIndex < pr.match && !reprobe) {
        this.followerLostEntries(m, pr, nextProbe + 1);
        this.sendAppend(m.from, pr, true);
      } else if (pr.maybeDecrTo(m.rejectIndex, nextProbe + 1, reprobe)) {
        this.sendAppend(m.from, pr, true);
      }
      // Otherwise the rejection moved nothing (stale, or a repeat): the next probe waits for a
      // heartbeat answer, so two nodes never trade rejections without a timer between rounds.
      return;
    }
    const updated = pr.maybeUpdate(m.matchIndex);
    // A successful probe (even one that adds nothing, as when the follower is already in sync) ends probing.
    if (pr.state === 'probe' && m.matchIndex >= pr.match) pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.snapshotIndex) this.snapshotDelivered(m.from, pr);
    else if (!updated) return; // stale or duplicate
    // A new commit index goes out at the next ready(), so the answers of one driver cycle share
    // one broadcast (and it rides on appends of new proposals when there are any).
    if (this.maybeCommit()) this.appendsPending = true;
    else this.sendAppendsTo(m.from, pr, pr.commitSent < this.log.committed);
  }

  /**
   * The follower says its log ends below what it acknowledged to us: it lost entries it had made
   * durable (a lost or truncated disk). Forget its match and probe from where its log ends. (An
   * ordinary rejection cannot say this: under reordering, a rejection older than an acknowledgement
   * looks the same, so those only move `next` back, above the match.)
   */
  private followerLostEntries(m: AppendResponseMessage, pr: Progress, next: number): void {
    this.notice(
      'FOLLOWER_LOST_ENTRIES',
      `follower ${m.from} lost acknowledged entries: it acknowledged up to index ${pr.match} but its log now ends at ${m.hintIndex} (term ${m.hintTerm}); probing it from index ${next}`,
    );
    pr.restartProbe(next);
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    // The follower is reachable: let a lost probe be retried, and unblock a window of lost appends.
    pr.probeSent = false;
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
    if (pr.state === 'snapshot') pr.snapshotResume(); // re-send what was lost, once per heartbeat
    const round = decodeRound(m.context);
    if (round > pr.ackedRound) {
      pr.ackedRound = round;
      const sentTick = this.rounds.sentTick(round);
      if (sentTick !== undefined && sentTick > pr.ackedTick) pr.ackedTick = sentTick;
    }
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, pr, true);
    this.confirmReads();
  }

  /** Commits the highest index a majority has persisted, if it is of this term (§5.4.2). */
  private maybeCommit(): boolean {
    let i = 0;
    for (const pr of this.progress.values()) this.scratch[i++] = pr.match;
    const index = quorumValue(this.scratch, i);
    if (index <= this.log.committed) return false;
    // Figure 8: counting replicas is only safe for entries of the leader's own term.
    if (this.log.term(index) !== this.term && !this.cfg.unsafe.has('commit-previous-term')) return false;
    return this.log.commitTo(index);
  }

  private committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private bcastAppend(): void {
    for (const to of this.peers) {
      const pr = this.progress.get(to);
      if (pr) this.sendAppendsTo(to, pr, true);
    }
    this.appendsPending = false;
  }

  /** Sends as many appends as the follower's state allows (one in probe, a window in replicate). */
  private sendAppendsTo(to: NodeId, pr: Progress, sendIfEmpty = false): void {
    let first = true;
    while (this.sendAppend(to, pr, sendIfEmpty && first)) first = false;
  }

  /** Sends one append; returns true when it carried entries and more may follow. */
  private sendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    if (pr.state === 'snapshot' || pr.next <= this.log.offset) {
      this.sendSnapshotChunks(to, pr); // the entries it needs are compacted
      return false;
    }
    const prevLogIndex = pr.next - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    if (prevLogTerm === undefined)
      invariant(false, `${to} next ${pr.next} beyond leader log ${this.log.lastIndex()}`);
    const entries =
      pr.next <= this.log.lastIndex()
        ? this.log.slice(pr.next, this.cfg.appendEntriesMax, this.cfg.appendBytesMax)
        : NO_ENTRIES;
    if (entries.length === 0 && !sendIfEmpty) return false;
    const m: AppendMessage = {
      type: 'append',
      from: this.id,
      to,
      term: this.term,
      prevLogIndex,
      prevLogTerm,
      entries,
      commit: this.log.committed,
    };
    this.msgs.push(m);
    pr.commitSent = this.log.committed;
    pr.sentEntries(prevLogIndex + entries.length, entries.length);
    return entries.length > 0 && pr.state === 'replicate';
  }

  private bcastHeartbeat(): void {
    const round = this.rounds.start(this.now);
    const context = encodeRound(round);
    const self = this.progress.get(this.id);
    if (self) {
      self.ackedRound = round;
      self.ackedTick = this.now;
    }
    for (const to of this.peers) {
      const pr = this.progress.get(to);
      const m: HeartbeatMessage = {
        type: 'heartbeat',
        from: this.id,
        to,
        term: this.term,
        commit: Math.min(pr?.match ?? 0, this.log.committed),
        context,
      };
      this.msgs.push(m);
    }
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const [id, pr] of this.progress) {
      if (id === this.id || pr.recentActive) active++;
      if (id !== this.id) pr.recentActive = false;
    }
    return active >= quorumSize(this.cfg.voters.length);
  }

  // ---- InstallSnapshot (Raft §7) -------------------------------------------------------------

  /**
   * A chunk of the leader's snapshot. Installed only when newer than what this node has: a
   * snapshot at or below our commit says nothing new (answer with the commit), and one whose last
   * entry our log holds with the same term only moves the commit (the suffix after it is kept).
   */
  private handleSnapshot(m: SnapshotMessage): void {
    const older = this.cfg.unsafe.has('install-older-snapshot'); // UNSAFE: rolls the node back
    if (!older && m.metaIndex <= this.log.committed) {
      this.receiver.discardThrough(this.log.committed);
      this.send(this.appendResponse(m.from, true, this.log.committed, 0, 0, 0));
      this.heardCommit(m.metaIndex);
      return;
    }
    if (!older && this.log.matchTerm(m.metaIndex, m.metaTerm)) {
      this.log.commitTo(m.metaIndex);
      this.receiver.discardThrough(this.log.committed);
      this.send(this.appendResponse(m.from, true, m.metaIndex, 0, 0, 0));
      this.heardCommit(m.metaIndex);
      return;
    }
    const outcome = this.receiver.receive(m, this.now);
    if (outcome.kind === 'too-large') {
      if (m.offset === 0)
        this.notice(
          'SNAPSHOT_REJECTED',
          `${this.id} refuses snapshot at index ${m.metaIndex} from ${m.from}: ${m.totalBytes} bytes exceed snapshotBytesMax`,
        );
      this.send(this.snapshotResponse(m, 0, true));
    } else if (outcome.kind === 'want') {
      if (m.offset === 0 && outcome.nextOffset === m.data.length)
        this.notice(
          'SNAPSHOT_RECEIVING',
          `${this.id} receives snapshot at index ${m.metaIndex} (term ${m.metaTerm}, ${m.totalBytes} bytes) from ${m.from}`,
          'info',
        );
      this.send(this.snapshotResponse(m, outcome.nextOffset, false));
    } else {
      this.installSnapshot(outcome.snapshot, m.from, outcome.startTick);
    }
  }

  /** Discards the whole log for the snapshot; the Ready hands it out, durable before the answer leaves. */
  private installSnapshot(snapshot: Snapshot, from: NodeId, startTick: number): void {
    const { index, term } = snapshot.meta;
    if (!this.cfg.unsafe.has('install-older-snapshot'))
      invariant(
        index > this.log.committed,
        () => `installing snapshot ${index} at commit ${this.log.committed}`,
      );
    invariant(!this.readyOutstanding, 'a snapshot installed while a Ready is outstanding');
    this.log.restore(snapshot.meta);
    this.snapshot = snapshot;
    this.installing = snapshot;
    this.notice(
      'SNAPSHOT_INSTALLED',
      `${this.id} installs snapshot at index ${index} (term ${term}, ${snapshot.data.length} bytes) from ${from}, received in ${this.now - startTick} ticks`,
      'info',
    );
    this.send(this.appendResponse(from, true, index, 0, 0, 0));
    this.heardCommit(index);
  }

  /** Streams the kept snapshot to a follower, at most snapshotChunksInflightMax chunks ahead. */
  private sendSnapshotChunks(to: NodeId, pr: Progress): void {
    const snap = this.snapshot;
    if (snap === undefined || snap.meta.index < this.log.offset)
      invariant(
        false,
        `${to} needs entries compacted through ${this.log.offset} and no snapshot covers them`,
      );
    if (pr.state !== 'snapshot' || pr.snapshotIndex !== snap.meta.index) {
      // The first chunk, or a newer snapshot replaced the one being sent: start over.
      pr.becomeSnapshot(snap.meta.index, this.now);
      this.notice(
        'SNAPSHOT_SENDING',
        `${this.id} sends snapshot at index ${snap.meta.index} (${snap.data.length} bytes) to ${to}: it needs index ${pr.match + 1}, compacted`,
        'info',
      );
    }
    const total = snap.data.length;
    const windowBytes = this.snapshotChunkBytes * this.snapshotChunksInflightMax;
    while (
      !pr.probeSent &&
      pr.snapshotOffsetNext < total &&
      pr.snapshotOffsetNext - pr.snapshotOffsetAcked < windowBytes
    ) {
      const offset = pr.snapshotOffsetNext;
      const end = Math.min(total, offset + this.snapshotChunkBytes);
      const m: SnapshotMessage = {
        type: 'snapshot',
        from: this.id,
        to,
        term: this.term,
        metaIndex: snap.meta.index,
        metaTerm: snap.meta.term,
        offset,
        data: snap.data.subarray(offset, end),
        done: end === total,
        totalBytes: total,
      };
      this.msgs.push(m);
      pr.snapshotOffsetNext = end;
    }
  }

  private handleSnapshotResponse(m: SnapshotResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    if (pr.state !== 'snapshot' || m.snapshotIndex !== pr.snapshotIndex) return; // stale
    if (m.rejected) {
      // It cannot take the image: try again after a heartbeat answer (a timer), never in a loop.
      if (pr.probeSent) return; // another chunk of the same round was refused too
      pr.snapshotWanted(0);
      pr.probeSent = true;
      this.notice(
        'SNAPSHOT_REJECTED',
        `follower ${m.from} refused snapshot at index ${m.snapshotIndex} (too large for it); retrying after a heartbeat`,
      );
      return;
    }
    pr.snapshotWanted(m.nextOffset);
    this.sendSnapshotChunks(m.from, pr);
  }

  /** The follower holds the snapshot (installed, or it had it): replicate entries after it. */
  private snapshotDelivered(to: NodeId, pr: Progress): void {
    this.notice(
      'SNAPSHOT_SENT',
      `${to} holds snapshot at index ${pr.snapshotIndex} (${this.now - pr.snapshotStartTick} ticks after the first chunk); replicating from index ${pr.match + 1}`,
      'info',
    );
    pr.becomeReplicate();
  }

  private snapshotResponse(
    m: SnapshotMessage,
    nextOffset: number,
    rejected: boolean,
  ): SnapshotResponseMessage {
    return {
      type: 'snapshot-response',
      from: this.id,
      to: m.from,
      term: this.term,
      snapshotIndex: m.metaIndex,
      nextOffset,
      rejected,
    };
  }

  // ---- reads --------------------------------------------------------------------------------

  private readRoundDue(): boolean {
    return this.reads.hasUnbatched() && this.committedInTerm();
  }

  /** Sends batched appends and starts a ReadIndex round for the reads queued since the last Ready. */
  private flushLeader(): void {
    if (this.appendsPending) this.bcastAppend();
    if (!this.readRoundDue()) return;
    this.bcastHeartbeat();
    this.reads.startRound(this.rounds.current, this.log.committed);
    this.confirmReads(); // a single-node cluster confirms at once
  }

  private confirmReads(): void {
    if (this.reads.size() === 0) return;
    let i = 0;
    for (const [id, pr] of this.progress)
      this.scratch[i++] = id === this.id ? this.rounds.current : pr.ackedRound;
    this.reads.confirm(quorumValue(this.scratch, i), this.readStates);
  }

  /**
   * Lease: a majority acknowledged a heartbeat sent at tick t, and each of them ignores votes until
   * electionTimeoutTicksMin after receiving it, so no other leader exists before t + that minimum,
   * provided clocks tick at the same rate (bounded drift; see docs/raft-core.md).
   */
  private leaseValid(): boolean {
    let i = 0;
    for (const [id, pr] of this.progress) this.scratch[i++] = id === this.id ? this.now : pr.ackedTick;
    return this.now < quorumValue(this.scratch, i) + this.cfg.electionTimeoutTicksMin;
  }

  // ---- helpers ------------------------------------------------------------------------------

  /**
   * Clients that hit a follower get this on every request; building an Error (stack capture) each
   * time is measurable in the simulator, so one immutable instance is shared per (term, role, leader).
   */
  private notLeader(): RaftlabError {
    const cached = this.notLeaderCache;
    if (cached && cached.term === this.term && cached.role === this.role && cached.leader === this.leader) {
      return cached.error;
    }
    const hint = this.leader !== '' && this.leader !== this.id ? { leaderHint: this.leader } : {};
    // An expected refusal, not a bug: its stack says nothing, and capturing one was the larger part
    // of this function's cost in the simulator (clients often ask a node that just lost office).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let error: RaftlabError;
    try {
      error = new RaftlabError('NOT_LEADER', `${this.id} is ${this.role} in term ${this.term}`, hint);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.notLeaderCache = { term: this.term, role: this.role, leader: this.leader, error };
    return error;
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }

  private appendResponse(
    to: NodeId,
    success: boolean,
    matchIndex: number,
    rejectIndex: number,
    hintIndex: number,
    hintTerm: number,
    logLost = false,
  ): AppendResponseMessage {
    return {
      type: 'append-response',
      from: this.id,
      to,
      term: this.term,
      success,
      matchIndex,
      rejectIndex,
      hintIndex,
      hintTerm,
      logLost,
    };
  }

  private voteResponse(to: NodeId, term: number, preVote: boolean, granted: boolean): VoteResponseMessage {
    return { type: 'vote-response', from: this.id, to, term, preVote, granted };
  }

  private hardState(): HardState {
    const hs = { term: this.term, vote: this.vote, commit: this.log.committed };
    return this.recovery.active ? { ...hs, recoveryIndex: this.recovery.index } : hs;
  }

  private hardChanged(): boolean {
    const p = this.prevHard;
    return (
      p.term !== this.term ||
      p.vote !== this.vote ||
      p.commit !== this.log.committed ||
      (p.recoveryIndex ?? 0) !== this.recovery.index
    );
  }

  /** A term or vote change is a promise; so is entering or leaving recovery (a crash must not forget it). */
  private mustSyncHardState(hs: HardState): boolean {
    const p = this.prevHard;
    return hs.term !== p.term || hs.vote !== p.vote || (hs.recoveryIndex ?? 0) !== (p.recoveryIndex ?? 0);
  }

  private notice(code: RaftNotice['code'], text: string, level?: 'info'): void {
    this.notices.push(level === undefined ? { code, text } : { code, text, level });
  }

  /** Recovering from lost state, and the guard is not switched off by the unsafe variant. */
  private guardsLostState(): boolean {
    return this.recovery.active && !this.cfg.unsafe.has('no-lost-state-guard');
  }

  private softChanged(): boolean {
    return this.prevSoft.role !== this.role || this.prevSoft.leader !== this.leader;
  }
}

/** Messages only a leader sends: receiving one means someone leads the message's term. */
function isFromLeader(m: Message): boolean {
  return m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
}
