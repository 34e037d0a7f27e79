// Reads a run's history.jsonl. The checker's readHistory (checker/history.ts) is the canonical
// reader; this one is deliberately tolerant instead: a report of a run still in progress (or one
// that crashed mid-write) must still render, so a torn or bad line is counted and skipped, not fatal.
import { readFile } from 'node:fs/promises';
import type { HistoryEvent } from '../../checker/history-types.js';

export interface LoadedHistory {
  events: HistoryEvent[];
  /** Lines that were not a valid event (torn last line of a live run, garbage). */
  badLines: number[];
}

export function parseHistoryTolerant(text: string): LoadedHistory {
  const events: HistoryEvent[] = [];
  const badLines: number[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      const value: unknown = JSON.parse(line);
      if (isHistoryEvent(value)) events.push(value);
      else badLines.push(index + 1);
    } catch {
      badLines.push(index + 1);
    }
  });
  return { events, badLines };
}

function isHistoryEvent(value: unknown): value is HistoryEvent {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  if (typeof record.time !== 'number') return false;
  if (record.type === 'nemesis') return typeof record.phase === 'string' && typeof record.fault === 'string';
  return (
    ['invoke', 'ok', 'fail', 'info'].includes(String(record.type)) &&
    typeof record.process === 'number' &&
    typeof record.f === 'string' &&
    typeof record.key === 'string'
  );
}

export async function loadHistoryFile(path: string): Promise<LoadedHistory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], badLines: [] };
    throw error;
  }
  return parseHistoryTolerant(text);
}
