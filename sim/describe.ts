// One-line descriptions of messages and requests for the trace.
import type { KvOp } from '../server/kv/command.js';
import type { KvResult } from '../server/kv/state-machine.js';
import type { Message } from '../server/raft/types.js';

const td = new TextDecoder();

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} prev ${m.prevLogIndex}/${m.prevLogTerm} entries ${m.entries.length} commit ${m.commit}`;
    case 'append-response':
      return `${head} ${m.success ? `ok match ${m.matchIndex}` : `reject ${m.rejectIndex} hint ${m.hintIndex}/${m.hintTerm}${m.logLost ? ' log-lost' : ''}`}`;
    case 'vote':
      return `${head}${m.preVote ? ' pre' : ''} last ${m.lastLogIndex}/${m.lastLogTerm}`;
    case 'vote-response':
      return `${head}${m.preVote ? ' pre' : ''} ${m.granted ? 'granted' : 'rejected'}`;
    case 'heartbeat':
      return `${head} commit ${m.commit}`;
    case 'heartbeat-response':
      return head;
  }
}

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
    return `${r.error.code}${r.error.leaderHint !== undefined ? ` (leader ${r.error.leaderHint})` : ''}`;
  const parts = ['ok'];
  if (r.found !== undefined) parts.push(r.found ? 'found' : 'absent');
  if (r.value !== undefined) parts.push(JSON.stringify(td.decode(r.value)));
  return parts.join(' ');
}
