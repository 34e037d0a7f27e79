// Recording history.jsonl: nothing is written on the hot path (the event loop that times the
// operations never waits for the disk), every event lands whole and in order, and the buffer is
// bounded (a disk that stalls fails the run with a typed error instead of growing memory).
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHistory } from '../checker/history.js';
import type { ClientEvent } from '../checker/history-types.js';
import { HISTORY_BUFFER_BYTES_MAX, HistoryBufferFullError, HistoryFileWriter, Recorder } from './recorder.js';

function event(i: number): ClientEvent {
  return { type: 'invoke', process: i, f: 'put', key: `k${i % 7}`, value: `v${i}`, time: i };
}

describe('HistoryFileWriter', () => {
  it('writes nothing while events are recorded, then every event in order by close', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'recorder-')), 'history.jsonl');
    const writer = new HistoryFileWriter(path);
    const recorder = new Recorder(writer, () => 0);
    // More than one flush's worth, so several writes queue behind each other.
    for (let i = 0; i < 5000; i++) recorder.record(event(i));
    expect(statSync(path).size).toBe(0); // no write(2) happened on the caller's turn
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (let i = 5000; i < 6000; i++) recorder.record(event(i));
    await writer.close();
    const events = parseHistory(readFileSync(path, 'utf8'));
    expect(events.map((e) => e.time)).toEqual(Array.from({ length: 6000 }, (_, i) => i));
    expect(writer.count).toBe(6000);
  });

  it('keeps the node that served each completion through write and read (an optional field)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'recorder-')), 'history.jsonl');
    const writer = new HistoryFileWriter(path);
    const recorder = new Recorder(writer, () => 0);
    const events: ClientEvent[] = [
      { type: 'invoke', process: 0, f: 'get', key: 'k', value: null, time: 1 },
      { type: 'ok', process: 0, f: 'get', key: 'k', value: 'v', time: 2, node: 'n3' },
      { type: 'invoke', process: 1, f: 'put', key: 'k', value: 'w', time: 3 },
      { type: 'fail', process: 1, f: 'put', key: 'k', value: 'w', time: 4, error: 'NOT_LEADER', node: 'n2' },
      { type: 'invoke', process: 2, f: 'put', key: 'k', value: 'x', time: 5 },
      { type: 'ok', process: 2, f: 'put', key: 'k', value: 'x', time: 6 }, // a history without nodes stays valid
    ];
    for (const e of events) recorder.record(e);
    await writer.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('"error":"NOT_LEADER","node":"n2"');
    expect(parseHistory(text)).toEqual(events);
    expect(() => parseHistory(text.replace('"node":"n3"', '"node":3'))).toThrow(/"node" must be a string/);
  });

  it('rejects an event with a typed error once the disk is HISTORY_BUFFER_BYTES_MAX behind', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'recorder-')), 'history.jsonl');
    const writer = new HistoryFileWriter(path);
    const big = 'x'.repeat(64 * 1024);
    let appended = 0;
    // Without yielding, no write can finish: the buffer only grows, up to its limit.
    const fill = () => {
      for (;;) {
        writer.append({ ...event(appended), value: big });
        appended += 1;
      }
    };
    expect(fill).toThrow(HistoryBufferFullError);
    expect(appended * big.length).toBeLessThanOrEqual(HISTORY_BUFFER_BYTES_MAX);
    expect(appended * big.length).toBeGreaterThan(HISTORY_BUFFER_BYTES_MAX - 2 * big.length);
    await writer.close();
    expect(parseHistory(readFileSync(path, 'utf8'))).toHaveLength(appended);
  });
});
