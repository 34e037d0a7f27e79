// The memory of `lab check` as a process: its peak RSS on a small file (what it loads to start),
// and its peak RSS under --memory-limit on hard histories (the limit must hold within 10 %).
// Runs the built CLI (dist/) under /usr/bin/time, each check in a fresh process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disagreeingReads, hardHistories, writeJsonl } from './hard-histories.js';
import { table } from './report.js';

const ROOT = join(import.meta.dirname, '..');
const LAB = join(ROOT, 'bin', 'lab.js');
const TIME = '/usr/bin/time';
const SMALL_FILE = join(ROOT, 'checker', 'test', 'porcupine-data', 'kv', 'c01-ok.txt');
const RUNS = 3;
const LIMITS_MIB = [128, 256];
const TIME_LIMIT_S = 20;
const VERDICTS: Record<number, string> = { 0: 'ok', 1: 'illegal', 2: 'unknown', 254: 'refused' };

/** Peak RSS (MiB) and exit status of one command under /usr/bin/time. */
function peak(command: string, args: string[]): { mib: number; status: number } {
  const run = spawnSync(TIME, ['-f', 'peak-kb %M', command, ...args], { encoding: 'utf8', cwd: ROOT });
  const kib = /peak-kb (\d+)/.exec(run.stderr);
  if (kib === null) throw new Error(`no peak RSS from ${TIME}: ${run.stderr}`);
  return { mib: Number(kib[1]) / 1024, status: run.status ?? -1 };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** The hard files for the limit: the largest generated ones and one that fills any memory. */
function hardFiles(dir: string): string[] {
  const wanted = new Set([
    'c50-10keys-1700ops-bad-seed50',
    'w50-1key-5000ops-bad-seed5000',
    'w50-1key-5000ops-puts2pc-bad-seed5000',
  ]);
  const files = hardHistories()
    .filter((h) => wanted.has(h.name))
    .map((h) => writeJsonl(dir, h.name, h.events()));
  files.push(writeJsonl(dir, 'disagreeing-reads-30-after-3000-puts', disagreeingReads(30, 3000)));
  return files;
}

export function memorySection(): string {
  if (!existsSync(TIME)) return `(${TIME} is missing: the memory figures were not measured)`;
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first');
  const node = median(Array.from({ length: RUNS }, () => peak(process.execPath, ['-e', '0']).mib));
  const small = median(
    Array.from({ length: RUNS }, () => peak(process.execPath, [LAB, 'check', SMALL_FILE]).mib),
  );
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-bench-memory-'));
  const rows: string[][] = [];
  try {
    for (const file of hardFiles(dir)) {
      for (const limit of LIMITS_MIB) {
        const args = [
          LAB,
          'check',
          file,
          '--memory-limit',
          `${limit}MiB`,
          '--time-limit',
          String(TIME_LIMIT_S),
        ];
        const { mib, status } = peak(process.execPath, args);
        const name = file.slice(dir.length + 1, -'.jsonl'.length);
        process.stderr.write(
          `memory ${name} at ${limit} MiB: ${VERDICTS[status] ?? status}, peak ${mib.toFixed(0)} MiB\n`,
        );
        rows.push([
          name,
          `${limit}`,
          VERDICTS[status] ?? String(status),
          mib.toFixed(0),
          `${((100 * mib) / limit).toFixed(0)} %`,
        ]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    '### Process memory of `lab check`',
    '',
    `Peak RSS (\`/usr/bin/time\`, median of ${RUNS}) of \`lab check checker/test/porcupine-data/kv/c01-ok.txt\`: **${small.toFixed(0)} MiB**; of \`node -e 0\` on this machine: ${node.toFixed(0)} MiB. Porcupine (issue 13): 37 MiB on c50-bad.`,
    '',
    `Under \`--memory-limit\` (and \`--time-limit ${TIME_LIMIT_S}\`), each file in a fresh \`lab check\` process; the peak must stay within 110 % of the limit:`,
    '',
    table(['history', 'limit MiB', 'verdict', 'peak RSS MiB', 'of the limit'], rows),
  ].join('\n');
}
