// The check reads the stored history back one key at a time (so a long run's check holds one key in
// memory) and comes to the same verdict as checking the whole history at once.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../checker/check.js';
import { parseHistory } from '../checker/history.js';
import type { HistoryEvent } from '../checker/history-types.js';
import { checkByKey } from './history-keys.js';

const fixtures = join(import.meta.dirname, '..', 'checker', 'test', 'fixtures');

/** One process writing then reading three keys in turn: linearizable. */
function sequential(): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (let i = 0; i < 30; i++) {
    const key = `k${i % 3}`;
    const t = i * 10;
    events.push({ type: 'invoke', process: 0, f: 'put', key, value: `v${i}`, time: t });
    events.push({ type: 'ok', process: 0, f: 'put', key, value: `v${i}`, time: t + 1 });
    events.push({ type: 'invoke', process: 0, f: 'get', key, value: null, time: t + 2 });
    events.push({ type: 'ok', process: 0, f: 'get', key, value: `v${i}`, time: t + 3 });
  }
  return events;
}

describe('checkByKey', () => {
  it.each([
    [
      'stale-read.jsonl (illegal)',
      () => parseHistory(readFileSync(join(fixtures, 'stale-read.jsonl'), 'utf8')),
    ],
    ['sequential writes and reads (ok)', sequential],
  ])('%s: same verdict as one whole check, one key per call', async (_name, history) => {
    const dir = mkdtempSync(join(tmpdir(), 'by-key-'));
    // A second key and a nemesis event around it, so the split has something to do.
    const whole = history();
    const other = whole.map((e) =>
      'key' in e ? { ...e, key: `${e.key}-copy`, process: e.process + 1000 } : e,
    );
    const nemesis: HistoryEvent = {
      type: 'nemesis',
      phase: 'start',
      fault: 'kill',
      detail: 'kill n1',
      nodes: ['n1'],
      time: 0,
    };
    const events = [nemesis, ...whole, ...other];
    const path = join(dir, 'history.jsonl');
    writeFileSync(path, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const seen: string[][] = [];
    const keyed = await checkByKey(
      path,
      {
        check: async (keyEvents, options) => {
          seen.push([...new Set(keyEvents.map((e) => ('key' in e ? e.key : '')))]);
          return checkHistory(keyEvents, options);
        },
        writeCounterexampleViews: () => [],
      },
      10_000,
      () => dir,
    );
    const expected = checkHistory(events);
    expect(keyed.result.verdict).toBe(expected.verdict);
    expect(keyed.result.keys.map((k) => [k.key, k.verdict]).sort()).toEqual(
      expected.keys.map((k) => [k.key, k.verdict]).sort(),
    );
    expect(seen.every((keys) => keys.length === 1)).toBe(true);
    expect(keyed.events).toBe(events.filter((e) => e.type !== 'nemesis').length);
  });
});
