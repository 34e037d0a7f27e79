// Jepsen etcd logs (test_data/jepsen/etcd_NNN.log): one compare-and-set register.
//   INFO  jepsen.util - 2	:invoke	:cas	[3 0]
// read -> get, write -> put, cas [from to] -> cas, all on the key "register". `:fail :cas` means
// the compare did not match (recorded as CAS_MISMATCH, which the checker treats as an observation);
// `:info ... :timed-out` is indeterminate; `:fail :read :timed-out` did nothing. Times are the
// line order. Lines without `jepsen.util` are other log output and are skipped.
import type {
  CasValue,
  ClientEvent,
  ClientEventType,
  EventValue,
  HistoryEvent,
  OpName,
} from '../history-types.js';
import { HistoryFormatError } from '../history.js';

const LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s*(.*)$/;
const OPS: Record<string, OpName> = { read: 'get', write: 'put', cas: 'cas' };
export const REGISTER_KEY = 'register';

export function parseJepsenEtcd(text: string, source?: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const invoked = new Map<number, EventValue>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    // Jepsen logs interleave other output; only jepsen.util operation lines are history.
    if (line === '' || !/\bjepsen\.util\b/.test(line)) continue;
    const m = LINE.exec(line);
    if (m === null)
      throw new HistoryFormatError(i + 1, `not a jepsen.util operation line: ${line.slice(0, 60)}`, source);
    const process = Number(m[1]);
    if (!Number.isSafeInteger(process))
      throw new HistoryFormatError(i + 1, `process ${m[1]} is too large to read exactly`, source);
    const type = m[2] as ClientEventType;
    const f = OPS[m[3]!]!;
    const raw = m[4]!.trim();
    const value =
      type === 'invoke' || (type === 'ok' && f === 'get') ? parseValue(f, raw) : invoked.get(process);
    if (typeof value === 'string' && value.startsWith('!'))
      throw new HistoryFormatError(i + 1, value.slice(1), source);
    if (type === 'invoke') invoked.set(process, value ?? null);
    const event: { -readonly [K in keyof ClientEvent]: ClientEvent[K] } = {
      type,
      process,
      f,
      key: REGISTER_KEY,
      value: value ?? null,
      time: i,
    };
    if (type === 'info' || (type === 'fail' && raw === ':timed-out')) event.error = 'TIMEOUT';
    else if (type === 'fail' && f === 'cas') event.error = 'CAS_MISMATCH';
    else if (type === 'fail') event.error = 'FAILED';
    events.push(event);
  }
  if (events.length === 0) {
    // Another format given as jepsen-etcd would otherwise read as an empty (and "ok") history.
    const first = lines.findIndex((l) => l.trim() !== '');
    if (first >= 0)
      throw new HistoryFormatError(
        first + 1,
        `no jepsen.util operation line in the file; this one is not: ${JSON.stringify(lines[first]!.trim().slice(0, 60))}`,
        source,
      );
  }
  return events;
}

/** nil, a number, or [from to]; '!'-prefixed text describes a problem. */
function parseValue(f: OpName, raw: string): EventValue {
  if (f === 'get') {
    if (raw === 'nil' || raw === '') return null;
    return /^-?\d+$/.test(raw) ? raw : `!a read returns a number or nil, not ${JSON.stringify(raw)}`;
  }
  if (f === 'put') return /^-?\d+$/.test(raw) ? raw : `!a write needs a number, not ${JSON.stringify(raw)}`;
  const m = /^\[\s*(-?\d+|nil)\s+(-?\d+)\s*\]$/.exec(raw);
  if (m === null) return `!a cas needs [from to], not ${JSON.stringify(raw)}`;
  const cas: CasValue = { expected: m[1] === 'nil' ? null : m[1]!, new: m[2]! };
  return cas;
}
