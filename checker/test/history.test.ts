// The history format's reader and writer, and the other formats' readers: bad input names its line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryFormatError, HistoryWriter, parseHistory, readHistory } from '../history.js';
import type { HistoryEvent } from '../history-types.js';
import { detectFormat, loadHistory, parseAny } from '../readers/index.js';
import { nemesis, op } from './build.js';

const dir = mkdtempSync(join(tmpdir(), 'raftlab-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (...events: unknown[]) => events.map((e) => JSON.stringify(e)).join('\n');
const put = (type: string, process = 0, time = 1) => ({
  type,
  process,
  f: 'put',
  key: 'k',
  value: 'v',
  time,
});

function errorOf(run: () => unknown): HistoryFormatError {
  try {
    run();
  } catch (error) {
    if (error instanceof HistoryFormatError) return error;
    throw error;
  }
  throw new Error('expected a HistoryFormatError');
}

describe('HistoryWriter and readHistory', () => {
  it('round-trips every event type, appending line by line', () => {
    const path = join(dir, 'round-trip.jsonl');
    const events: HistoryEvent[] = [
      nemesis('start', 0, 'partition', ['n1', 'n2']),
      ...op({ process: 0, f: 'put', value: 'a', call: 1, ret: 2 }),
      ...op({
        process: 1,
        f: 'cas',
        value: [null, 'b'],
        call: 3,
        ret: 4,
        type: 'fail',
        error: 'CAS_MISMATCH',
      }),
      ...op({ process: 2, f: 'append', value: 'c', call: 5, ret: 6, result: 'ac' }),
      ...op({ process: 3, f: 'delete', call: 7, ret: 8, type: 'info', error: 'TIMEOUT' }),
      ...op({ process: 4, f: 'get', value: 'a', call: 9, ret: 10 }),
      nemesis('stop', 11, 'partition', ['n1', 'n2']),
    ];
    const writer = new HistoryWriter(path);
    writer.append(events[0]!);
    // A reader during the run sees every complete event written so far.
    expect(readHistory(path)).toEqual([events[0]]);
    for (const e of events.slice(1)) writer.append(e);
    writer.close();
    writer.close();
    expect(writer.count).toBe(events.length);
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(events.length + 1);
    expect(readHistory(path)).toEqual(events);
    expect(() => writer.append(events[0]!)).toThrow(/closed/);
  });
});

describe('parseHistory errors name the line', () => {
  it('a malformed line', () => {
    const error = errorOf(() => parseHistory(`${lines(put('invoke'))}\n{"type": "ok", oops\n`));
    expect(error.line).toBe(2);
    expect(error.message).toMatch(/^line 2: not valid JSON/);
  });

  it('a completion without an invocation (blank lines counted)', () => {
    const error = errorOf(() =>
      parseHistory(`${lines(put('invoke'), put('ok'))}\n\n${lines(put('ok', 0, 3))}`),
    );
    expect(error.line).toBe(4);
    expect(error.message).toContain('a completion (ok put) by process 0 without an invocation');
  });

  it('an operation by a process after its info', () => {
    const error = errorOf(() =>
      parseHistory(lines(put('invoke'), put('info'), put('invoke', 0, 5)), 'h.jsonl'),
    );
    expect(error.message).toBe(
      'h.jsonl: line 3: process 0 acts after its "info" (a new process id must take over)',
    );
  });

  it('bad fields: unknown type, unknown operation, missing cas value, negative time', () => {
    expect(errorOf(() => parseHistory(lines({ ...put('invoke'), type: 'begin' }))).message).toMatch(
      /line 1: unknown event type/,
    );
    expect(errorOf(() => parseHistory(lines({ ...put('invoke'), f: 'incr' }))).message).toMatch(
      /unknown operation "incr"/,
    );
    expect(errorOf(() => parseHistory(lines({ ...put('invoke'), f: 'cas' }))).message).toMatch(/a cas needs/);
    expect(errorOf(() => parseHistory(lines({ ...put('invoke'), time: -1 }))).message).toMatch(/time/);
    expect(errorOf(() => parseHistory(lines(put('invoke'), put('invoke', 0, 2)))).line).toBe(2);
  });
});

describe('other formats', () => {
  it('detects each format from its first line', () => {
    expect(detectFormat('\n{"type":"invoke"}')).toBe('raftlab');
    expect(detectFormat('{:process 0, :type :invoke}')).toBe('porcupine-kv');
    expect(detectFormat('INFO  jepsen.util - 0\t:invoke\t:read\tnil')).toBe('jepsen-etcd');
    expect(detectFormat('starting up\nINFO  jepsen.util - 0\t:invoke\t:read\tnil')).toBe('jepsen-etcd');
    expect(detectFormat('hello')).toBeUndefined();
  });

  it('reads Jepsen etcd lines: read nil, write, cas ok and fail, timed-out info', () => {
    const text = [
      'INFO  jepsen.util - 0\t:invoke\t:read\tnil',
      'INFO  jepsen.util - 0\t:ok\t:read\tnil',
      'INFO  jepsen.util - 1  :invoke  :cas  [3 0]',
      'INFO  jepsen.util - 1\t:fail\t:cas\t[3 0]',
      'INFO  jepsen.util - 2\t:invoke\t:write\t4',
      'INFO  jepsen.util - 2\t:info\t:write\t:timed-out',
    ].join('\n');
    const events = parseAny(`some other log line\n${text}`, 'jepsen-etcd');
    expect(events).toHaveLength(6);
    expect(events[1]).toMatchObject({ type: 'ok', f: 'get', value: null });
    expect(events[2]).toMatchObject({ f: 'cas', value: { expected: '3', new: '0' } });
    expect(events[3]).toMatchObject({ type: 'fail', error: 'CAS_MISMATCH' });
    expect(events[5]).toMatchObject({ type: 'info', f: 'put', value: '4', error: 'TIMEOUT' });
    const error = errorOf(() =>
      parseAny(`${text}\nINFO  jepsen.util - 3\t:invoke\t:cas\t[x]`, 'jepsen-etcd'),
    );
    expect(error.message).toMatch(/^line 7: a cas needs \[from to\]/);
  });

  it('reads Porcupine kv EDN lines and names a bad line', () => {
    const text = [
      '{:process 0, :type :invoke, :f :append, :key "0", :value "x \\"0\\" y"}',
      '{:process 0, :type :ok, :f :append, :key "0", :value "x \\"0\\" y"}',
    ].join('\n');
    expect(parseAny(text, 'porcupine-kv')[1]).toMatchObject({
      type: 'ok',
      f: 'append',
      key: '0',
      value: 'x "0" y',
    });
    const bad = errorOf(() =>
      parseAny(`${text}\n{:process 1, :type :ok, :f :get, :key "0", :value nil}`, 'porcupine-kv'),
    );
    expect(bad.message).toMatch(/^line 3: a completion \(ok get\) by process 1 without an invocation/);
    expect(errorOf(() => parseAny('{:process 1, :type :invoke, :f :get :key}', 'porcupine-kv')).line).toBe(1);
  });

  it('loads a run folder through its history.jsonl, and says clearly what is missing', () => {
    const run = join(dir, 'run');
    rmSync(run, { recursive: true, force: true });
    expect(() => loadHistory(run)).toThrow(`no such file or folder: ${run}`);
    writeFileSync(join(dir, 'plain.txt'), 'hello\n');
    expect(() => loadHistory(join(dir, 'plain.txt'))).toThrow(/cannot tell the format/);
    const path = join(dir, 'history.jsonl');
    writeFileSync(path, `${lines(put('invoke'), put('ok', 0, 2))}\n`);
    expect(loadHistory(dir)).toMatchObject({ path, format: 'raftlab', model: 'kv' });
  });
});
