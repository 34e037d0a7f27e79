// One-line descriptions of Raft messages for debug logs.
import type { Message } from '../raft/types.js';

export function describeMessage(m: Message): string {
  const head = `${m.type} ${m.from}->${m.to} term ${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} prev ${m.prevLogIndex}/${m.prevLogTerm} entries ${m.entries.length} commit ${m.commit}`;
    case 'append-response':
      return m.success
        ? `${head} ok match ${m.matchIndex}`
        : `${head} reject ${m.rejectIndex} hint ${m.hintIndex}/${m.hintTerm}${m.logLost ? ' log lost' : ''}`;
    case 'vote':
      return `${head}${m.preVote ? ' pre-vote' : ''} last ${m.lastLogIndex}/${m.lastLogTerm}`;
    case 'vote-response':
      return `${head}${m.preVote ? ' pre-vote' : ''} ${m.granted ? 'granted' : 'rejected'}`;
    case 'heartbeat':
      return `${head} commit ${m.commit}`;
    case 'heartbeat-response':
      return head;
    case 'snapshot':
      return `${head} snapshot ${m.metaIndex}/${m.metaTerm} bytes ${m.offset}+${m.data.length} of ${m.totalBytes}${m.done ? ' done' : ''}`;
    case 'snapshot-response':
      return `${head} snapshot ${m.snapshotIndex} ${m.rejected ? 'rejected' : `next ${m.nextOffset}`}`;
  }
}
