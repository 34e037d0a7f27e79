// lab sim: run the deterministic simulator for one seed (--seed) or a sweep (--seeds 1..500).
// Thin: parses flags, calls sim/, prints one line per seed (failures in full) and a summary line.
import type { Command } from 'commander';
import { parseUnsafe } from '../../server/raft/unsafe.js';
import {
  defaultSimOptions,
  FAULT_NAMES,
  OPT_IN_FAULT_NAMES,
  parseFaults,
  parseReads,
  READS_CHOICES,
  type SimOptions,
} from '../../sim/config.js';
import { failureLines, progressLine, seedLine, summaryLine } from '../../sim/report.js';
import { runSweepParallel, SWEEP_WORKERS_MAX } from '../../sim/parallel-sweep.js';
import { parseSeeds, runSweep, writeRunArtifacts, type SweepOptions } from '../../sim/sweep.js';
import { EXIT_BAD_ARGUMENTS, EXIT_INVALID, EXIT_OK } from '../exit-codes.js';

interface SimFlags {
  seed?: string;
  seeds?: string;
  nodes: string;
  faults: string;
  ops: string;
  clients: string;
  keys: string;
  unsafe: string;
  reads: string;
  out: string;
  check: boolean;
  stopOnFailure?: boolean;
  quiet?: boolean;
  workers: string;
}

export function register(program: Command): void {
  program
    .command('sim')
    .description(
      'run the deterministic simulator for one seed or a sweep of seeds (exit 0 all passed, 1 any failed)',
    )
    .option('--seed <n>', 'run one seed (default 1)')
    .option('--seeds <list>', 'sweep seeds: 1..500, or a list such as 1,7,20..30')
    .option('--nodes <n>', 'cluster size: 3, 5 or 7', '5')
    .option(
      '--faults <list>',
      `${FAULT_NAMES.join(',')}, all or none; ${OPT_IN_FAULT_NAMES.join(',')} only by name (all,${OPT_IN_FAULT_NAMES.join(',')})`,
      'all',
    )
    .option('--ops <n>', 'client operations per seed', '2000')
    .option('--clients <n>', 'concurrent client processes', '5')
    .option('--keys <n>', 'keys the workload uses', '4')
    .option('--unsafe <names>', 'switch on unsafe variants (testing the testers), comma list', '')
    .option(
      '--reads <mode>',
      `${READS_CHOICES.join(', ')}: ReadIndex reads, lease reads, or lease on a seeded quarter of the seeds`,
      'mixed',
    )
    .option('--out <dir>', 'where failing seeds write trace and history (under sim/)', 'histories')
    .option('--no-check', 'skip the linearizability check of the client history')
    .option('--stop-on-failure', 'stop a sweep at its first failing seed')
    .option('--quiet', 'print only failures and the summary line')
    .option('--workers <n>', 'worker threads for a sweep (each runs whole seeds)', '1')
    .action(async (flags: SimFlags) => {
      process.exitCode = await runSimCommand(flags);
    });
}

function positive(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`--${name} needs an integer from 1 to ${max}, not "${text}"`);
  return n;
}

function parseFlags(flags: SimFlags): { seeds: number[]; base: Omit<SimOptions, 'seed'>; workers: number } {
  if (flags.seed !== undefined && flags.seeds !== undefined)
    throw new Error('use either --seed or --seeds, not both');
  const seeds = parseSeeds(flags.seeds ?? flags.seed ?? '1');
  const nodes = positive('nodes', flags.nodes, 7);
  if (![3, 5, 7].includes(nodes)) throw new Error(`--nodes must be 3, 5 or 7, not ${nodes}`);
  const { seed: _seed, ...base } = defaultSimOptions({
    nodes,
    ops: positive('ops', flags.ops, 10_000_000),
    clients: positive('clients', flags.clients, 1000),
    keys: positive('keys', flags.keys, 1000),
    faults: parseFaults(flags.faults),
    unsafe: parseUnsafe(flags.unsafe),
    reads: parseReads(flags.reads),
    checkLinearizability: flags.check,
  });
  return { seeds, base, workers: positive('workers', flags.workers, SWEEP_WORKERS_MAX) };
}

export async function runSimCommand(flags: SimFlags): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(flags);
  } catch (error) {
    process.stderr.write(`lab sim: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_BAD_ARGUMENTS;
  }
  const { seeds, base, workers } = parsed;
  const sweep = seeds.length > 1;
  let lastProgress = 0;
  const sweepOptions: SweepOptions = {
    seeds,
    base,
    stopAtFirstFailure: flags.stopOnFailure === true,
    onSeed: (summary, progress) => {
      if (!summary.passed) {
        const options = { ...base, seed: summary.seed };
        const { dir } = writeRunArtifacts(options, flags.out);
        process.stdout.write(failureLines(summary, options, dir).join('\n') + '\n');
      } else if (!sweep || flags.quiet !== true) {
        if (!sweep) process.stdout.write(seedLine(summary) + '\n');
      }
      if (sweep && (progress.elapsedMs - lastProgress > 2000 || progress.done === progress.total)) {
        lastProgress = progress.elapsedMs;
        process.stderr.write(progressLine(progress) + '\n');
      }
    },
  };
  const result =
    workers > 1 && sweep ? await runSweepParallel(sweepOptions, workers) : runSweep(sweepOptions);
  process.stdout.write(summaryLine(result.total, result.failures.length) + '\n');
  return result.failures.length === 0 ? EXIT_OK : EXIT_INVALID;
}
