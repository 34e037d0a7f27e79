// Raft's safety properties, checked incrementally after every simulated step (Raft paper §5.2-5.4,
// Figure 3). The first violation stops the run; it names the property and what broke it.
import type { Entry, HardState, Ready, Role } from '../server/raft/types.js';
import type { SimDisk } from './disk.js';

export type SafetyProperty =
  | 'election safety'
  | 'one vote per term'
  | 'state machines equal'
  | 'applied never goes backwards'
  | 'no regress across restarts'
  | 'log matching'
  | 'leader completeness'
  | 'state machine safety'
  | 'monotonic commit'
  | 'applied within commit'
  | 'committed entries durable on a majority'
  | 'no duplicate appends'
  | 'linearizability'
  | LivenessProperty
  | StorageProperty
  | 'internal error';

/**
 * The WAL disk (--disk wal): the real storage refused to open what a crash left (a corrupt WAL,
 * SNAPSHOT_CORRUPT, SNAPSHOT_MISSING: 'refused to start'), booted a log that does not continue its
 * snapshot (entries were lost), or failed a write.
 */
export type StorageProperty =
  'storage: WAL refused to start' | 'storage: WAL lost entries' | 'storage: WAL failed';

/** What kind of failure a violated property is, for the report. */
export function failureKind(property: SafetyProperty): 'safety' | 'liveness' | 'storage' {
  if (isLiveness(property)) return 'liveness';
  return property.startsWith('storage') ? 'storage' : 'safety';
}

/** Properties that fail when the cluster stops making progress (it did nothing wrong yet). */
export type LivenessProperty =
  | 'liveness after heal'
  | 'liveness: leader after heal'
  | 'liveness: term inflation'
  | 'liveness: client progress';

export function isLiveness(property: SafetyProperty): property is LivenessProperty {
  return property.startsWith('liveness');
}

export interface Violation {
  readonly property: SafetyProperty;
  readonly detail: string;
  readonly timeNs: number;
}

/** How often (in applied entries) replicas compare state machine digests. */
export const STATE_HASH_EVERY_ENTRIES = 64;

interface LogSlot {
  readonly prevTerm: number;
  readonly entry: Entry;
}

export function sameEntry(a: Entry, b: Entry): boolean {
  if (a === b) return true;
  if (a.term !== b.term || a.index !== b.index || a.type !== b.type || a.data.length !== b.data.length)
    return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

export class SafetyChecker {
  violation: Violation | undefined;
  private readonly leaderOfTerm = new Map<number, string>();
  /** slots[index] = every distinct (term, entry) written at that index by any node. */
  private readonly slots: (LogSlot[] | undefined)[] = [];
  /** committed[i - 1] = the entry applied at index i (by whichever node applied it first). */
  private readonly committed: Entry[] = [];
  /**
   * commitTerm[i - 1] = the term in which index i became committed: the term of the leader whose
   * commit index first covered it. Leader completeness (paper §5.4) promises an entry committed in
   * term C to the leaders of terms after C, not to every leader elected later in time: a candidate
   * of an older term that wins late on delayed votes may lack it (and can commit nothing).
   */
  private readonly commitTerm: number[] = [];
  /** The highest term any node has been seen leading (the commit term of an index no leader covered first). */
  private leaderTermMax = 0;
  /** Per node: the vote of every term in its durable hard states, across all its lives. */
  private readonly votes = new Map<string, Map<number, string>>();
  /** stateHashes[k] = the state machine digest at applied index (k + 1) * STATE_HASH_EVERY_ENTRIES. */
  private readonly stateHashes: { node: string; hash: number }[] = [];
  /** The state machine digest at each snapshot index any node took or installed a snapshot at. */
  private readonly snapshotHashes = new Map<number, { node: string; hash: number }>();
  /** Per node (per incarnation): the last commit index seen and the last term it was seen leading. */
  private readonly nodes = new Map<string, { commit: number; leaderTerm: number }>();
  now = 0;
  /** The disks as an array: checked once per committed index, where a Map iterator allocates. */
  private readonly diskList: readonly SimDisk[];

  constructor(
    private readonly disks: ReadonlyMap<string, SimDisk>,
    private readonly majority: number,
  ) {
    this.diskList = [...disks.values()];
  }

  get committedCount(): number {
    return this.committed.length;
  }

  fail(property: SafetyProperty, detail: string): void {
    if (this.violation === undefined) this.violation = { property, detail, timeNs: this.now };
  }

  /** After a node's Ready was persisted: log matching for every entry written. */
  persisted(node: string, ready: Ready, disk: SimDisk): void {
    const entries = ready.entries;
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e] as Entry;
      const prevTerm = entry.index > 1 ? (disk.termAt(entry.index - 1) ?? -1) : 0;
      let atIndex = this.slots[entry.index];
      if (atIndex === undefined) this.slots[entry.index] = atIndex = [];
      let slot: LogSlot | undefined;
      for (let i = 0; i < atIndex.length && slot === undefined; i++)
        if ((atIndex[i] as LogSlot).entry.term === entry.term) slot = atIndex[i];
      if (slot === undefined) {
        atIndex.push({ prevTerm, entry });
      } else if (slot.prevTerm !== prevTerm || !sameEntry(slot.entry, entry)) {
        this.fail(
          'log matching',
          `${node} wrote a different entry (or a different predecessor) at index ${entry.index} term ${entry.term}`,
        );
      }
    }
  }

  /** One vote per term per node, across restarts: every durable hard state of a node agrees. */
  durableHardState(node: string, hs: HardState): void {
    if (hs.vote === '') return;
    let votes = this.votes.get(node);
    if (votes === undefined) this.votes.set(node, (votes = new Map()));
    const earlier = votes.get(hs.term);
    if (earlier === undefined) votes.set(hs.term, hs.vote);
    else if (earlier !== hs.vote)
      this.fail('one vote per term', `${node} voted for ${earlier} and then ${hs.vote} in term ${hs.term}`);
  }

  /**
   * After a restart: the node reads back at least the term and commit its driver was promised
   * durable, and its state machine replays up to that commit (nothing it applied and made durable
   * goes backwards).
   */
  checkRestart(node: string, disk: SimDisk, commit: number, appliedIndex: number): void {
    const promised = disk.promised;
    const read = disk.read().hardState;
    const what =
      read.term < promised.term
        ? `term ${read.term} < ${promised.term}`
        : commit < promised.commit
          ? `commit ${commit} < ${promised.commit}`
          : appliedIndex < promised.commit
            ? `applied ${appliedIndex} < ${promised.commit}`
            : undefined;
    if (what !== undefined)
      this.fail('no regress across restarts', `${node} restarted with ${what} (its last fsynced hard state)`);
  }

  /** Replicas at one applied index have equal state machines (digests, every STATE_HASH_EVERY_ENTRIES). */
  stateHash(node: string, appliedIndex: number, hash: number): void {
    const k = appliedIndex / STATE_HASH_EVERY_ENTRIES - 1;
    const first = this.stateHashes[k];
    if (first === undefined) {
      if (k === this.stateHashes.length) this.stateHashes.push({ node, hash });
      return;
    }
    if (first.hash !== hash)
      this.fail(
        'state machines equal',
        `${node}'s state machine at applied index ${appliedIndex} differs from ${first.node}'s (digest ${hash.toString(16)} vs ${first.hash.toString(16)})`,
      );
  }

  /**
   * Replicas at a snapshot index have equal state machines: a node that takes a snapshot, installs
   * one, or applies an entry at an index where a snapshot was taken compares its digest there.
   */
  snapshotHash(node: string, index: number, hash: number): void {
    const first = this.snapshotHashes.get(index);
    if (first === undefined) this.snapshotHashes.set(index, { node, hash });
    else if (first.hash !== hash)
      this.fail(
        'state machines equal',
        `${node}'s state machine at snapshot index ${index} differs from ${first.node}'s (digest ${hash.toString(16)} vs ${first.hash.toString(16)})`,
      );
  }

  /** Whether some node's digest at `index` is recorded (a snapshot was taken or installed there). */
  hasSnapshotHash(index: number): boolean {
    return this.snapshotHashes.has(index);
  }

  /** An installed snapshot must not move a node's state machine back (it would re-apply or lose writes). */
  installed(node: string, appliedBefore: number, snapshotIndex: number): void {
    if (snapshotIndex < appliedBefore)
      this.fail(
        'applied never goes backwards',
        `${node} installed a snapshot at index ${snapshotIndex} after applying up to ${appliedBefore}`,
      );
  }

  /** Called after every event on a node: one leader per term, monotonic commit, applied <= commit. */
  observe(node: string, role: Role, term: number, commit: number, appliedIndex: number): void {
    // One record per node (this runs after every event): term 0 never has a leader, so 0 = "none".
    let seen = this.nodes.get(node);
    if (seen === undefined) this.nodes.set(node, (seen = { commit: 0, leaderTerm: 0 }));
    if (commit > this.commitTerm.length)
      this.noteCommitTerm(role === 'leader' ? term : this.leaderTermMax, commit);
    if (role === 'leader') {
      if (term > this.leaderTermMax) this.leaderTermMax = term;
      const other = this.leaderOfTerm.get(term);
      if (other === undefined) this.leaderOfTerm.set(term, node);
      else if (other !== node)
        this.fail('election safety', `${other} and ${node} are both leader in term ${term}`);
      if (seen.leaderTerm !== term) {
        seen.leaderTerm = term;
        this.checkLeaderCompleteness(node, term);
      }
    }
    const before = seen.commit;
    if (commit < before)
      this.fail('monotonic commit', `${node} commit index went from ${before} to ${commit}`);
    seen.commit = commit;
    if (appliedIndex > commit)
      this.fail('applied within commit', `${node} applied ${appliedIndex} > commit ${commit}`);
  }

  /**
   * Indexes up to `commit` not covered before became committed in `term`. A leader's commit index
   * moves first (followers learn it from the leader), so the first node to cover an index is its
   * leader; the fallback (the highest leader term seen) errs late, which only skips checks.
   */
  private noteCommitTerm(term: number, commit: number): void {
    for (let i = this.commitTerm.length; i < commit; i++) this.commitTerm.push(term);
  }

  /** A restarted node may come back with a lower commit (it is not always synced); start over for it. */
  restarted(node: string): void {
    this.nodes.delete(node);
  }

  /** State machine safety: no two nodes apply different entries at one index. */
  applied(node: string, entry: Entry): void {
    const first = this.committed[entry.index - 1];
    if (first === undefined) {
      if (entry.index !== this.committed.length + 1) {
        this.fail(
          'state machine safety',
          `${node} applied index ${entry.index} before index ${this.committed.length + 1} was committed anywhere`,
        );
        return;
      }
      this.committed.push(entry);
      this.checkDurableOnMajority(node, entry);
    } else if (!sameEntry(first, entry)) {
      this.fail(
        'state machine safety',
        `${node} applied term ${entry.term} at index ${entry.index}, another node applied term ${first.term} there`,
      );
    }
  }

  private checkDurableOnMajority(node: string, entry: Entry): void {
    let copies = 0;
    const disks = this.diskList;
    for (let i = 0; i < disks.length; i++) {
      const disk = disks[i] as SimDisk;
      if (disk.entryAt(entry.index)?.term === entry.term || disk.covers(entry.index)) copies++;
    }
    if (copies < this.majority) {
      this.fail(
        'committed entries durable on a majority',
        `index ${entry.index} term ${entry.term} applied by ${node} is on ${copies} disks, majority is ${this.majority}`,
      );
    }
  }

  private checkLeaderCompleteness(node: string, term: number): void {
    const disk = this.disks.get(node);
    if (disk === undefined) return;
    for (let i = 0; i < this.committed.length; i++) {
      if (disk.covers(i + 1)) continue; // in its durable snapshot (whose digest was compared)
      const c = this.committed[i] as Entry;
      // Committed in this term or later (a late leader of an older term): not promised to it.
      const committedIn = this.commitTerm[i] ?? this.leaderTermMax;
      if (committedIn >= term) continue;
      if (disk.entryAt(i + 1)?.term !== c.term) {
        this.fail(
          'leader completeness',
          `${node} became leader of term ${term} without entry ${i + 1} (term ${c.term}), committed in term ${committedIn}`,
        );
        return;
      }
    }
  }
}
