// The check of a stored history one key at a time, so checking a long run holds one key's events
// in memory, not the whole history: the file is split into one file per key (streamed, in bounded
// batches), then each key is read back, checked through the checker's public API, and the results
// combined. Keys are independent (the checker partitions by key anyway), so the verdict is the same.
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { combine, readHistory, type CheckResult, type KeyResult } from '../checker/index.js';
import type { LabDeps } from './lab-deps.js';

/** Lines held before they are appended to their keys' files. */
const SPLIT_BUFFER_BYTES_MAX = 4 * 1024 * 1024;

/** Splits history.jsonl's client events by key into files under `dir`; returns key -> file, in order of first appearance. */
export async function splitByKey(historyPath: string, dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const buffered = new Map<string, string[]>();
  let bytes = 0;
  const flush = () => {
    for (const [key, lines] of buffered) writeFileSync(files.get(key) ?? '', lines.join(''), { flag: 'a' });
    buffered.clear();
    bytes = 0;
  };
  const lines = createInterface({ input: createReadStream(historyPath), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const key = (JSON.parse(line) as { key?: unknown }).key;
    if (typeof key !== 'string') continue; // nemesis events: the checker ignores them
    if (!files.has(key)) files.set(key, join(dir, `${files.size}.jsonl`));
    const list = buffered.get(key) ?? [];
    list.push(`${line}\n`);
    buffered.set(key, list);
    bytes += line.length + 1;
    if (bytes >= SPLIT_BUFFER_BYTES_MAX) flush();
  }
  flush();
  return files;
}

export interface KeyedCheck {
  result: CheckResult;
  /** Counterexample views written, one per illegal key that has one. */
  views: string[];
  events: number;
}

/**
 * Checks the history file key by key within one overall time limit (a key checked after it ran out
 * is unknown, as in one big check), writing each illegal key's view into viewDir.
 */
export async function checkByKey(
  historyPath: string,
  deps: Pick<LabDeps, 'check' | 'writeCounterexampleViews'>,
  timeLimitMs: number,
  viewDir: () => string,
): Promise<KeyedCheck> {
  const started = performance.now();
  const scratch = mkdtempSync(join(tmpdir(), 'raftlab-keys-'));
  const keys: KeyResult[] = [];
  const views: string[] = [];
  let operations = 0;
  let events = 0;
  let memoryBytesPeak = 0;
  let model: CheckResult['model'] = 'kv';
  try {
    for (const file of (await splitByKey(historyPath, scratch)).values()) {
      const keyEvents = readHistory(file);
      events += keyEvents.length;
      const remainingMs = Math.max(1, timeLimitMs - (performance.now() - started));
      const result = await deps.check(keyEvents, { timeLimitMs: remainingMs });
      keys.push(...result.keys);
      operations += result.operations;
      memoryBytesPeak = Math.max(memoryBytesPeak, result.memoryBytesPeak);
      model = result.model;
      if (result.verdict !== 'ok') views.push(...deps.writeCounterexampleViews(keyEvents, result, viewDir()));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const verdict = combine(keys.map((key) => key.verdict));
  return {
    result: { verdict, keys, elapsedMs: performance.now() - started, model, operations, memoryBytesPeak },
    views,
    events,
  };
}
