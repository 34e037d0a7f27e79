// Client requests to driver calls and driver outcomes to client responses. Writes become KV
// commands (with the client's session fields) proposed to the log; gets are linearizable reads
// through ReadIndex; status is answered locally.
import type {
  ClientOp,
  ClientRequest,
  ClientResponse,
  ClientResult,
  SnapshotResult,
  StatusResult,
} from '../proto/codec.js';
import type { KvOp } from './kv/command.js';
import type { Driver } from './driver/driver.js';
import type { Outcome } from './node/pending.js';

const EMPTY = new Uint8Array(0);

export function handleClientRequest(
  driver: Driver,
  status: () => StatusResult,
  request: ClientRequest,
  reply: (response: ClientResponse) => void,
): void {
  const { op, requestId } = request;
  if (op.type === 'status') return reply({ requestId, result: { type: 'status', status: status() } });
  if (op.type === 'snapshot')
    return reply({ requestId, result: { type: 'snapshot', snapshot: snapshotNow(driver) } });
  const answer = (outcome: Outcome): void => reply(toResponse(requestId, op, outcome));
  if (op.type === 'get') return driver.submitRead(op.key, answer);
  const kvOp = toKvOp(op);
  const command = {
    clientId: request.clientId,
    sequence: request.sequence,
    ackedSequence: request.ackedSequence,
    op: kvOp,
  };
  const invalid = sessionProblem(request);
  if (invalid) return reply({ requestId, error: { code: 'BAD_REQUEST', message: invalid, definite: true } });
  driver.submitWrite(command, answer);
}

function sessionProblem(r: ClientRequest): string | undefined {
  if (r.clientId !== 0 && r.sequence === 0) return 'a write with a client id needs a sequence number';
  if (r.ackedSequence >= r.sequence && r.sequence !== 0)
    return `acked sequence ${r.ackedSequence} must be below the sequence ${r.sequence}`;
  return undefined;
}

/** Admin: the node snapshots its state machine now (durable later; status shows when). */
function snapshotNow(driver: Driver): SnapshotResult {
  const snapshotIndex = driver.snapshotIndex;
  const started = driver.takeSnapshot();
  return { started, appliedIndex: driver.status().applied, snapshotIndex };
}

function toKvOp(op: Exclude<ClientOp, { type: 'status' } | { type: 'snapshot' } | { type: 'get' }>): KvOp {
  switch (op.type) {
    case 'put':
      return { type: 'put', key: op.key, value: op.value };
    case 'delete':
      return { type: 'delete', key: op.key };
    case 'cas':
      return { type: 'cas', key: op.key, expected: op.expected, value: op.value };
    case 'append':
      return { type: 'append', key: op.key, value: op.value };
  }
}

function toResponse(requestId: number, op: ClientOp, outcome: Outcome): ClientResponse {
  if (!outcome.ok) return { requestId, error: outcome.error };
  return { requestId, result: toResult(op, outcome) };
}

function toResult(op: ClientOp, outcome: Extract<Outcome, { ok: true }>): ClientResult {
  switch (op.type) {
    case 'get':
      return { type: 'get', found: outcome.found ?? false, value: outcome.value ?? EMPTY };
    case 'put':
      return { type: 'put' };
    case 'delete':
      return { type: 'delete', existed: outcome.existed ?? false };
    case 'cas':
      return { type: 'cas' };
    case 'append':
      return { type: 'append', value: outcome.value ?? EMPTY };
    case 'status':
    case 'snapshot':
      throw new Error(`assertion failed: ${op.type} is answered locally`);
  }
}
