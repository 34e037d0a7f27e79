// Reading a history in any supported format, detected from its content when not given.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelName } from '../check.js';
import type { HistoryEvent } from '../history-types.js';
import { HistoryFormatError, lineOfEvent, parseHistory, validateSequence } from '../history.js';
import { parseJepsenEtcd } from './jepsen-etcd.js';
import { parsePorcupineKv } from './porcupine-kv.js';

export type HistoryFormat = 'raftlab' | 'jepsen-etcd' | 'porcupine-kv';
export const HISTORY_FORMATS: readonly HistoryFormat[] = ['raftlab', 'jepsen-etcd', 'porcupine-kv'];

export interface LoadedHistory {
  path: string;
  format: HistoryFormat;
  /** The model that fits the format (register for Jepsen etcd, absent = "" for Porcupine kv). */
  model: ModelName;
  events: HistoryEvent[];
}

const MODEL_OF: Record<HistoryFormat, ModelName> = {
  raftlab: 'kv',
  'jepsen-etcd': 'register',
  'porcupine-kv': 'kv-absent-empty',
};

/** The first non-blank line decides (`{"` raftlab JSON, `{:` EDN), else a Jepsen operation line near the top. */
export function detectFormat(text: string): HistoryFormat | undefined {
  const first = text
    .split('\n')
    .find((l) => l.trim() !== '')
    ?.trim();
  if (first === undefined) return 'raftlab';
  if (first.startsWith('{"')) return 'raftlab';
  if (/^\{\s*:/.test(first)) return 'porcupine-kv';
  // Jepsen logs may begin with other output: look for an operation line near the top.
  const top = text.split('\n', 50);
  if (top.some((l) => /^INFO\s+jepsen\.util\s+-\s+\d+\s+:/.test(l.trim()))) return 'jepsen-etcd';
  return undefined;
}

export function parseAny(text: string, format: HistoryFormat, source?: string): HistoryEvent[] {
  if (format === 'raftlab') return parseHistory(text, source);
  const events = format === 'jepsen-etcd' ? parseJepsenEtcd(text, source) : parsePorcupineKv(text, source);
  const problem = validateSequence(events);
  if (problem !== undefined) {
    // These readers emit one event per history line (non-blank; for Jepsen, jepsen.util lines).
    const lines = text.split('\n');
    const kept = format === 'jepsen-etcd' ? lines.map((l) => (/\bjepsen\.util\b/.test(l) ? l : '')) : lines;
    const line = lineOfEvent(kept, problem.index);
    throw new HistoryFormatError(line, problem.message, source);
  }
  return events;
}

/** A history file, or a run folder holding history.jsonl. Throws a clear Error when missing. */
export function loadHistory(path: string, format?: HistoryFormat): LoadedHistory {
  if (!existsSync(path)) throw new Error(`no such file or folder: ${path}`);
  const file = statSync(path).isDirectory() ? join(path, 'history.jsonl') : path;
  if (!existsSync(file)) throw new Error(`${path} is a folder without a history.jsonl`);
  const text = readFileSync(file, 'utf8');
  const detected = format ?? detectFormat(text);
  if (detected === undefined) {
    throw new Error(
      `${file}: cannot tell the format from the first line; pass --format raftlab|jepsen-etcd|porcupine-kv`,
    );
  }
  return { path: file, format: detected, model: MODEL_OF[detected], events: parseAny(text, detected, file) };
}
