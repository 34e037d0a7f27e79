// The lost-state guard. A node that lost entries (or votes) it had acknowledged is a danger to
// safety: a committed entry may now be on fewer than a majority of disks, and the node may vote for
// a candidate that lacks it, which then wins and overwrites it. So while it recovers the node
// neither votes nor campaigns. It recovers once it has committed, on a leader's word, an index at
// least as high as every commit index it heard of since, holding an entry of its current term: a
// leader that has committed an entry of its own term has every entry committed before that term in
// its log, at or below its commit index (§5.4), so the node's log now holds them too.
//
// `index` is durable (HardState.recoveryIndex): a node that crashes half-way through catching up
// must not come back as a voter. 0 = not recovering; 1 = recovering, nothing heard yet.

export class RecoveryGuard {
  constructor(public index: number) {}

  get active(): boolean {
    return this.index > 0;
  }

  /** Starts (or extends) recovery: never vote before committing `commit`. Returns true if newly started. */
  enter(commit: number): boolean {
    const started = this.index === 0;
    this.index = Math.max(this.index, commit, 1);
    return started;
  }

  /** A leader said its commit index is `commit`: the target moves up to it. */
  heard(commit: number): void {
    if (this.index > 0 && commit > this.index) this.index = commit;
  }

  /**
   * Ends recovery once `committed` reaches the target with an entry of the current term (see the
   * file comment); returns true when it ended now.
   */
  maybeEnd(committed: number, committedTerm: number | undefined, term: number): boolean {
    if (this.index === 0 || committed < this.index || committedTerm !== term) return false;
    this.index = 0;
    return true;
  }
}
