// One-line descriptions of client requests and results for the trace (Raft messages are described
// as in the server's debug log, by server/node/describe.ts).
import type { KvOp } from '../server/kv/command.js';
import type { KvResult } from '../server/kv/state-machine.js';

const td = new TextDecoder();

export function describeOp(op: KvOp): string {
  const key = td.decode(op.key);
  switch (op.type) {
    case 'get':
    case 'delete':
      return `${op.type} ${key}`;
    case 'put':
    case 'append':
      return `${op.type} ${key} ${JSON.stringify(td.decode(op.value))}`;
    case 'cas':
      return `cas ${key} ${op.expected === null ? 'absent' : JSON.stringify(td.decode(op.expected))} -> ${JSON.stringify(td.decode(op.value))}`;
  }
}

export function describeResult(r: KvResult): string {
  if (!r.ok)
    return `${r.error.code}${r.error.definite ? '' : ' indeterminate'}${r.error.leaderHint !== undefined ? ` (leader ${r.error.leaderHint})` : ''}`;
  const parts = ['ok'];
  if (r.found !== undefined) parts.push(r.found ? 'found' : 'absent');
  if (r.value !== undefined) parts.push(JSON.stringify(td.decode(r.value)));
  return parts.join(' ');
}
