// A synthetic run folder for tests and screenshots, built without a cluster: a seeded, plausible
// history (one key per process at a time, retired after `opsPerKey` ops), faults that make ops fail
// or time out while in force, node logs with elections, and optionally one key with a stale read
// (a linearizability violation). Verdicts and counterexample views come from the real checker.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { checkHistory, writeCounterexampleViews } from '../../checker/index.js';
import type { ClientEvent, HistoryEvent, NemesisEvent, OpName } from '../../checker/history-types.js';
import type { KeyVerdict, OutcomeCounts, RunResults } from '../results-types.js';
import { HISTORY_FILE, LAB_LOG_FILE, RESULTS_FILE } from '../run-folder.js';

export interface SyntheticOptions {
  name?: string;
  timestamp?: string;
  seed?: number;
  durationS?: number;
  processes?: number;
  opsPerSecondPerProcess?: number;
  opsPerKey?: number;
  failing?: boolean;
  incomplete?: boolean;
  startedAt?: string;
}

export interface SyntheticRun {
  dir: string;
  /** Operations that completed (ok, fail or info): one latency point each. */
  completedOps: number;
  faults: { fault: string; startS: number; stopS: number }[];
  failingKey: string | null;
  /** The counterexample view of the failing key, relative to the run folder. */
  failingView: string | null;
}

const FAULTS = [
  { fault: 'partition', detail: 'isolate n3', nodes: ['n3'], startS: 0.18, stopS: 0.38 },
  { fault: 'kill', detail: 'kill leader n1', nodes: ['n1'], startS: 0.5, stopS: 0.62 },
  { fault: 'pause', detail: 'pause minority n2 n4', nodes: ['n2', 'n4'], startS: 0.75, stopS: 0.86 },
];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function writeSyntheticRun(
  store: string,
  options: SyntheticOptions = {},
): Promise<SyntheticRun> {
  const o = {
    name: 'partition-5',
    timestamp: '20261122T040000.000Z',
    seed: 42,
    durationS: 30,
    processes: 8,
    ...options,
  };
  const dir = join(store, o.name, o.timestamp);
  await mkdir(join(dir, 'counterexamples'), { recursive: true });
  const durationNs = o.durationS * 1e9;
  const faults = FAULTS.map((f) => ({ ...f, startS: f.startS * o.durationS, stopS: f.stopS * o.durationS }));
  const { events, failingKey } = clientEvents(o, faults, durationNs);
  if (o.failing === true && failingKey === null)
    throw new Error('synthetic run too short to hold a stale read');
  for (const f of faults) {
    const base = { type: 'nemesis', fault: f.fault, detail: f.detail, nodes: f.nodes } as const;
    events.push({ ...base, phase: 'start', time: f.startS * 1e9 } satisfies NemesisEvent);
    events.push({ ...base, phase: 'stop', time: f.stopS * 1e9 } satisfies NemesisEvent);
  }
  events.sort((a, b) => a.time - b.time);
  await writeFile(join(dir, HISTORY_FILE), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const startedAt = o.startedAt ?? '2026-11-22T04:00:00.000Z';
  const nodeLogs = await writeNodeLogs(dir, startedAt, faults);
  const keys = checkRun(dir, events);
  await writeResults(dir, o, startedAt, events, keys, nodeLogs, faults);
  await symlink(o.timestamp, join(store, o.name, 'latest')).catch(() => undefined);
  const completedOps = events.filter((e) => e.type === 'ok' || e.type === 'fail' || e.type === 'info').length;
  return {
    dir,
    completedOps,
    faults: faults.map(({ fault, startS, stopS }) => ({ fault, startS, stopS })),
    failingKey,
    failingView: keys.find((k) => k.view !== undefined)?.view ?? null,
  };
}

interface Fixed {
  seed: number;
  durationS: number;
  processes: number;
  opsPerSecondPerProcess?: number;
  opsPerKey?: number;
  failing?: boolean;
}

function clientEvents(
  o: Fixed,
  faults: typeof FAULTS,
  durationNs: number,
): { events: HistoryEvent[]; failingKey: string | null } {
  const random = rng(o.seed);
  const events: HistoryEvent[] = [];
  const gapNs = 1e9 / (o.opsPerSecondPerProcess ?? 8);
  const opsPerKey = o.opsPerKey ?? 20;
  let failingKey: string | null = null;
  for (let lane = 0; lane < o.processes; lane += 1) {
    let process = lane;
    let time = random() * gapNs;
    let value: string | null = null;
    let previous: string | null = null;
    for (let n = 0; time < durationNs; n += 1) {
      const key = `k${lane}-${Math.floor(n / opsPerKey)}`;
      if (n % opsPerKey === 0) [value, previous] = [null, null];
      const inFault = faults.some((f) => time >= f.startS * 1e9 && time <= f.stopS * 1e9);
      const roll = random();
      const outcome = inFault
        ? roll < 0.25
          ? 'info'
          : roll < 0.55
            ? 'fail'
            : 'ok'
        : roll < 0.01
          ? 'fail'
          : 'ok';
      const latencyNs =
        outcome === 'info'
          ? 1e9
          : (inFault ? 20e6 : 1.5e6) * (0.5 + random() * 2 + (random() < 0.03 ? 8 : 0));
      const f: OpName = (['get', 'get', 'put', 'cas', 'append'] as const)[Math.floor(random() * 5)] ?? 'get';
      const written = `${lane}.${n}`;
      const stale =
        o.failing === true &&
        failingKey === null &&
        f === 'get' &&
        previous !== null &&
        time > durationNs / 2;
      const invokeValue = f === 'get' ? null : f === 'cas' ? { expected: value, new: written } : written;
      const base = { process, f, key, node: `n${(lane % 5) + 1}` };
      events.push({ ...base, type: 'invoke', value: invokeValue, time } satisfies ClientEvent);
      const end = time + latencyNs;
      if (outcome === 'ok') {
        if (stale) failingKey = key;
        const read = stale ? previous : value;
        const after: string | null = f === 'append' ? (value ?? '') + written : null;
        if (f !== 'get') [previous, value] = [value, after ?? written];
        const result = after === null ? {} : { result: after };
        events.push({
          ...base,
          type: 'ok',
          value: f === 'get' ? read : invokeValue,
          time: end,
          ...result,
        } satisfies ClientEvent);
      } else {
        const error = outcome === 'info' ? 'TIMEOUT' : 'NOT_LEADER';
        events.push({ ...base, type: outcome, value: invokeValue, time: end, error } satisfies ClientEvent);
        if (outcome === 'info') [process, value, previous] = [process + o.processes, null, null];
      }
      if (outcome === 'info') n = (Math.floor(n / opsPerKey) + 1) * opsPerKey - 1; // retire the key too
      time = end + gapNs * (0.5 + random());
    }
  }
  return { events, failingKey };
}

/** Verdicts and counterexample views from the real checker, as the lab would write them. */
function checkRun(dir: string, events: readonly HistoryEvent[]): KeyVerdict[] {
  const result = checkHistory(events);
  const views = writeCounterexampleViews(events, result, join(dir, 'counterexamples'));
  const illegal = result.keys.filter((k) => k.verdict === 'illegal' && k.counterexample !== undefined);
  return result.keys.map((k): KeyVerdict => {
    const view = views[illegal.indexOf(k)];
    const base = { key: k.key, verdict: k.verdict, operations: k.operations };
    return view === undefined ? base : { ...base, view: relative(dir, view) };
  });
}

async function writeNodeLogs(
  dir: string,
  startedAt: string,
  faults: typeof FAULTS,
): Promise<Record<string, string>> {
  const start = Date.parse(startedAt);
  const at = (s: number): string => new Date(start + s * 1000).toISOString();
  const logs: Record<string, string[]> = { n1: [], n2: [], n3: [], n4: [], n5: [] };
  logs.n1?.push(
    `${at(-0.5)} INFO  starting server (data-dir=/data)`,
    `${at(0.4)} INFO  n1 became leader for term 2`,
  );
  logs.n3?.push(
    `${at((faults[0]?.startS ?? 0) + 1.1)} INFO  n3 stepped down: lost quorum (term=2)`,
    'garbage line without a time',
  );
  logs.n2?.push(`${at((faults[1]?.startS ?? 0) + 1.2)} INFO  n2 became leader for term 3`);
  logs.n1?.push(`${at((faults[1]?.stopS ?? 0) + 0.3)} INFO  restart: replayed wal (entries=812)`);
  logs.n4?.push(
    JSON.stringify({
      time: at((faults[2]?.startS ?? 0) + 0.2),
      level: 'warn',
      node: 'n4',
      msg: 'refused client request: not leader',
    }),
  );
  const nodeLogs: Record<string, string> = {};
  for (const [node, lines] of Object.entries(logs)) {
    nodeLogs[node] = `logs/${node}.log`;
    await mkdir(join(dir, 'logs'), { recursive: true });
    await writeFile(join(dir, 'logs', `${node}.log`), lines.join('\n') + '\n');
  }
  await writeFile(join(dir, LAB_LOG_FILE), `${startedAt} lab run started (synthetic)\n`);
  return nodeLogs;
}

async function writeResults(
  dir: string,
  o: Required<Pick<SyntheticOptions, 'name' | 'seed'>> & SyntheticOptions,
  startedAt: string,
  events: readonly HistoryEvent[],
  keys: KeyVerdict[],
  nodeLogs: Record<string, string>,
  faults: typeof FAULTS,
): Promise<void> {
  const total: OutcomeCounts = { ok: 0, fail: 0, info: 0 };
  const byOperation: Partial<Record<OpName, OutcomeCounts>> = {};
  for (const e of events) {
    if (e.type !== 'ok' && e.type !== 'fail' && e.type !== 'info') continue;
    const c = (byOperation[e.f] ??= { ok: 0, fail: 0, info: 0 });
    c[e.type] += 1;
    total[e.type] += 1;
  }
  const illegal = keys.some((k) => k.verdict === 'illegal');
  const results: RunResults = {
    name: o.name,
    startedAt,
    finishedAt: o.incomplete
      ? null
      : new Date(Date.parse(startedAt) + (o.durationS ?? 30) * 1000 + 2000).toISOString(),
    verdict: o.incomplete ? 'incomplete' : illegal ? 'invalid' : 'valid',
    replayCommand: `lab run --nodes 5 --nemesis partition,kill,pause --time-limit ${o.durationS ?? 30} --seed ${o.seed}`,
    seed: o.seed,
    runtime: 'local',
    options: {
      nodes: 5,
      nemesis: 'partition,kill,pause',
      'time-limit': o.durationS ?? 30,
      concurrency: o.processes ?? 8,
    },
    nodes: ['n1', 'n2', 'n3', 'n4', 'n5'],
    nemesis: ['partition', 'kill', 'pause'],
    counts: { total, byOperation },
    latencyMs: {},
    availability: { duringFaults: null, outsideFaults: null, overall: null },
    faults: faults.map((f) => ({
      fault: f.fault,
      detail: f.detail,
      nodes: f.nodes,
      startTime: f.startS * 1e9,
      stopTime: f.stopS * 1e9,
    })),
    checker: { verdict: illegal ? 'illegal' : 'ok', elapsedMs: 12, keys },
    nodeLogs,
  };
  await writeFile(join(dir, RESULTS_FILE), JSON.stringify(results, null, 2) + '\n');
}
