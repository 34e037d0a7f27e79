// WAL micro-benchmark: closed-loop writers each saving one 100-byte entry plus a hard state and
// waiting for it to be durable, at several concurrencies, on the disk under the data directory.
// Reports saves/s, fdatasync calls/s, saves covered per sync (group commit) and save latency.
// Run: npx tsx bench/storage.ts [--seconds N] [--dir DIR]   (writes the "storage" section of BENCHMARKS.md)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openWal } from '../server/storage/index.js';
import { writeSection } from './report.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    dir: { type: 'string', default: join(import.meta.dirname, '..') },
  },
});
const seconds = Number(values.seconds);
const concurrencies = [1, 8, 64, 256];

interface Row {
  concurrency: number;
  savesPerSec: number;
  syncsPerSec: number;
  savesPerSync: number;
  p50Ms: number;
  p99Ms: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function measure(concurrency: number): Promise<Row> {
  const dir = mkdtempSync(join(values.dir, '.bench-wal-'));
  const wal = await openWal(dir);
  const data = new Uint8Array(100).fill(0x61);
  const latenciesMs: number[] = [];
  let next = 1;
  const deadline = performance.now() + seconds * 1000;
  async function writer(): Promise<void> {
    while (performance.now() < deadline) {
      const index = next++;
      const start = performance.now();
      await wal.save({ term: 1, vote: 'n1', commit: index - 1 }, [{ index, term: 1, type: 'normal', data }]);
      latenciesMs.push(performance.now() - start);
    }
  }
  const begun = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => writer()));
  const elapsedSec = (performance.now() - begun) / 1000;
  const { saves, syncs } = wal.stats;
  await wal.close();
  rmSync(dir, { recursive: true, force: true });
  latenciesMs.sort((a, b) => a - b);
  return {
    concurrency,
    savesPerSec: saves / elapsedSec,
    syncsPerSec: syncs / elapsedSec,
    savesPerSync: saves / syncs,
    p50Ms: quantile(latenciesMs, 0.5),
    p99Ms: quantile(latenciesMs, 0.99),
  };
}

/** Opens a WAL holding `count` 100-byte entries (written in saves of 1,000) and times the replay. */
async function measureReplay(
  count: number,
): Promise<{ entriesPerSec: number; mibPerSec: number; ms: number }> {
  const dir = mkdtempSync(join(values.dir, '.bench-wal-'));
  const wal = await openWal(dir);
  const data = new Uint8Array(100).fill(0x62);
  for (let from = 1; from <= count; from += 1000) {
    const batch = Array.from({ length: 1000 }, (_, i) => ({
      index: from + i,
      term: 1,
      type: 'normal' as const,
      data,
    }));
    await wal.save({ term: 1, vote: 'n1', commit: from - 1 }, batch);
  }
  const bytes = wal.stats.bytesWritten;
  await wal.close();
  const start = performance.now();
  const again = await openWal(dir);
  const ms = performance.now() - start;
  if (again.state.entries.length !== count)
    throw new Error(`replayed ${again.state.entries.length} of ${count}`);
  await again.close();
  rmSync(dir, { recursive: true, force: true });
  return { entriesPerSec: count / (ms / 1000), mibPerSec: bytes / 2 ** 20 / (ms / 1000), ms };
}

const rows: Row[] = [];
for (const c of concurrencies) {
  const row = await measure(c);
  rows.push(row);
  process.stderr.write(
    `concurrency ${c}: ${row.savesPerSec.toFixed(0)} saves/s, ${row.syncsPerSec.toFixed(0)} syncs/s, ` +
      `${row.savesPerSync.toFixed(1)} saves/sync, p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms\n`,
  );
}

const replayCount = 200_000;
const replayed = await measureReplay(replayCount);
process.stderr.write(`replay of ${replayCount} entries: ${replayed.ms.toFixed(0)} ms\n`);

const table = [
  '| concurrency | saves/s | fdatasync/s | saves per sync | p50 ms | p99 ms |',
  '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.concurrency} | ${r.savesPerSec.toFixed(0)} | ${r.syncsPerSec.toFixed(0)} | ${r.savesPerSync.toFixed(1)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} |`,
  ),
];
writeSection(
  'storage',
  `## Write-ahead log (\`npx tsx bench/storage.ts\`)

Closed-loop writers, each saving one 100-byte entry plus a hard state and waiting for fdatasync,
${seconds} s per row, data directory on the project's disk. Load average at the end: ${loadavg()[0]!.toFixed(1)} (the machine is shared; a high load makes these figures pessimistic). Group commit shows as saves per sync > 1.

${table.join('\n')}

Replay at open: ${replayCount.toLocaleString('en-US')} entries of 100 B in ${replayed.ms.toFixed(0)} ms (${(replayed.entriesPerSec / 1e6).toFixed(2)} M entries/s, ${replayed.mibPerSec.toFixed(0)} MiB/s, checksums included).`,
);
