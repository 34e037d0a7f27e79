// Hard histories for the checker: many clients writing one key concurrently, appends read back,
// long-running operations. Each is a real linearizable execution (every operation takes effect at
// a seeded random instant inside its interval) or, with `stale`, the same with one read turned
// stale, which makes it illegal. Used by bench:checker and the checker's tests; runnable to write
// the files: `tsx bench/hard-histories.ts --out DIR`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientEvent, OpName } from '../checker/history-types.js';

export interface ManyWritersOptions {
  /** Printed in the file name and recorded in the benchmark: the whole history follows from it. */
  seed: number;
  clients: number;
  keys: number;
  /** Operations in the whole history, split evenly over the clients. */
  operations: number;
  /** Share of appends; the rest are gets, except `putShare`. Default 0.5. */
  appendShare?: number;
  /** Share of puts (a put resets the key, which limits what a read can pin). Default 0.02. */
  putShare?: number;
  /** Longest ordinary operation, in ticks (1 tick = 1 µs). Default 40. */
  durationTicksMax?: number;
  /** Share of long-running operations, 10× the ordinary length. Default 0.05. */
  longShare?: number;
  /** Turn one read in the middle of the history stale (an illegal history). */
  stale?: boolean;
}

interface PlannedOp {
  client: number;
  f: OpName;
  key: string;
  value: string | null;
  call: number;
  ret: number;
  /** The instant it takes effect, inside [call, ret]. */
  at: number;
  /** For a get: the value read, filled in by `execute`. */
  read?: string | null;
  /** For a get: the value before the last append that ended before this get began. */
  stale?: string | null;
}

const TICK_NS = 1000;

/** xorshift32: every random choice comes from the seed. */
function random(seed: number): (n: number) => number {
  let x = seed | 0 || 0x9e3779b9;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function plan(o: ManyWritersOptions): PlannedOp[] {
  const rand = random(o.seed);
  const appendPer1000 = Math.round((o.appendShare ?? 0.5) * 1000);
  const putPer1000 = Math.round((o.putShare ?? 0.02) * 1000);
  const durationMax = o.durationTicksMax ?? 40;
  const longPer1000 = Math.round((o.longShare ?? 0.05) * 1000);
  const ops: PlannedOp[] = [];
  const perClient = Math.ceil(o.operations / o.clients);
  for (let client = 0; client < o.clients; client++) {
    let time = rand(durationMax);
    for (let j = 0; j < perClient && ops.length < o.operations; j++) {
      const pick = rand(1000);
      const f: OpName = pick < putPer1000 ? 'put' : pick < putPer1000 + appendPer1000 ? 'append' : 'get';
      const long = rand(1000) < longPer1000 ? 10 : 1;
      const call = time + rand(3);
      const ret = call + 1 + rand(durationMax * long);
      const value = f === 'get' ? null : `x ${client} ${j} y`;
      ops.push({ client, f, key: String(rand(o.keys)), value, call, ret, at: call + rand(ret - call + 1) });
      time = ret + 1;
    }
  }
  return ops;
}

/** Applies the operations in the order they took effect, recording what each read saw. */
function execute(ops: PlannedOp[]): void {
  const values = new Map<string, string | null>();
  const history = new Map<string, { value: string | null; ret: number }[]>();
  for (const op of [...ops].sort((a, b) => a.at - b.at || a.client - b.client)) {
    const before = values.get(op.key) ?? null;
    if (op.f === 'get') {
      op.read = before;
      // The newest write that ended before this get began must be visible: read what came before it.
      const writes = history.get(op.key) ?? [];
      const done = writes.findLastIndex((w) => w.ret < op.call);
      if (done >= 0) op.stale = done === 0 ? null : writes[done - 1]!.value;
      continue;
    }
    const after = op.f === 'append' ? (before ?? '') + op.value! : op.value;
    values.set(op.key, after);
    const writes = history.get(op.key) ?? [];
    writes.push({ value: after, ret: op.ret });
    history.set(op.key, writes);
  }
}

/** One read from the middle on that can be made stale (something it must see ended before it). */
function makeStale(ops: PlannedOp[]): void {
  const byCall = [...ops].sort((a, b) => a.call - b.call);
  const from = Math.floor(byCall.length / 2);
  const victim = byCall
    .slice(from)
    .find((op) => op.f === 'get' && op.stale !== undefined && op.stale !== op.read);
  if (victim === undefined) throw new Error('no read can be made stale in this history: change the seed');
  victim.read = victim.stale;
}

function toEvents(ops: PlannedOp[]): ClientEvent[] {
  const events: ClientEvent[] = [];
  for (const op of ops) {
    const base = { process: op.client, f: op.f, key: op.key };
    events.push({ ...base, type: 'invoke', value: op.value, time: op.call * TICK_NS + op.client });
    const value = op.f === 'get' ? (op.read ?? null) : op.value;
    events.push({ ...base, type: 'ok', value, time: op.ret * TICK_NS + op.client });
  }
  return events.sort((a, b) => a.time - b.time);
}

/** Many clients on few keys; `keys: 1` gives many writers on one key. */
export function manyWriters(o: ManyWritersOptions): ClientEvent[] {
  const ops = plan(o);
  execute(ops);
  if (o.stale === true) makeStale(ops);
  return toEvents(ops);
}

/**
 * 13 operations on two keys. Key "a": ten appends that all overlap, then a read of them in
 * reverse order (legal, but a search trying calls in time order meets it last: 10! orders).
 * Key "b": a put and a later read of a value nobody wrote (illegal at a glance). A checker that
 * finishes "a" before looking at "b" takes as long as "a" needs; a fair one answers at once.
 */
export function starvationExample(): ClientEvent[] {
  const events: ClientEvent[] = [];
  const add = (
    process: number,
    f: OpName,
    key: string,
    value: string | null,
    call: number,
    ret: number,
    read?: string,
  ) =>
    events.push(
      { type: 'invoke', process, f, key, value: f === 'get' ? null : value, time: call },
      { type: 'ok', process, f, key, value: read ?? value, time: ret },
    );
  const parts: string[] = [];
  for (let i = 0; i < 10; i++) {
    add(i, 'append', 'a', `<${i}>`, i, 100 + i);
    parts.unshift(`<${i}>`);
  }
  add(10, 'get', 'a', null, 200, 210, parts.join(''));
  add(11, 'put', 'b', '1', 0, 10);
  add(12, 'get', 'b', null, 20, 30, '2');
  return events.sort((a, b) => a.time - b.time);
}

/**
 * n puts of distinct values, all concurrent, each read by a get concurrent with all of them; then
 * two gets one after the other that disagree about the last value, with no write between them.
 * Illegal, and proving it means trying every subset of the puts (about 2^n configurations, here
 * and for Porcupine): no pruning applies, every value is read. `before` sequential puts come
 * first: they cost nothing to place but make each remembered configuration larger, so the memo
 * table grows fast (for memory limit tests).
 */
export function disagreeingReads(n: number, before = 0): ClientEvent[] {
  const events: ClientEvent[] = [];
  const add = (process: number, f: OpName, value: string, call: number, ret: number) =>
    events.push(
      { type: 'invoke', process, f, key: 'k', value: f === 'get' ? null : value, time: call },
      { type: 'ok', process, f, key: 'k', value, time: ret },
    );
  for (let i = 0; i < before; i++) add(0, 'put', `w${i}`, 2 * i, 2 * i + 1);
  const t = 2 * before;
  for (let i = 0; i < n; i++) {
    add(i + 1, 'put', `v${i}`, t + i, t + 1000 + i);
    add(n + i + 1, 'get', `v${i}`, t + i, t + 1000 + i);
  }
  add(2 * n + 1, 'get', 'v1', t + 2000, t + 2010);
  add(2 * n + 1, 'get', 'v0', t + 2020, t + 2030);
  return events.sort((a, b) => a.time - b.time);
}

/**
 * The generated files of the benchmark, by name (the seed is in each name). Each is made when asked
 * for: the largest take tens of megabytes, which a process checking another file should not hold.
 */
export function hardHistories(): { name: string; events: () => ClientEvent[] }[] {
  const out = [{ name: 'starvation-13ops', events: starvationExample }];
  for (const stale of [false, true]) {
    const seed = 50;
    const events = () => manyWriters({ seed, clients: 50, keys: 10, operations: 1700, stale });
    out.push({ name: `c50-10keys-1700ops-${stale ? 'bad' : 'ok'}-seed${seed}`, events });
  }
  // Appends and reads only on one key, then puts among the appends (2 % unless named).
  const mixes = [
    { clients: 50, operations: 300, putShare: 0 },
    { clients: 50, operations: 1000, putShare: 0 },
    { clients: 50, operations: 5000, putShare: 0 },
    { clients: 50, operations: 300, putShare: 0.02 },
    { clients: 50, operations: 1000, putShare: 0.02 },
    { clients: 50, operations: 5000, putShare: 0.02 },
    { clients: 100, operations: 1000, putShare: 0.05 },
    { clients: 50, operations: 1000, putShare: 0.3 },
  ];
  for (const { clients, operations, putShare } of mixes) {
    for (const stale of [false, true]) {
      const seed = operations;
      const events = () => manyWriters({ seed, clients, keys: 1, operations, putShare, stale });
      const puts = putShare === 0 ? '' : `puts${Math.round(putShare * 100)}pc-`;
      const name = `w${clients}-1key-${operations}ops-${puts}${stale ? 'bad' : 'ok'}-seed${seed}`;
      out.push({ name, events });
    }
  }
  out.push({ name: 'disagreeing-reads-30', events: () => disagreeingReads(30) });
  return out;
}

/** Writes the events to DIR/NAME.jsonl, one a line; returns the path. */
export function writeJsonl(dir: string, name: string, events: readonly ClientEvent[]): string {
  const path = join(dir, `${name}.jsonl`);
  writeFileSync(path, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return path;
}

function writeAll(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const history of hardHistories()) {
    const events = history.events();
    const path = writeJsonl(dir, history.name, events);
    process.stdout.write(`${path}: ${events.length / 2} operations\n`);
  }
}

const at = process.argv.indexOf('--out');
if (at >= 0 && process.argv[1]?.endsWith('hard-histories.ts')) writeAll(process.argv[at + 1]!);
