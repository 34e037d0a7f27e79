// npm run bench:sim-ab -- DIR: simulator speed of this tree against another checkout of raftlab
// (DIR holds its sim/, server/, checker/, proto/ and client/), both loaded in one process and swept
// alternately, so the machine's load falls on both alike. Reports client operations per CPU-second
// at 5 nodes with the linearizability check (the bench:sim row with the 40,000 floor), median of
// ROUNDS alternations. Each tree runs its own defaults, so the figure includes any change in the
// faults and checks per operation, which is the point: what a sweep now costs.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultSimOptions } from '../sim/config.js';
import { parseSeeds, runSweep } from '../sim/sweep.js';

const baselineDir = process.argv[2];
if (baselineDir === undefined) {
  process.stderr.write('usage: npm run bench:sim-ab -- DIR (another checkout of raftlab)\n');
  process.exit(254);
}
const ROUNDS = 5;
const SEEDS = '1..10';
const OPS = 2000;

type Sweep = typeof runSweep;
type Defaults = typeof defaultSimOptions;
const base = {
  runSweep: ((await import(pathToFileURL(resolve(baselineDir, 'sim/sweep.ts')).href)) as { runSweep: Sweep })
    .runSweep,
  defaults: (
    (await import(pathToFileURL(resolve(baselineDir, 'sim/config.ts')).href)) as {
      defaultSimOptions: Defaults;
    }
  ).defaultSimOptions,
};
const head = { runSweep, defaults: defaultSimOptions };

function opsPerCpuSecond(tree: typeof head): number {
  const { seed: _seed, ...options } = tree.defaults({ nodes: 5, ops: OPS, checkLinearizability: true });
  const before = process.cpuUsage();
  const result = tree.runSweep({ seeds: parseSeeds(SEEDS), base: options });
  const cpu = process.cpuUsage(before);
  if (result.failures.length > 0) throw new Error(`${result.failures.length} seeds failed`);
  return result.ops / ((cpu.user + cpu.system) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
opsPerCpuSecond(base);
opsPerCpuSecond(head); // warm both
const rates = { base: [] as number[], head: [] as number[] };
for (let i = 0; i < ROUNDS; i++) {
  rates.base.push(opsPerCpuSecond(base));
  rates.head.push(opsPerCpuSecond(head));
  process.stderr.write(
    `round ${i + 1}: before ${rates.base.at(-1)?.toFixed(0)}, after ${rates.head.at(-1)?.toFixed(0)}\n`,
  );
}
const b = median(rates.base);
const h = median(rates.head);
process.stdout.write(
  `5 nodes, all faults, with the check, seeds ${SEEDS} x ${OPS} ops, median of ${ROUNDS}: before ${b.toFixed(0)}, after ${h.toFixed(0)} client ops per CPU-second (${((h / b - 1) * 100).toFixed(1)}%)\n`,
);
