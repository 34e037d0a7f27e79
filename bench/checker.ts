// npm run bench:checker — times the checker on Porcupine's histories (checker/test/porcupine-data)
// next to Porcupine's reference figures, and the cost of the counterexample for every illegal file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory } from '../checker/check.js';
import { loadHistory, type LoadedHistory } from '../checker/readers/index.js';
import type { SearchVariant } from '../checker/search.js';
import { writeCounterexampleViews } from '../checker/view/index.js';
import { PORCUPINE_DATA_DIR, porcupineDataMissing } from '../test-support/porcupine-data.js';
import { hardChild, hardSection } from './checker-hard.js';
import { memorySection } from './checker-memory.js';
import { table, writeSection } from './report.js';

const data = PORCUPINE_DATA_DIR;
const missing = porcupineDataMissing();
if (missing !== undefined) {
  process.stderr.write(`bench:checker: ${missing}\n`);
  process.exit(1);
}
const WARMUP_RUNS = 3;
const TIMED_RUNS = 9;

/** Porcupine v1.3.0 (Go) figures from checker/test/porcupine-data/README.md. */
const PORCUPINE_MS: Record<string, number> = { 'jepsen/etcd_002.log': 187, 'jepsen/etcd_007.log': 118 };
const PORCUPINE_ALL_103_ETCD_MS = 490;

interface Row {
  file: string;
  expected: string;
  history: LoadedHistory;
}

function rows(): Row[] {
  const lines = readFileSync(join(data, 'EXPECTED.tsv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [file, , , expected] = line.split('\t') as [string, string, string, string];
    return { file, expected, history: loadHistory(join(data, file)) };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Median CPU time (user + system of this process) and median wall time. The machine is shared,
 * so wall time includes waiting for a core; CPU time is the checker's own work.
 */
function timeMs(run: () => void, timed = TIMED_RUNS): { cpu: number; wall: number } {
  for (let i = 0; i < WARMUP_RUNS; i++) run();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < timed; i++) {
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    run();
    wall.push(performance.now() - started);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  return { cpu: median(cpu), wall: median(wall) };
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

function perFile(all: Row[]): { rows: (string | number)[][]; medians: Map<string, number> } {
  const medians = new Map<string, number>();
  const out: (string | number)[][] = [];
  for (const row of all) {
    const check = () => checkHistory(row.history.events, { model: row.history.model });
    const verdict = check().verdict;
    if (verdict !== row.expected) throw new Error(`${row.file}: got ${verdict}, expected ${row.expected}`);
    const { cpu, wall } = timeMs(check);
    medians.set(row.file, cpu);
    process.stderr.write(
      `${row.file.padEnd(24)} ${verdict.padEnd(8)} ${fmt(cpu)} ms CPU, ${fmt(wall)} ms wall\n`,
    );
    const reference = PORCUPINE_MS[row.file];
    if (reference !== undefined || cpu >= 1 || row.file.startsWith('kv/')) {
      out.push([row.file, verdict, fmt(cpu), fmt(wall), reference === undefined ? '' : String(reference)]);
    }
  }
  return { rows: out, medians };
}

/** Every illegal file, in a child process of its own so its peak memory is its own. */
function counterexamples(all: Row[]): (string | number)[][] {
  const out: (string | number)[][] = [];
  let worst = { ms: 0, rssMiB: 0, file: '' };
  for (const row of all.filter((r) => r.expected === 'illegal')) {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', import.meta.filename, '--counterexample', row.file],
      {
        encoding: 'utf8',
        cwd: join(import.meta.dirname, '..'),
      },
    );
    if (child.status !== 0) throw new Error(`${row.file}: ${child.stderr}`);
    const m = JSON.parse(child.stdout) as {
      ms: number;
      rssMiB: number;
      linearized: number;
      operations: number;
    };
    if (m.ms > worst.ms) worst = { ...m, file: row.file };
    worst.rssMiB = Math.max(worst.rssMiB, m.rssMiB);
    process.stderr.write(
      `counterexample ${row.file}: ${fmt(m.ms)} ms, peak RSS ${m.rssMiB.toFixed(0)} MiB\n`,
    );
    if (m.ms >= 5 || row.file.startsWith('kv/'))
      out.push([row.file, fmt(m.ms), m.rssMiB.toFixed(0), `${m.linearized}/${m.operations}`]);
  }
  out.push([`**slowest: ${worst.file}**`, fmt(worst.ms), `max over all: ${worst.rssMiB.toFixed(0)}`, '']);
  return out;
}

/** Child mode: check one illegal file and write its counterexample page; print time and peak RSS. */
function counterexampleChild(file: string): void {
  const history = loadHistory(join(data, file));
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-bench-'));
  const started = performance.now();
  const result = checkHistory(history.events, { model: history.model });
  writeCounterexampleViews(history.events, result, dir);
  const ms = performance.now() - started;
  rmSync(dir, { recursive: true, force: true });
  const cx = result.keys.find((k) => k.verdict === 'illegal')?.counterexample;
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    JSON.stringify({ ms, rssMiB, linearized: cx?.linearized ?? 0, operations: cx?.operations ?? 0 }),
  );
}

async function main(): Promise<void> {
  const all = rows();
  const { rows: fileRows, medians } = perFile(all);
  const etcd = all.filter((r) => r.file.startsWith('jepsen/'));
  const kv = all.filter((r) => r.file.startsWith('kv/'));
  const together = (list: Row[]) => () => {
    for (const r of list) checkHistory(r.history.events, { model: r.history.model });
  };
  const etcdAll = timeMs(together(etcd), 5);
  const kvAll = timeMs(together(kv), 5);
  const both = (t: { cpu: number; wall: number }) => `${fmt(t.cpu)} ms CPU (${fmt(t.wall)} ms wall)`;
  const slowPair = (medians.get('jepsen/etcd_002.log') ?? 0) + (medians.get('jepsen/etcd_007.log') ?? 0);
  const cx = counterexamples(all);
  const hard = hardSection();
  const memory = memorySection();
  const body = [
    `Checker on Porcupine's public histories (\`checker/test/porcupine-data\`), median of ${TIMED_RUNS} runs after ${WARMUP_RUNS} warm-up runs, in one Node process (tsx). CPU time is the process's user + system time; wall time also counts waiting for a core on this shared machine (other jobs ran alongside; load average at the start ${loadavg()[0]!.toFixed(1)}). Porcupine's figures are v1.3.0 (Go) wall times from that folder's README, measured on a quiet 2-vCPU machine of this kind.`,
    '',
    table(['history', 'verdict', 'raftlab CPU ms', 'raftlab wall ms', 'Porcupine ms'], fileRows),
    '',
    `Files under 1 ms are left out of the table. All ${all.length} verdicts match EXPECTED.tsv.`,
    '',
    table(
      ['set', 'raftlab', 'Porcupine'],
      [
        [
          `all ${etcd.length} etcd logs here, together`,
          both(etcdAll),
          `≥ 305 ms (etcd_002 + etcd_007 alone, both in this set)`,
        ],
        [
          'all 103 etcd logs of the full corpus',
          'not available here',
          `${PORCUPINE_ALL_103_ETCD_MS} ms (≈ ${fmt((PORCUPINE_ALL_103_ETCD_MS * etcd.length) / 103)} ms per 50 logs, if uniform)`,
        ],
        ['etcd_002 + etcd_007', `${fmt(slowPair)} ms CPU`, '305 ms'],
        [`all ${kv.length} kv files, together`, both(kvAll), 'c50-ok alone 147 ms (not in this subset)'],
      ],
    ),
    '',
    "Counterexample for every illegal file: check, then write its HTML page; each file in a fresh process, time and that process's peak RSS (target: under 10 s and 1 GiB each). Only files over 5 ms and the kv files are listed.",
    '',
    table(['illegal history', 'ms', 'peak RSS MiB', 'longest partial linearization (first illegal key)'], cx),
    '',
    hard,
    '',
    memory,
  ].join('\n');
  writeSection('checker', body);
  process.stderr.write('wrote the checker section of BENCHMARKS.md\n');
}

const at = process.argv.indexOf('--counterexample');
const hardAt = process.argv.indexOf('--hard');
const variantAt = process.argv.indexOf('--variant');
if (at >= 0) counterexampleChild(process.argv[at + 1]!);
else if (hardAt >= 0)
  hardChild(
    process.argv[hardAt + 1]!,
    variantAt >= 0 ? (process.argv[variantAt + 1] as SearchVariant) : undefined,
  );
else await main();
