// `npm run bench:lab`: time from `lab run` (the process starting) to the first client operation
// for a 5-node cluster, and the teardown time, on each runtime (docker when an engine answers).
// Targets (issue 5): the first operation under 10 s after `lab run` starts; teardown under 5 s with Docker.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HISTORY_FILE, RESULTS_FILE } from '../chaos/run-folder.js';
import { connectEngine, probeEngine } from '../chaos/runtime/docker/engine.js';
import { table, writeSection } from './report.js';

const lab = join(import.meta.dirname, '..', 'bin', 'lab.js');
const RUNS_PER_RUNTIME = 2;

interface Sample {
  firstOpMs: number;
  teardownMs: number;
  verdict: string;
}

/** One short run; the first `invoke` line in history.jsonl marks the first client operation. */
function sample(runtime: 'docker' | 'local'): Promise<Sample> {
  const store = mkdtempSync(join(tmpdir(), 'lab-bench-'));
  const args = [
    lab,
    'run',
    '--runtime',
    runtime,
    '--nodes',
    '5',
    '--nemesis',
    'none',
    '--time-limit',
    '3',
    '--store',
    store,
  ];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let firstOpMs: number | undefined;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const poll = setInterval(() => {
      const latest = join(store, 'latest', HISTORY_FILE);
      if (
        firstOpMs === undefined &&
        existsSync(latest) &&
        readFileSync(latest, 'utf8').includes('"invoke"')
      ) {
        firstOpMs = performance.now() - started;
      }
    }, 20);
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(poll);
      const teardown = /torn down in ([\d.]+)s/.exec(stderr);
      if (firstOpMs === undefined || teardown === null) {
        reject(
          new Error(
            `lab run --runtime ${runtime} exited ${status} without an operation or a teardown:\n${stderr.slice(-2000)}`,
          ),
        );
        return;
      }
      const results = JSON.parse(
        readFileSync(join(realpathSync(join(store, 'latest')), RESULTS_FILE), 'utf8'),
      ) as { verdict: string };
      resolve({ firstOpMs, teardownMs: Number(teardown[1]) * 1000, verdict: results.verdict });
    });
  });
}

async function main(): Promise<void> {
  const runtimes: ('docker' | 'local')[] = ['local'];
  const dockerProblem = await probeEngine(connectEngine());
  if (dockerProblem === undefined) runtimes.push('docker');
  else
    process.stderr.write(
      `bench:lab: no Docker engine (${dockerProblem}); measuring the local runtime only\n`,
    );
  const rows: (string | number)[][] = [];
  for (const runtime of runtimes) {
    // The first docker run may build the image; it is reported separately from the warm runs.
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS_PER_RUNTIME + (runtime === 'docker' ? 1 : 0); i++) {
      const s = await sample(runtime);
      process.stderr.write(
        `${runtime}: first operation after ${(s.firstOpMs / 1000).toFixed(1)} s, teardown ${(s.teardownMs / 1000).toFixed(1)} s (${s.verdict})\n`,
      );
      samples.push(s);
    }
    const warm = runtime === 'docker' ? samples.slice(1) : samples;
    const target = runtime === 'docker' ? '< 10 s to first op, < 5 s teardown' : '< 10 s to first op';
    const seconds = (values: number[]) => values.map((ms) => (ms / 1000).toFixed(1)).join(', ') + ' s';
    rows.push([
      runtime,
      seconds(warm.map((s) => s.firstOpMs)),
      seconds(warm.map((s) => s.teardownMs)),
      runtime === 'docker' ? `${((samples[0] as Sample).firstOpMs / 1000).toFixed(1)} s` : 'n/a',
      target,
    ]);
  }
  const body = [
    '## lab run: start-up and teardown (5 nodes)',
    '',
    `Each of ${RUNS_PER_RUNTIME} runs of \`lab run --nodes 5 --nemesis none --time-limit 3\` per runtime: from the \`lab\` process starting to the first client operation in history.jsonl (cluster started, leader elected), and the teardown the lab reports. The docker "first run" column includes building the server image when it is not cached.`,
    '',
    table(
      ['runtime', 'to first operation (each run)', 'teardown (each run)', 'first run (docker)', 'target'],
      rows,
    ),
    '',
    `Load average at the end: ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores (the machine is shared; under load the docker start-up has measured up to 15 s).`,
  ].join('\n');
  writeSection('lab', body);
  process.stdout.write(`${body}\n`);
}

await main();
