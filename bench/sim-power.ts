// npm run bench:sim-power: the simulator's power to find bugs, measured as seeds-to-first-failure
// for every documented unsafe variant at 3 and 5 nodes (all faults, 300 client operations per
// seed, seeds from 1 up to SEEDS_MAX). A variant not caught by then reads "not within N".
// Seeds are runs of the default settings, so the figures move whenever the simulator's draws do.
import { loadavg } from 'node:os';
import { LAB_ONLY_UNSAFE, UNSAFE_DESCRIPTIONS, UNSAFE_VARIANTS } from '../server/raft/unsafe.js';
import type { UnsafeVariant } from '../server/raft/unsafe.js';
import { defaultSimOptions, WAL_DISK_UNSAFE } from '../sim/config.js';
import { runSimulationAsync } from '../sim/simulation.js';
import { table, writeSection } from './report.js';

const SEEDS_MAX = Number(process.env.SIM_POWER_SEEDS_MAX ?? 300);
const OPS_PER_SEED = 300;
const NODES = [3, 5] as const;

interface Cell {
  seed: number | undefined;
  property: string;
  cpuS: number;
}

/** The WAL's variants run on the WAL disk (--disk wal), every other one on the model disk. */
async function firstFailure(variant: UnsafeVariant, nodes: number): Promise<Cell> {
  const cpuBefore = process.cpuUsage();
  const disk = WAL_DISK_UNSAFE.includes(variant) ? 'wal' : 'model';
  for (let seed = 1; seed <= SEEDS_MAX; seed++) {
    // Leases forced on seeds whose clocks promise nothing to leases (ReadIndex seeds).
    const reads = variant === 'lease-read-no-clock-bound' ? 'index' : 'mixed';
    const { summary } = await runSimulationAsync(
      defaultSimOptions({ seed, nodes, ops: OPS_PER_SEED, unsafe: new Set([variant]), disk, reads }),
    );
    if (!summary.passed)
      return { seed, property: summary.violation?.property ?? '?', cpuS: cpuSince(cpuBefore) };
  }
  return { seed: undefined, property: '-', cpuS: cpuSince(cpuBefore) };
}

function cpuSince(before: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1e6;
}

function cellText(c: Cell): string {
  return c.seed === undefined
    ? `not within ${SEEDS_MAX} (${c.cpuS.toFixed(0)} CPU-s)`
    : `${c.seed}: ${c.property} (${c.cpuS.toFixed(1)} CPU-s)`;
}

const rows: string[][] = [];
for (const variant of UNSAFE_VARIANTS.filter((v) => !LAB_ONLY_UNSAFE.has(v) || WAL_DISK_UNSAFE.includes(v))) {
  const cells: Cell[] = [];
  for (const nodes of NODES) cells.push(await firstFailure(variant, nodes));
  process.stderr.write(`${variant}: ${cells.map(cellText).join(' | ')}\n`);
  rows.push([`\`${variant}\``, ...cells.map(cellText), UNSAFE_DESCRIPTIONS[variant]]);
}

const body = [
  '## Simulator power (`npm run bench:sim-power`)',
  '',
  `First failing seed (from 1) with each unsafe variant switched on: all faults, ${OPS_PER_SEED} client operations per seed, reads mixed (a seeded quarter of the seeds use leases), up to ${SEEDS_MAX} seeds. The WAL's variants (${WAL_DISK_UNSAFE.join(', ')}) run on the WAL disk (--disk wal), the others on the model disk; lease-read-no-clock-bound runs on ReadIndex seeds (--reads index), whose clocks make no lease promise. The cell names the property that failed and the CPU time spent reaching it.`,
  '',
  table(['variant', ...NODES.map((n) => `${n} nodes`), 'the bug'], rows),
  '',
  `Load average when the run ended: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(', ')}.`,
];
writeSection('sim-power', body.join('\n'));
process.stdout.write(body.join('\n') + '\n');
