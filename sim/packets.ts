// What travels on the simulated network: Raft messages between nodes, and client requests and
// responses between simulated clients and nodes (plain objects; the wire codec is tested elsewhere).
import type { KvOp } from '../server/kv/command.js';
import type { KvResult } from '../server/kv/state-machine.js';
import type { Message } from '../server/raft/types.js';

export interface ClientRequest {
  readonly kind: 'request';
  readonly from: string; // client endpoint, e.g. "c3"
  readonly to: string; // node id
  /** Unique per attempt across the run. */
  readonly requestId: number;
  readonly clientId: number;
  readonly sequence: number;
  readonly ackedSequence: number;
  readonly op: KvOp;
}

export interface ClientResponse {
  readonly kind: 'response';
  readonly from: string;
  readonly to: string;
  readonly requestId: number;
  readonly result: KvResult;
}

export interface RaftPacket {
  readonly kind: 'raft';
  readonly message: Message;
}

export type Packet = ClientRequest | ClientResponse | RaftPacket;
