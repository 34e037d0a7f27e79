// The one reader and writer of the raftlab history format (JSON Lines; docs/history-format.md).
// The simulator, the lab and the checker all use this module, so a history written by one is read
// the same way by the others.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type {
  CasValue,
  ClientEvent,
  ClientEventType,
  EventValue,
  HistoryEvent,
  NemesisEvent,
  OpName,
} from './history-types.js';

/** Bad input in a history, naming the 1-based line it was found on. */
export class HistoryFormatError extends Error {
  readonly line: number;
  constructor(line: number, message: string, source?: string) {
    super(`${source === undefined ? '' : `${source}: `}line ${line}: ${message}`);
    this.name = 'HistoryFormatError';
    this.line = line;
  }
}

/**
 * Appends events to a history file as they happen, one complete line per write(2) on a file
 * opened for appending, so a reader (or a crash) never sees half an event and a run that dies
 * keeps every event written before it died.
 */
export class HistoryWriter {
  private fd: number | undefined;
  private eventsWritten = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  append(event: HistoryEvent): void {
    if (this.fd === undefined) throw new Error(`history ${this.path} is closed`);
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
    this.eventsWritten++;
  }

  get count(): number {
    return this.eventsWritten;
  }

  /** Flushes to disk and closes; closing twice is harmless. */
  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}

export function readHistory(path: string): HistoryEvent[] {
  return parseHistory(readFileSync(path, 'utf8'), path);
}

const CLIENT_TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);
const OP_NAMES: ReadonlySet<string> = new Set(['get', 'put', 'delete', 'cas', 'append']);

/** Parses JSON Lines text; blank lines are skipped. Throws HistoryFormatError naming the line. */
export function parseHistory(text: string, source?: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      const hint = i === lines.length - 1 ? ' (a truncated last line?)' : '';
      throw new HistoryFormatError(i + 1, `not valid JSON${hint}: ${clip(line)}`, source);
    }
    const result = toEvent(raw);
    if (typeof result === 'string') throw new HistoryFormatError(i + 1, result, source);
    events.push(result);
  }
  const problem = validateSequence(events);
  if (problem !== undefined) {
    throw new HistoryFormatError(lineOfEvent(lines, problem.index), problem.message, source);
  }
  return events;
}

/** The 1-based line of the n-th event, counting non-blank lines. */
export function lineOfEvent(lines: readonly string[], eventIndex: number): number {
  let seen = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '') seen++;
    if (seen === eventIndex) return i + 1;
  }
  return lines.length;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

type Fields = Record<string, unknown>;

export const UNSAFE_TIME =
  '"time" is above 2^53 - 1 nanoseconds, where JSON numbers lose precision; record times relative to the start of the run';

function toEvent(raw: unknown): HistoryEvent | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'an event must be a JSON object';
  const o = raw as Fields;
  if (typeof o.time !== 'number' || !Number.isFinite(o.time) || o.time < 0) {
    return '"time" must be a non-negative number of nanoseconds';
  }
  // JSON numbers are doubles: past 2^53 two different times can read as one, and a stale read
  // can then look concurrent. Refuse rather than round.
  if (o.time > Number.MAX_SAFE_INTEGER) return UNSAFE_TIME;
  if (o.type === 'nemesis') return toNemesis(o);
  if (typeof o.type !== 'string' || !CLIENT_TYPES.has(o.type)) {
    return `unknown event type ${JSON.stringify(o.type)} (expected invoke, ok, fail, info or nemesis)`;
  }
  return toClient(o);
}

function toNemesis(o: Fields): NemesisEvent | string {
  if (o.phase !== 'start' && o.phase !== 'stop') return 'a nemesis event needs "phase": "start" or "stop"';
  if (typeof o.fault !== 'string') return 'a nemesis event needs a "fault" string';
  const nodes = o.nodes ?? [];
  if (!Array.isArray(nodes) || !nodes.every((n) => typeof n === 'string')) {
    return '"nodes" must be an array of node names';
  }
  const detail = typeof o.detail === 'string' ? o.detail : '';
  return { type: 'nemesis', phase: o.phase, fault: o.fault, detail, nodes, time: o.time as number };
}

function toClient(o: Fields): ClientEvent | string {
  if (typeof o.process !== 'number' || !Number.isSafeInteger(o.process))
    return '"process" must be an integer (at most 2^53 - 1)';
  if (typeof o.f !== 'string' || !OP_NAMES.has(o.f)) {
    return `unknown operation ${JSON.stringify(o.f)} (expected get, put, delete, cas or append)`;
  }
  if (typeof o.key !== 'string') return '"key" must be a string';
  const f = o.f as OpName;
  const value = toValue(f, o.type as ClientEventType, o.value);
  if (typeof value === 'string' && value.startsWith('!')) return value.slice(1);
  const event: {
    -readonly [K in keyof ClientEvent]: ClientEvent[K];
  } = { type: o.type as ClientEventType, process: o.process, f, key: o.key, value, time: o.time as number };
  for (const name of ['error', 'result', 'node'] as const) {
    const field = o[name];
    if (field === undefined) continue;
    if (typeof field !== 'string') return `"${name}" must be a string`;
    event[name] = field;
  }
  return event;
}

/** The value, or a string starting with '!' describing what is wrong with it. */
function toValue(f: OpName, type: ClientEventType, value: unknown): EventValue | string {
  if (value === undefined || value === null) {
    if (f === 'put' || f === 'append') return `!a ${f} needs a string "value"`;
    if (f === 'cas') return '!a cas needs "value": {"expected": string|null, "new": string}';
    return null;
  }
  if (f === 'cas') {
    const v = value as Partial<CasValue>;
    if (
      typeof value !== 'object' ||
      typeof v.new !== 'string' ||
      !(v.expected === null || typeof v.expected === 'string')
    ) {
      return '!a cas needs "value": {"expected": string|null, "new": string}';
    }
    return { expected: v.expected, new: v.new };
  }
  if (typeof value !== 'string') return `!the value of a ${f} must be a string or null`;
  if (f === 'delete' || (f === 'get' && type === 'invoke')) return null;
  return value;
}

/**
 * Checks the Jepsen rules across events: one operation at a time per process, a completion
 * matches a pending invocation of the same operation, and a process never acts again after an
 * `info` (its operation may still be in flight, so a new process id must take over).
 */
export function validateSequence(
  events: readonly HistoryEvent[],
): { index: number; message: string } | undefined {
  const pending = new Map<number, ClientEvent>();
  const retired = new Set<number>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === 'nemesis') continue;
    if (retired.has(e.process)) {
      return {
        index: i,
        message: `process ${e.process} acts after its "info" (a new process id must take over)`,
      };
    }
    const open = pending.get(e.process);
    if (e.type === 'invoke') {
      if (open !== undefined) {
        return {
          index: i,
          message: `process ${e.process} invokes ${e.f} while its ${open.f} is still pending`,
        };
      }
      pending.set(e.process, e);
      continue;
    }
    if (open === undefined) {
      return {
        index: i,
        message: `a completion (${e.type} ${e.f}) by process ${e.process} without an invocation`,
      };
    }
    if (open.f !== e.f || open.key !== e.key) {
      return {
        index: i,
        message: `process ${e.process} completes ${e.f} ${JSON.stringify(e.key)} but invoked ${open.f} ${JSON.stringify(open.key)}`,
      };
    }
    if (e.time < open.time)
      return { index: i, message: `process ${e.process}'s completion is earlier than its invocation` };
    pending.delete(e.process);
    if (e.type === 'info') retired.add(e.process);
  }
  return undefined;
}
