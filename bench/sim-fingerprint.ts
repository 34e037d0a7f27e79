// npx tsx bench/sim-fingerprint.ts [SEEDS] > FILE: one hash per run of the trace, history and
// summary of each seed, so a speed change can be shown to leave every run byte-identical (diff two
// files). Each seed runs at 3 and 5 nodes, with the trace on (what a replay prints) and off (the
// sweep path, whose history and summary must match too), plus a few runs with unsafe variants and
// the opt-in disk-loss fault, whose code paths the defaults do not reach.
import { createHash } from 'node:crypto';
import type { FaultName, SimOptions } from '../sim/config.js';
import { defaultSimOptions, FAULT_NAMES } from '../sim/config.js';
import { runSimulation } from '../sim/simulation.js';
import { parseSeeds } from '../sim/sweep.js';
import type { UnsafeVariant } from '../server/raft/unsafe.js';

const seeds = parseSeeds(process.argv[2] ?? '1..50');
const EXTRA_RUNS: readonly { label: string; options: Partial<SimOptions> }[] = [
  { label: 'disk-loss', options: { faults: new Set<FaultName>([...FAULT_NAMES, 'disk-loss']) } },
  { label: 'commit-previous-term', options: { unsafe: new Set<UnsafeVariant>(['commit-previous-term']) } },
  { label: 'stale-leader-read', options: { unsafe: new Set<UnsafeVariant>(['stale-leader-read']) } },
  { label: 'no-session-dedup', options: { unsafe: new Set<UnsafeVariant>(['no-session-dedup']) } },
  { label: 'lease', options: { reads: 'lease' } },
];

function fingerprint(options: SimOptions): string {
  const run = runSimulation(options);
  const { wallMs: _wallMs, ...summary } = run.summary;
  const hash = createHash('sha256');
  hash.update(run.trace.text());
  for (const e of run.history) hash.update(JSON.stringify(e) + '\n');
  hash.update(JSON.stringify(summary));
  return hash.digest('hex').slice(0, 16);
}

const all = createHash('sha256');
function emit(line: string): void {
  all.update(line + '\n');
  process.stdout.write(line + '\n');
}
for (const seed of seeds) {
  for (const nodes of [3, 5]) {
    for (const trace of [true, false])
      emit(
        `seed ${seed} nodes ${nodes} trace ${trace}: ${fingerprint(defaultSimOptions({ seed, nodes, trace }))}`,
      );
  }
}
for (const extra of EXTRA_RUNS) {
  for (const seed of seeds.slice(0, 10)) {
    const options = defaultSimOptions({ seed, nodes: 5, ops: 500, trace: true, ...extra.options });
    emit(`seed ${seed} ${extra.label}: ${fingerprint(options)}`);
  }
}
process.stdout.write(`all: ${all.digest('hex').slice(0, 16)}\n`);
