// npm run bench:server — closed-loop clients against a 3-node local cluster of real `lab server`
// processes (fsync on, default timeouts: heartbeat 100 ms, election 1000 ms), 16-byte keys from a
// space of 1,000 and 100-byte values, at concurrency 1, 8, 64 and 256, for puts and linearizable
// gets; then the time from SIGKILL of the leader to the first successful write (median of trials);
// then puts at 64 and 256 clients on a second cluster with snapshots off (--snapshot-entries 0),
// against the first one's (snapshots every 10,000 entries, the default) in the same run.
// Needs `npm run build` first (the servers run from dist/). The load generator shares the cores.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type RaftlabClient } from '../client/index.js';
import { LocalCluster } from '../server/local-cluster.js';
import { table, writeSection } from './report.js';

const CONCURRENCY = [1, 8, 64, 256];
const KEYS = 1000;
const VALUE = new Uint8Array(100).fill(0x61);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const WARMUP_MS = 1000;
const FAILOVER_TRIALS = Number(process.env.BENCH_FAILOVER_TRIALS ?? 7);
/** Concurrent operations per client object (each client has one connection per endpoint). */
const OPS_PER_CLIENT = 32;
/** Put cells repeated on a cluster with snapshots off; BENCH_SNAPSHOT_COMPARE=0 skips them. */
const SNAPSHOT_COMPARE = process.env.BENCH_SNAPSHOT_COMPARE !== '0' ? [64, 256] : [];

const keys = Array.from({ length: KEYS }, (_, i) =>
  new TextEncoder().encode(`key-${String(i).padStart(12, '0')}`),
);

interface CellResult {
  op: string;
  concurrency: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function clients(endpoints: string[], count: number): RaftlabClient[] {
  return Array.from({ length: count }, () =>
    createClient({ endpoints, requestTimeoutMs: 5000, operationTimeoutMs: 20_000 }),
  );
}

async function runCell(endpoints: string[], op: 'put' | 'get', concurrency: number): Promise<CellResult> {
  const pool = clients(endpoints, Math.ceil(concurrency / OPS_PER_CLIENT));
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let done = false;
  const worker = async (w: number): Promise<void> => {
    const client = pool[w % pool.length]!;
    for (let i = w; !done; i += 7919) {
      const key = keys[i % KEYS]!;
      const start = performance.now();
      try {
        if (op === 'put') await client.put(key, VALUE);
        else await client.getBytes(key);
        if (measuring) latencies.push(performance.now() - start);
      } catch {
        if (measuring) errors++;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  measuring = false;
  const elapsedMs = performance.now() - t0;
  done = true;
  await Promise.all(workers);
  for (const c of pool) c.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    op,
    concurrency,
    opsPerSec: latencies.length / (elapsedMs / 1000),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errors,
  };
}

async function leaderOf(cluster: LocalCluster, client: RaftlabClient): Promise<string> {
  for (;;) {
    for (const n of cluster.state.nodes) {
      if (!cluster.isRunning(n.id)) continue;
      const s = await client.status(cluster.endpoint(n.id)).catch(() => undefined);
      if (s?.role === 'leader') return s.nodeId;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILL the leader, then write until a write that started after the kill succeeds. */
async function failoverTrial(cluster: LocalCluster): Promise<number> {
  const probe = createClient({ endpoints: cluster.endpoints, requestTimeoutMs: 1000 });
  const leader = await leaderOf(cluster, probe);
  await probe.put('failover', 'before');
  // Retry quickly so the figure measures the cluster, not the client's backoff.
  const writer = createClient({
    endpoints: cluster.endpoints,
    requestTimeoutMs: 100,
    operationTimeoutMs: 30_000,
    retryDelayMsMin: 5,
    retryDelayMsMax: 20,
  });
  await writer.put('failover', 'warm'); // connections open before the kill
  const killedAt = performance.now();
  await cluster.kill(leader, 'SIGKILL');
  await writer.put('failover', 'after');
  const ms = performance.now() - killedAt;
  writer.close();
  await cluster.restart(leader);
  // Let the restarted node catch up before the next trial.
  const statusOf = (id: string) => probe.status(cluster.endpoint(id)).catch(() => undefined);
  let target: number | undefined;
  while (target === undefined) target = (await statusOf(await leaderOf(cluster, probe)))?.commitIndex;
  while (((await statusOf(leader))?.appliedIndex ?? -1) < target) await new Promise((r) => setTimeout(r, 50));
  probe.close();
  return ms;
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** A cluster with `serverArgs`, loaded with every key; stopped and deleted after `fn`. */
async function withCluster<T>(serverArgs: string[], fn: (cluster: LocalCluster) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-bench-'));
  const cluster = await LocalCluster.start({ nodes: 3, dir, serverArgs });
  const onExit = (): void => cluster.killAll();
  const onSignal = (): void => {
    cluster.killAll();
    process.exit(130);
  };
  process.on('exit', onExit);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, onSignal);
  try {
    const loader = createClient({ endpoints: cluster.endpoints });
    await leaderOf(cluster, loader);
    await Promise.all(keys.map((k) => loader.put(k, VALUE)));
    loader.close();
    return await fn(cluster);
  } finally {
    await cluster.stop(3000);
    process.off('exit', onExit);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, onSignal);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function snapshotsOff(): Promise<CellResult[]> {
  return withCluster(['--snapshot-entries', '0'], async (cluster) => {
    const results: CellResult[] = [];
    for (const concurrency of SNAPSHOT_COMPARE) {
      const r = await runCell(cluster.endpoints, 'put', concurrency);
      console.error(
        `snapshots off: put x${concurrency}: ${fmt(r.opsPerSec, 0)} ops/s, p99 ${fmt(r.p99Ms)} ms`,
      );
      results.push(r);
    }
    return results;
  });
}

async function measure(cluster: LocalCluster): Promise<{ results: CellResult[]; failovers: number[] }> {
  const results: CellResult[] = [];
  for (const op of ['put', 'get'] as const)
    for (const concurrency of CONCURRENCY) {
      const r = await runCell(cluster.endpoints, op, concurrency);
      console.error(
        `${op} x${concurrency}: ${fmt(r.opsPerSec, 0)} ops/s, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms, errors ${r.errors}`,
      );
      results.push(r);
    }
  const failovers: number[] = [];
  for (let i = 0; i < FAILOVER_TRIALS; i++) {
    const ms = await failoverTrial(cluster);
    console.error(`fail-over trial ${i + 1}: ${fmt(ms, 0)} ms`);
    failovers.push(ms);
  }
  return { results, failovers };
}

async function main(): Promise<void> {
  const { results, failovers } = await withCluster([], measure);
  const off = await snapshotsOff();
  writeSection('server', report(results, failovers, off));
  console.error('wrote the server section of BENCHMARKS.md');
}

const ETCD: Record<string, Record<number, string>> = {
  put: { 64: '~2,700', 256: '~3,600 (p99 ~150 ms)' },
  get: { 256: '~5,500' },
};

function snapshotRows(on: readonly CellResult[], off: readonly CellResult[]): string[] {
  if (off.length === 0) return [];
  const rows = off.map((o) => {
    const same = on.find((r) => r.op === 'put' && r.concurrency === o.concurrency);
    return [
      o.concurrency,
      fmt(same?.opsPerSec ?? NaN, 0),
      fmt(same?.p99Ms ?? NaN),
      fmt(o.opsPerSec, 0),
      fmt(o.p99Ms),
    ];
  });
  return [
    '',
    'Snapshots on (every 10,000 entries, the default, the cluster above) against off (`--snapshot-entries 0`, a second cluster right after), puts:',
    '',
    table(['clients', 'on: puts/s', 'on: p99 ms', 'off: puts/s', 'off: p99 ms'], rows),
  ];
}

function report(results: CellResult[], failovers: number[], off: readonly CellResult[]): string {
  const sorted = [...failovers].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  const rows = results.map((r) => [
    r.op === 'put' ? 'put' : 'get (linearizable)',
    r.concurrency,
    fmt(r.opsPerSec, 0),
    fmt(r.p50Ms),
    fmt(r.p99Ms),
    r.errors,
    ETCD[r.op]?.[r.concurrency] ?? '',
  ]);
  return [
    '## Server (`npm run bench:server`)',
    '',
    `3-node local cluster of real \`lab server\` processes on 127.0.0.1, fsync (fdatasync) on, default timeouts (heartbeat 100 ms, election 1000 ms, tick 10 ms); closed-loop clients, 16-byte keys from a space of ${KEYS}, 100-byte values; ${DURATION_MS / 1000} s per cell after ${WARMUP_MS / 1000} s warm-up. The load generator runs on the same 2 cores as the three servers.`,
    '',
    table(['operation', 'clients', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'etcd 3.4 (issue 3)'], rows),
    ...snapshotRows(results, off),
    '',
    `Load average at the end: ${loadavg()[0]!.toFixed(1)} (the machine is shared with other work; a high load makes these figures pessimistic).`,
    '',
    `Fail-over: time from SIGKILL of the leader to the first successful write, ${failovers.length} trials: median **${fmt(median, 0)} ms** (all: ${sorted.map((m) => fmt(m, 0)).join(', ')} ms). etcd 3.4 with its defaults: median 1.23 s.`,
    '',
    'Targets (issue 3): at least 2× etcd at 64 and 256 clients (≥ 5,400 puts/s at 64, ≥ 7,200 at 256, ≥ 11,000 gets/s at 256) with p99 no worse than etcd (~150 ms); median fail-over under 1 s with the same timeouts.',
  ].join('\n');
}

await main();
