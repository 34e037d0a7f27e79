// The hard class of bench:checker: histories from bench/hard-histories.ts (many writers on one key,
// appends read back, long-running operations, the starvation example), each checked in a fresh
// process so its peak RSS is its own, next to the figures issue 13 quotes for Porcupine v1.3.0.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { checkHistory, type CheckOptions } from '../checker/check.js';
import { formatMiB } from '../checker/memory.js';
import type { SearchVariant } from '../checker/search.js';
import { hardHistories, manyWriters } from './hard-histories.js';
import { table } from './report.js';

/** Every hard file gets this long; past it the verdict is unknown (and shown as such). */
const TIME_LIMIT_MS = 10_000;
const RUNS = 3;
const SLOW_MS = 2000;
/** The budget of each check here, so a search without the pruning cannot take the machine. */
const MEMORY_BYTES_MAX = 2 ** 30;

/** Porcupine v1.3.0 (Go) on the files these are shaped after, as quoted in issue 13. */
const PORCUPINE: Record<string, string> = {
  'starvation-13ops': '0.3 ms',
  'c50-10keys-1700ops-bad-seed50': "c50-bad: 50 ms, 37 MiB (Porcupine's file, same shape)",
  'c50-10keys-1700ops-ok-seed50': 'c50-ok: 147 ms (README)',
};

interface Case {
  name: string;
  variant?: SearchVariant;
}

const CASES: Case[] = [
  ...hardHistories().map(({ name }) => ({ name })),
  { name: 'w50-1key-1000ops-bad-seed1000', variant: 'plain' },
  { name: 'w50-1key-300ops-puts-ok-seed300' },
];

function eventsOf(name: string) {
  if (name === 'w50-1key-300ops-puts-ok-seed300')
    return manyWriters({ seed: 300, clients: 50, keys: 1, operations: 300, putShare: 0.02 });
  const found = hardHistories().find((h) => h.name === name);
  if (found === undefined) throw new Error(`no hard history named ${name}`);
  return found.events;
}

interface Measured {
  verdict: string;
  wallMs: number;
  cpuMs: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  searchBytes: number;
  operations: number;
  undecided: string;
}

/** Child mode: check one history RUNS times; the median time, the process's peak RSS. */
export function hardChild(name: string, variant: SearchVariant | undefined): void {
  const events = eventsOf(name);
  const rssBeforeMiB = process.memoryUsage().rss / 2 ** 20;
  const options: CheckOptions = {
    timeLimitMs: TIME_LIMIT_MS,
    memoryBytesMax: MEMORY_BYTES_MAX,
    ...(variant === undefined ? {} : { searchVariant: variant }),
  };
  const runs: { wall: number; cpu: number }[] = [];
  let result = checkHistory(events, options);
  // A slow file is measured once: repeating a 10 s time limit adds nothing but waiting.
  for (let i = 0; i < RUNS; i++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    result = checkHistory(events, options);
    const used = process.cpuUsage(cpu);
    runs.push({ wall: performance.now() - started, cpu: (used.user + used.system) / 1000 });
    if (runs[0]!.wall > SLOW_MS) break;
  }
  runs.sort((a, b) => a.wall - b.wall);
  const median = runs[Math.floor(runs.length / 2)]!;
  const undecided = result.keys.filter(
    (k) => k.verdict === 'unknown' && !k.reason?.startsWith('not checked'),
  );
  const measured: Measured = {
    verdict: result.verdict,
    wallMs: median.wall,
    cpuMs: median.cpu,
    rssBeforeMiB,
    rssPeakMiB: process.resourceUsage().maxRSS / 1024,
    searchBytes: result.memoryBytesPeak,
    operations: result.operations,
    undecided: undecided.map((k) => `${k.key}: ${k.reason}`).join('; '),
  };
  process.stdout.write(JSON.stringify(measured));
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

export function hardSection(): string {
  const rows: string[][] = [];
  for (const c of CASES) {
    const args = ['--import', 'tsx', join(import.meta.dirname, 'checker.ts'), '--hard', c.name];
    if (c.variant !== undefined) args.push('--variant', c.variant);
    const child = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      cwd: join(import.meta.dirname, '..'),
    });
    if (child.status !== 0) throw new Error(`${c.name}: ${child.stderr}`);
    const m = JSON.parse(child.stdout) as Measured;
    const label = c.variant === undefined ? c.name : `${c.name} (${c.variant} search)`;
    process.stderr.write(
      `${label}: ${m.verdict} ${fmt(m.wallMs)} ms, peak RSS ${m.rssPeakMiB.toFixed(0)} MiB\n`,
    );
    rows.push([
      label,
      String(m.operations),
      m.verdict + (m.undecided === '' ? '' : ` (${m.undecided})`),
      fmt(m.wallMs),
      fmt(m.cpuMs),
      m.rssPeakMiB.toFixed(0),
      (m.rssPeakMiB - m.rssBeforeMiB).toFixed(0),
      formatMiB(m.searchBytes),
      PORCUPINE[c.name] ?? '',
    ]);
  }
  const head = [
    'history',
    'ops',
    'verdict',
    'wall ms',
    'CPU ms',
    'peak RSS MiB',
    'RSS growth MiB',
    'search memory (counted)',
    'Porcupine (issue 13)',
  ];
  return [
    `### Hard histories (bench/hard-histories.ts)`,
    '',
    `Generated, seeded histories (the seed is in the name; \`tsx bench/hard-histories.ts --out DIR\` writes them): \`c50-*\` has 50 clients on 10 keys with 2 % puts, shaped like Porcupine's c50 kv files; \`w50-1key-*\` has 50 clients appending to and reading one key, 5 % of operations 10× longer; \`-bad\` turns one read in the middle stale. Each file in a fresh process (tsx), median of ${RUNS} runs after one warm-up run (one run when it takes over ${SLOW_MS / 1000} s), time limit ${TIME_LIMIT_MS / 1000} s, memory budget ${formatMiB(MEMORY_BYTES_MAX)}. Peak RSS is the whole process's (tsx and the history included); RSS growth is peak minus the RSS before the first check; search memory is what the checker's budget counted.`,
    '',
    table(head, rows),
    '',
    'Before issue 13 (the checker of commit 5b7a28f, same machine, time limit 20 s): the starvation example took 20 s (key a never finished), the c50-shaped bad file 9.3 s with a key unknown, the c50-shaped ok file ended unknown after 15.8 s (`lab check`, 3 GB peak RSS); in-process, `w50-1key-300ops-ok` ended "unknown (memory limit)" after 13.9 s at 2.2 GB peak RSS, `w50-1key-1000ops-bad` after 5.9 s at 1.7 GB, `w50-1key-5000ops-ok` after 6.2 s at 2.1 GB.',
    '',
    '`w50-1key-300ops-puts` keeps 2 % puts on the single key: a put concurrent with many appends lets every read after it escape the append pruning, and the appends before the put are still tried in every order. It is the known weak spot (docs/checker.md).',
  ].join('\n');
}
