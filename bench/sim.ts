// npm run bench:sim: simulated client operations per second and seeds per minute, on one core.
// Target (issue 2): 50,000 simulated client ops/s, so a 1,000-seed sweep of 2,000 ops each takes
// under a minute per core. Measured with and without the linearizability check of each history.
import { cpus, loadavg } from 'node:os';
import { defaultSimOptions } from '../sim/config.js';
import { parseSeeds, runSweep } from '../sim/sweep.js';
import { table, writeSection } from './report.js';

const TARGET_OPS_PER_S = 50_000;

interface Row {
  label: string;
  cpuS: number;
  opsPerCpuS: number;
  seeds: number;
  opsPerSeed: number;
  wallS: number;
  opsPerS: number;
  seedsPerMin: number;
  failed: number;
}

function measure(label: string, nodes: number, seeds: string, opsPerSeed: number, check: boolean): Row {
  const { seed: _seed, ...base } = defaultSimOptions({ nodes, ops: opsPerSeed, checkLinearizability: check });
  // Warm the JIT on a few seeds outside the measured range, as a long sweep would be.
  runSweep({ seeds: parseSeeds('100001..100003'), base });
  const cpuBefore = process.cpuUsage();
  const result = runSweep({ seeds: parseSeeds(seeds), base });
  const cpu = process.cpuUsage(cpuBefore);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const wallS = result.elapsedMs / 1000;
  const row: Row = {
    label,
    cpuS,
    opsPerCpuS: result.ops / cpuS,
    seeds: result.total,
    opsPerSeed,
    wallS,
    opsPerS: result.ops / wallS,
    seedsPerMin: (result.total / wallS) * 60,
    failed: result.failures.length,
  };
  process.stderr.write(
    `${label}: ${row.opsPerS.toFixed(0)} ops/s wall, ${row.opsPerCpuS.toFixed(0)} ops per CPU-second, ${row.seedsPerMin.toFixed(1)} seeds/min (${row.seeds} seeds in ${wallS.toFixed(1)} s)\n`,
  );
  return row;
}

const rows = [
  measure('5 nodes, all faults, simulation only', 5, '1..20', 2000, false),
  measure('5 nodes, all faults, with linearizability check', 5, '1..20', 2000, true),
  measure('3 nodes, all faults, with linearizability check', 3, '1..20', 2000, true),
];

const body = [
  '## Simulator (`npm run bench:sim`)',
  '',
  `Target: **${TARGET_OPS_PER_S.toLocaleString('en')} simulated client operations per second on one core**, so a 1,000-seed sweep of 2,000 operations per seed takes under a minute per core.`,
  '',
  table(
    [
      'run',
      'seeds × ops',
      'wall time',
      'CPU time',
      'client ops/s, wall',
      'client ops per CPU-second (target 50,000)',
      'seeds/min',
      '1,000-seed sweep (wall)',
      '1,000-seed sweep (one core, CPU time)',
      'failed',
    ],
    rows.map((r) => [
      r.label,
      `${r.seeds} × ${r.opsPerSeed}`,
      `${r.wallS.toFixed(1)} s`,
      `${r.cpuS.toFixed(1)} s`,
      Math.round(r.opsPerS).toLocaleString('en'),
      `${Math.round(r.opsPerCpuS).toLocaleString('en')} (${((r.opsPerCpuS / TARGET_OPS_PER_S) * 100).toFixed(0)}% of target)`,
      r.seedsPerMin.toFixed(1),
      `${(1000 / r.seedsPerMin).toFixed(1)} min`,
      `${((1000 * r.opsPerSeed) / r.opsPerCpuS / 60).toFixed(1)} min`,
      r.failed,
    ]),
  ),
  '',
  'One process, seeds run one after another; a warm-up of three seeds precedes each row. "Simulation only" skips the linearizability check of each seed\'s history (the Raft safety properties are still checked after every event). Seeds/min and the 1,000-seed projection are wall-clock figures.',
  '',
  `Load average when the run ended: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ', ',
    )} on ${cpus().length} cores. On a shared machine wall-clock rates drop with the load; CPU time (user + system of this process, including GC threads) is the fairer "one core" figure.`,
  '',
  '**Status: below target.** The simulator spends about 25 events per client operation at 5 nodes (ticks, heartbeats, appends and answers, ReadIndex rounds, client packets), each a full step + Ready cycle of the real core plus the safety checks; see docs/simulator.md.',
];
writeSection('sim', body.join('\n'));
process.stdout.write(body.join('\n') + '\n');
