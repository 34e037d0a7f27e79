// npm run bench:snapshots — N writes (default 200,000; BENCH_SNAPSHOT_WRITES) to a 3-node local
// cluster of real `lab server` processes, once with snapshots (a small threshold) and once without,
// in the same run. Measured for each: write throughput, the largest data directory seen while
// writing (sampled every 500 ms), every acknowledged write read back, and the restart time of a
// follower killed at the end (spawn to serving, and the storage read time it logs).
// Needs `npm run build` first (the servers run from dist/). The load generator shares the cores.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type RaftlabClient } from '../client/index.js';
import { LocalCluster } from '../server/local-cluster.js';
import { table, writeSection } from './report.js';
import { dirBytes } from '../test-support/dir-bytes.js';

const WRITES = Number(process.env.BENCH_SNAPSHOT_WRITES ?? 200_000);
const CONCURRENCY = 64;
/** Keys are overwritten (the state stays ~1.3 MB); each worker owns its keys, so per key the writes are sequential. */
const KEYS = 10_000;
const VALUE_BYTES = 100;
const SNAPSHOT_ENTRIES = 5_000;
const TAIL_ENTRIES = 500;
const SEGMENT_BYTES = 1024 * 1024;
const OPS_PER_CLIENT = 32;

interface Config {
  readonly name: string;
  readonly serverArgs: readonly string[];
}

const CONFIGS: readonly Config[] = [
  {
    name: `snapshots every ${SNAPSHOT_ENTRIES} entries`,
    serverArgs: [
      '--snapshot-entries',
      String(SNAPSHOT_ENTRIES),
      '--snapshot-tail-entries',
      String(TAIL_ENTRIES),
    ],
  },
  { name: 'no snapshots', serverArgs: ['--snapshot-entries', '0'] },
];

interface Result {
  readonly config: Config;
  readonly writesPerSec: number;
  readonly acked: number;
  readonly dataDirBytesMax: number;
  readonly dataDirBytesEnd: number;
  readonly restartMs: number;
  readonly storageReadMs: number;
  readonly verified: number;
}

function valueOf(key: number, seq: number): Uint8Array {
  return new TextEncoder().encode(`${key}:${seq}:`.padEnd(VALUE_BYTES, '.'));
}

/** Per key: the last acknowledged sequence, and the attempts after it that failed (may have happened). */
interface KeyState {
  acked: number;
  maybe: number[];
}

async function writeAll(endpoints: string[], keys: KeyState[]): Promise<{ acked: number; ms: number }> {
  const pool = Array.from({ length: CONCURRENCY / OPS_PER_CLIENT }, () =>
    createClient({ endpoints, requestTimeoutMs: 5000, operationTimeoutMs: 30_000 }),
  );
  let next = 0;
  let acked = 0;
  const t0 = performance.now();
  const worker = async (w: number): Promise<void> => {
    const client = pool[w % pool.length]!;
    for (let round = 0; ; round++) {
      const key = w + CONCURRENCY * (round % Math.floor(KEYS / CONCURRENCY));
      if (next++ >= WRITES) return;
      const seq = round + 1;
      try {
        await client.put(`key-${key}`, valueOf(key, seq));
        keys[key]!.acked = seq;
        keys[key]!.maybe = [];
        acked++;
      } catch {
        keys[key]!.maybe.push(seq);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  for (const c of pool) c.close();
  return { acked, ms: performance.now() - t0 };
}

/** Every key holds its last acknowledged value (or a later attempt that may have happened). */
async function verify(client: RaftlabClient, keys: KeyState[]): Promise<number> {
  let checked = 0;
  const decoder = new TextDecoder();
  for (let start = 0; start < KEYS; start += 256) {
    await Promise.all(
      keys.slice(start, start + 256).map(async (state, i) => {
        const key = start + i;
        if (state.acked === 0 && state.maybe.length === 0) return;
        const value = await client.getBytes(new TextEncoder().encode(`key-${key}`));
        const seq = value === null ? 0 : Number(decoder.decode(value).split(':')[1]);
        if (seq !== state.acked && !state.maybe.includes(seq))
          throw new Error(`key-${key}: read sequence ${seq}, acknowledged ${state.acked}`);
        checked++;
      }),
    );
  }
  return checked;
}

async function restartFollower(cluster: LocalCluster, client: RaftlabClient): Promise<[number, number]> {
  const statuses = await client.clusterStatus();
  const follower = statuses.find((s) => s.status?.role === 'follower')!.status!.nodeId;
  await cluster.kill(follower, 'SIGKILL');
  const t0 = performance.now();
  await cluster.restart(follower);
  const restartMs = performance.now() - t0;
  const match = [...cluster.log(follower).matchAll(/storage read in (\d+) ms/g)].at(-1);
  return [restartMs, Number(match?.[1] ?? NaN)];
}

async function runConfig(config: Config): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-bench-snap-'));
  const cluster = await LocalCluster.start({
    nodes: 3,
    dir,
    serverArgs: [...config.serverArgs, '--wal-segment-bytes', String(SEGMENT_BYTES)],
  });
  const onExit = (): void => cluster.killAll();
  process.on('exit', onExit);
  try {
    const client = createClient({ endpoints: cluster.endpoints, operationTimeoutMs: 30_000 });
    await client.put('warm-up', 'x');
    const keys = Array.from({ length: KEYS }, (): KeyState => ({ acked: 0, maybe: [] }));
    let dataDirBytesMax = 0;
    const sampler = setInterval(() => {
      for (const n of cluster.state.nodes) dataDirBytesMax = Math.max(dataDirBytesMax, dirBytes(n.dataDir));
    }, 500);
    const { acked, ms } = await writeAll(cluster.endpoints, keys).finally(() => clearInterval(sampler));
    const dataDirBytesEnd = Math.max(...cluster.state.nodes.map((n) => dirBytes(n.dataDir)));
    dataDirBytesMax = Math.max(dataDirBytesMax, dataDirBytesEnd);
    const [restartMs, storageReadMs] = await restartFollower(cluster, client);
    const verified = await verify(client, keys);
    client.close();
    const result = {
      config,
      writesPerSec: acked / (ms / 1000),
      acked,
      dataDirBytesMax,
      dataDirBytesEnd,
      restartMs,
      storageReadMs,
      verified,
    };
    console.error(`${config.name}: ${JSON.stringify({ ...result, config: undefined })}`);
    return result;
  } finally {
    await cluster.stop(3000);
    process.off('exit', onExit);
    // BENCH_KEEP_DIR=1 keeps the nodes' logs and data for a look afterwards.
    if (process.env.BENCH_KEEP_DIR === '1') console.error(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

function report(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.config.name,
    Math.round(r.writesPerSec).toLocaleString('en-US'),
    r.acked.toLocaleString('en-US'),
    mib(r.dataDirBytesMax),
    mib(r.dataDirBytesEnd),
    Math.round(r.restartMs),
    r.storageReadMs,
    `${r.verified.toLocaleString('en-US')} keys`,
  ]);
  const bound = (2 * SNAPSHOT_ENTRIES + TAIL_ENTRIES) * 190 + 2 * SEGMENT_BYTES;
  return [
    '## Snapshots (`npm run bench:snapshots`)',
    '',
    `${WRITES.toLocaleString('en-US')} puts from ${CONCURRENCY} closed-loop clients to a 3-node local cluster of real \`lab server\` processes (fsync on, default timeouts), ${KEYS.toLocaleString('en-US')} keys overwritten in turn (each worker owns its keys), ${VALUE_BYTES}-byte values, WAL segments of ${mib(SEGMENT_BYTES)} MiB; the two configurations run one after the other in the same run. "Data dir" is the largest node data directory, sampled every 500 ms while writing and at the end. "Restart" is a follower SIGKILLed after the writes, from spawn to listening; "storage read" is the time it logs for opening its WAL and snapshot. Every key is then read back (linearizable gets) and must hold its last acknowledged value.`,
    '',
    table(
      [
        'configuration',
        'puts/s',
        'acknowledged',
        'data dir max MiB',
        'data dir end MiB',
        'restart ms',
        'storage read ms',
        'verified',
      ],
      rows,
    ),
    '',
    `Stated bound with snapshots: two snapshot images (~1.3 MB each here) plus a WAL of at most 2 × snapshot-entries + tail entries (~190 bytes each on disk) plus two segments, about ${mib(bound + 2 * 1.4e6)} MiB, whatever the number of writes. Without snapshots the WAL grows with every write.`,
    '',
    `Load average at the end: ${loadavg()[0]!.toFixed(1)}.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const results: Result[] = [];
  // BENCH_SNAPSHOT_ORDER=reverse runs "no snapshots" first (the shared machine's load drifts).
  const order = process.env.BENCH_SNAPSHOT_ORDER === 'reverse' ? [...CONFIGS].reverse() : CONFIGS;
  for (const config of order) results.push(await runConfig(config));
  writeSection('snapshots', report(results));
  console.error('wrote the snapshots section of BENCHMARKS.md');
}

await main();
