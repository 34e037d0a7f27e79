// Writes fixtures/stale-read.jsonl: a small raftlab history of a cluster that served one stale
// read while partitioned (what the unsafe `stale-leader-read` variant produces). Run with tsx to
// regenerate; the file is committed so tests and the README use the same history.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryEvent } from '../history-types.js';
import { history, nemesis, op } from './build.js';

export function staleReadHistory(): HistoryEvent[] {
  const ms = 1_000_000;
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const groups: HistoryEvent[][] = [op({ process: 9, f: 'put', key: 'x', value: '0', call: 0, ret: 2 * ms })];
  let value = 0;
  const free = [0, 0, 0, 0, 0]; // the time each process is next free
  for (let i = 0; i < 40; i++) {
    const at = (i * 5 + 12) * ms;
    const call = at - (1 + rand(7)) * ms;
    const ret = at + (1 + rand(9)) * ms;
    const p = free.findIndex((t) => t < call);
    if (p < 0) continue;
    free[p] = ret;
    const kind = rand(3);
    if (i === 24) {
      // The stale read: returns a value overwritten several acknowledged writes ago.
      groups.push(op({ process: p, f: 'get', key: 'x', value: String(value - 4), call, ret }));
    } else if (kind === 0) {
      value++;
      groups.push(op({ process: p, f: 'put', key: 'x', value: String(value), call, ret }));
    } else if (kind === 1) {
      groups.push(
        op({ process: p, f: 'cas', key: 'x', value: [String(value), String(value + 1)], call, ret }),
      );
      value++;
    } else groups.push(op({ process: p, f: 'get', key: 'x', value: String(value), call, ret }));
  }
  groups.push([
    nemesis('start', 90 * ms, 'partition', ['n3']),
    nemesis('stop', 160 * ms, 'partition', ['n3']),
  ]);
  return history(...groups);
}

if (process.argv[1]?.endsWith('make-stale-read.ts')) {
  const path = join(import.meta.dirname, 'fixtures', 'stale-read.jsonl');
  writeFileSync(
    path,
    staleReadHistory()
      .map((e) => `${JSON.stringify(e)}\n`)
      .join(''),
  );
  process.stdout.write(`wrote ${path}\n`);
}
