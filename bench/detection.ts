// `npm run bench:detection`: the lab's measured power. Runs every --server-unsafe variant with the
// nemesis meant to expose it, N short runs each (`lab run --test-count N`), plus the correct server
// under all of those faults, and reports the detection rate, the median run time of the runs that
// caught it and the run time until the first detection, and the correct server's false positives.
// Usage: npm run bench:detection -- [--runs N] [--time-limit S] [--runtime local|docker] [--only a,b]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarizeSeries, type SeriesRun } from '../chaos/series.js';
import { table, writeSection } from './report.js';

const lab = join(import.meta.dirname, '..', 'bin', 'lab.js');

/** Short election timeouts: more elections per run, and a narrower spread between candidates. */
const FAST_ELECTIONS = ['--election-timeout-ms', '300', '--heartbeat-interval-ms', '50'];
/** Shorter still, on 5 ms ticks: elections line up within a round trip more often. */
const SHORT_ELECTIONS = ['--election-timeout-ms', '150', '--heartbeat-interval-ms', '30', '--tick-ms', '5'];

/**
 * The variant, the schedule meant to expose it (the "matching nemesis"; these flags come
 * after the common ones, so they may override --nodes or --rate), and why that schedule.
 */
const CASES: readonly { variant: string; label?: string; args: string[]; why: string }[] = [
  {
    variant: 'commit-previous-term',
    args: ['--nodes', '5', '--nemesis', 'isolate-leader,stale-candidate,pause-leader', ...FAST_ELECTIONS],
    why: 'Figure 8 needs an old-term entry on a minority to be committed by counting and then overwritten: pinned clients write to an isolated or paused old leader (entries of its term on it alone) and leadership moves among 5 nodes; no schedule tried so far (also kills, halves, bridges, WAL crash points) produced it in 20 s runs',
  },
  {
    variant: 'vote-twice',
    args: [
      ...['--nodes', '5', '--nemesis', 'pause-leader,isolate-leader,kill', '--fault-targets', 'all'],
      ...SHORT_ELECTIONS,
    ],
    why: 'two candidates of one term need elections that start within a round trip and an fsync of each other: 5 nodes, 150 ms election timeouts, every node killed and restarted together (so all election timers start at once, as at cluster start-up), the leader paused or isolated; two leaders of one term meet and stop on the invariant',
  },
  {
    variant: 'no-log-check-on-vote',
    args: ['--nemesis', 'stale-candidate', ...FAST_ELECTIONS],
    why: 'a stale node must win an election: stale-candidate isolates a follower while the others commit, kills the leader and heals the follower while the leader is down; if the stale one wins, the up-to-date follower stops on "conflict at committed index"',
  },
  {
    variant: 'stale-leader-read',
    args: ['--nemesis', 'isolate-leader'],
    why: 'the isolated old leader keeps serving reads to its pinned clients while the majority takes writes',
  },
  {
    variant: 'no-session-dedup',
    args: ['--nemesis', 'partition', '--client-response-loss', '0.2'],
    why: 'lost responses make the client retry writes in their session',
  },
  {
    variant: 'send-before-persist',
    args: [
      ...['--failpoints', 'wal-after-write-before-fsync=power@0.01', '--nemesis', 'stale-candidate,power'],
      ...['--fault-targets', 'all', ...FAST_ELECTIONS],
    ],
    why: 'a follower acknowledges before its write: the WAL crash point cuts power right after a write, so an acknowledged entry is lost on that follower; power cuts of every node and stale-candidate elections then let nodes without it win',
  },
  {
    variant: 'ack-before-fsync',
    args: ['--nemesis', 'power', '--fault-targets', 'all'],
    why: 'nothing is fsynced: a power cut of every node loses acknowledged writes',
  },
  {
    variant: 'lease-read-no-clock-bound',
    args: [
      ...['--nemesis', 'clock,partition', '--partition-shapes', 'isolate-leader'],
      ...['--fault-targets', 'leader', '--rate', '200', '--concurrency', '4n', '--keys-active', '1'],
    ],
    why: 'a slow clock on an isolated leader keeps its lease after the others elected a new leader',
  },
  {
    variant: 'none',
    args: [
      ...['--nemesis', 'isolate-leader,pause-leader,stale-candidate,partition,kill,power,clock'],
      ...['--fault-targets', 'one,leader,majority,all', ...FAST_ELECTIONS],
      ...['--failpoints', 'wal-after-write-before-fsync=power@0.01'],
    ],
    why: 'the correct server under the union of the 3-node schedules above',
  },
  {
    variant: 'none',
    label: '5 nodes',
    args: [
      ...['--nodes', '5', '--nemesis', 'isolate-leader,pause-leader,stale-candidate,kill'],
      ...['--fault-targets', 'leader,all', ...SHORT_ELECTIONS],
    ],
    why: 'the correct server under the 5-node schedules above, with the shortest election timeouts',
  },
];

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      'time-limit': { type: 'string', default: '10' },
      runtime: { type: 'string', default: 'local' },
      only: { type: 'string', default: '' },
    },
  });
  const runs = Number(values.runs);
  const timeLimit = Number(values['time-limit']);
  if (!Number.isInteger(runs) || runs < 1 || !(timeLimit >= 1))
    throw new Error('--runs must be an integer >= 1 and --time-limit a number >= 1');
  if (values.runtime !== 'local' && values.runtime !== 'docker')
    throw new Error('--runtime must be local or docker');
  const only = values.only.split(',').filter((v) => v !== '');
  return { runs, timeLimit, runtime: values.runtime, only };
}

/** One series of `lab run --test-count N`; returns each run's results.json, in order. */
function series(
  args: readonly string[],
  variant: string,
  runs: number,
  timeLimit: number,
  runtime: string,
): Promise<SeriesRun[]> {
  const store = mkdtempSync(join(tmpdir(), 'bench-detection-'));
  // --nodes 3 first: a case's own flags come after and override it.
  const all = [lab, 'run', '--runtime', runtime, '--nodes', '3', '--time-limit', String(timeLimit)];
  all.push('--nemesis-interval', '3', '--rate', '50', '--test-count', String(runs), '--store', store);
  // Half the clients pinned to their node: the old leader's clients keep asking it (stale reads).
  all.push('--client-mode', 'mixed');
  all.push('--name', variant, ...args);
  if (variant !== 'none') all.push('--server-unsafe', variant);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, all, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', () => {
      const dir = join(store, variant);
      if (!existsSync(dir)) return reject(new Error(`lab run wrote no run folder for ${variant}`));
      const folders = readdirSync(dir)
        .filter((name) => name !== 'latest' && existsSync(join(dir, name, 'results.json')))
        .sort();
      resolve(
        folders.map((name) => JSON.parse(readFileSync(join(dir, name, 'results.json'), 'utf8')) as SeriesRun),
      );
    });
  });
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const rowName = (variant: string, label?: string) =>
  label !== undefined ? `correct server (${label})` : variant === 'none' ? 'correct server' : variant;

const seconds = (s: number | null) => (s === null ? 'n/a' : `${s.toFixed(1)} s`);

async function main(): Promise<void> {
  const { runs, timeLimit, runtime, only } = options();
  const rows: (string | number)[][] = [];
  for (const { variant, label, args } of CASES) {
    if (only.length > 0 && !only.includes(variant)) continue;
    process.stderr.write(`bench:detection: ${variant}: ${runs} runs of ${timeLimit} s (${args.join(' ')})\n`);
    const results = await series(args, variant, runs, timeLimit, runtime);
    const s = summarizeSeries(results);
    const caught = results.filter((r) => r.verdict === 'invalid');
    const byInvariant = caught.filter(
      (r) => (r as { invariantViolations?: unknown[] }).invariantViolations?.length,
    );
    const runSeconds = caught.map(
      (r) => (Date.parse(r.finishedAt ?? r.startedAt) - Date.parse(r.startedAt)) / 1000,
    );
    rows.push([
      rowName(variant, label),
      `\`${args.join(' ')}\``,
      variant === 'none' ? `${s.invalid} of ${s.runs} (false positives)` : `${s.invalid} of ${s.runs}`,
      `${caught.length - byInvariant.length} / ${byInvariant.length}`,
      `${s.unknown} / ${s.incomplete}`,
      seconds(median(runSeconds)),
      seconds(s.secondsToFirstInvalid),
    ]);
    process.stderr.write(`bench:detection: ${variant}: ${s.invalid} of ${s.runs} invalid\n`);
  }
  const body = [
    '## Detection power (`npm run bench:detection`)',
    '',
    `Each row: \`lab run --runtime ${runtime} --nodes 3 --time-limit ${timeLimit} --nemesis-interval 3 --rate 50 --test-count ${runs}\` (with \`--client-mode mixed\`) with the row's \`--server-unsafe\` variant and faults (which may override \`--nodes\` and \`--rate\`). "Invalid" counts runs with a non-linearizable key or a node that stopped on a broken Raft invariant. "median run" is the wall time (start, faults, heal, check) of the runs that came out invalid; "to first detection" adds up the runs until the first invalid one. N = ${runs} per row: a small sample, not the issue's 10 × 60 s.`,
    '',
    table(
      [
        ...['server', 'faults', 'invalid', 'by checker / by invariant', 'unknown / incomplete'],
        ...['median run (invalid)', 'to first detection'],
      ],
      rows,
    ),
    '',
    `Load average at the end: ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores (shared machine).`,
    '',
    'Why each schedule:',
    '',
    ...CASES.filter((c) => only.length === 0 || only.includes(c.variant)).map(
      (c) => `- ${rowName(c.variant, c.label)}: ${c.why}.`,
    ),
  ].join('\n');
  writeSection('detection', body);
  process.stdout.write(`${body}\n`);
}

await main();
