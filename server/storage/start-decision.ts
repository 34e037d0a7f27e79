// The lost-disk guard's start decision, pure (the simulator uses it too). A data directory with
// MEMBER but an empty log lost its log (a wiped wal/, a replaced disk): starting it as a fresh node
// would let it vote with an empty log and forget the votes it gave, so the server refuses unless the
// operator passes --rejoin-after-data-loss, which starts the node in recovery (no votes until
// caught up). A directory wiped whole, MEMBER included, looks brand new: only the operator can say
// otherwise.
import { DataDirMismatchError, WalLostError } from './errors.js';

export interface MemberIdentity {
  readonly node: string;
  /** The sorted member ids, as the peer transport's cluster id. */
  readonly cluster: string;
}

export interface StartInput {
  readonly dir: string;
  readonly identity: MemberIdentity;
  /** The MEMBER file found, if any. */
  readonly member: MemberIdentity | undefined;
  /** The WAL replayed no entry and no hard state. */
  readonly walEmpty: boolean;
  /** --rejoin-after-data-loss: the operator says this node lost its data. */
  readonly rejoin: boolean;
  /** False only under the unsafe variant no-lost-state-guard. */
  readonly guard: boolean;
}

export interface StartDecision {
  /** Start the Raft core in recovery (RaftConfig.recovering). */
  readonly recovering: boolean;
  /**
   * Write MEMBER now (the log predates it, or the operator says this is a member), after the first
   * WAL sync and before the first save resolves (a fresh node), or not at all (it exists).
   */
  readonly writeMember: 'now' | 'after-first-sync' | 'no';
  readonly warnings: readonly string[];
}

/** How a node may start on this data directory; throws WalLostError or DataDirMismatchError. */
export function decideStart(input: StartInput): StartDecision {
  const { dir, identity, member, walEmpty, rejoin } = input;
  if (member !== undefined && member.node !== identity.node)
    throw new DataDirMismatchError(
      dir,
      `its MEMBER file says it belongs to node ${member.node} (cluster ${member.cluster}), not to ${identity.node}`,
    );
  const warnings: string[] = [];
  if (rejoin)
    warnings.push(
      `${identity.node} rejoins after data loss (--rejoin-after-data-loss): it will not vote or campaign until it has caught up with the leader`,
    );
  if (member !== undefined && walEmpty && !rejoin) {
    if (input.guard) throw new WalLostError(dir, identity.node);
    warnings.push(`UNSAFE no-lost-state-guard: ${identity.node} lost its log and starts as a fresh node`);
  }
  const writeMember = member !== undefined ? 'no' : walEmpty && !rejoin ? 'after-first-sync' : 'now';
  return { recovering: rejoin, writeMember, warnings };
}
