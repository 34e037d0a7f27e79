// The replicated state machine as the node shell sees it, and the adapter for the KV state machine.
// The simulator supplies its own adapter over the same KvStateMachine (it decodes each command once
// for all replicas and keeps checkpoints for fast restarts).
import type { ErrorInfo } from '../../shared/errors.js';
import type { KvOp } from '../kv/command.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { Entry } from '../raft/types.js';
import type { Outcome } from './pending.js';

export interface ShellMachine {
  validate(op: KvOp): ErrorInfo | undefined;
  /** Applies one committed entry of any type; the outcome answers the write proposed at its index. */
  apply(entry: Entry): Outcome;
  read(key: Uint8Array): Outcome;
  /** The whole state as bytes (KvStateMachine.snapshot()), at the applied index. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's image taken at `appliedIndex`. */
  restore(data: Uint8Array, appliedIndex: number): void;
}

/** What a no-op or configuration entry "returns": nobody proposed it as a client write. */
export const APPLIED_WITHOUT_EFFECT: Outcome = { ok: true };

export function kvMachine(kv: KvStateMachine): ShellMachine {
  return {
    validate: (op) => kv.validate(op),
    apply: (entry) => (entry.type === 'normal' ? kv.apply(entry.index, entry.data) : APPLIED_WITHOUT_EFFECT),
    read: (key) => kv.read(key),
    snapshot: () => kv.snapshot(),
    restore: (data, appliedIndex) => kv.restore(data, appliedIndex),
  };
}
