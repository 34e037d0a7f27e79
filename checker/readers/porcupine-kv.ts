// Porcupine's kv histories (test_data/kv/*.txt): one EDN map per line with :process, :type,
// :f (get, put, append), :key and :value. Keys start as "" there, so they are checked with the
// 'kv-absent-empty' model. Times are the line order (the file is in real-time order).
import type { ClientEvent, ClientEventType, HistoryEvent, OpName } from '../history-types.js';
import { HistoryFormatError } from '../history.js';
import { parseEdnMap, type EdnValue } from './edn.js';

const TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);
const FS: ReadonlySet<string> = new Set(['get', 'put', 'append', 'delete']);

export function parsePorcupineKv(text: string, source?: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const event = toEvent(line, i);
    if (typeof event === 'string') throw new HistoryFormatError(i + 1, event, source);
    events.push(event);
  }
  return events;
}

function keyword(v: EdnValue | undefined): string | undefined {
  return v !== null && typeof v === 'object' ? v.keyword : undefined;
}

function toEvent(line: string, index: number): ClientEvent | string {
  const map = parseEdnMap(line);
  if (typeof map === 'string') return map;
  const process = map.get('process');
  const type = keyword(map.get('type'));
  const f = keyword(map.get('f'));
  const key = map.get('key');
  const value = map.get('value');
  if (typeof process !== 'number') return ':process must be a number';
  if (type === undefined || !TYPES.has(type)) return ':type must be :invoke, :ok, :fail or :info';
  if (f === undefined || !FS.has(f)) return ':f must be :get, :put, :append or :delete';
  if (typeof key !== 'string') return ':key must be a string';
  if (value !== null && value !== undefined && typeof value !== 'string')
    return ':value must be a string or nil';
  const written = f === 'put' || f === 'append';
  if (written && typeof value !== 'string') return `a ${f} needs a string :value`;
  const event: ClientEvent = {
    type: type as ClientEventType,
    process,
    f: f as OpName,
    key,
    value: f === 'get' && type === 'invoke' ? null : (value ?? null),
    time: index,
  };
  return event;
}
