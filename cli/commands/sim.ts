// lab sim: run the deterministic simulator for one seed (--seed) or a sweep (--seeds 1..500).
// Thin: parses flags, calls sim/, prints one line per seed (failures in full) and a summary line.
import type { Command } from 'commander';
import { parseUnsafe, type UnsafeVariant } from '../../server/raft/unsafe.js';
import {
  defaultSimOptions,
  FAULT_NAMES,
  OPT_IN_FAULT_NAMES,
  parseFaults,
  READS_CHOICES,
  DISK_CHOICES,
  walDiskRefusal,
  type DiskChoice,
  type FaultName,
  type ReadsChoice,
  type SimOptions,
} from '../../sim/config.js';
import { failureLines, progressLine, seedLine, summaryLine } from '../../sim/report.js';
import { runSweepParallel, SWEEP_WORKERS_MAX } from '../../sim/parallel-sweep.js';
import { parseSeeds, runSweepAsync, writeRunArtifacts, type SweepOptions } from '../../sim/sweep.js';
import { badArguments } from '../bad-arguments.js';
import { EXIT_INVALID, EXIT_LAB_FAILED, EXIT_OK } from '../exit-codes.js';
import { choice, fromLibrary, integer, option, text } from '../parsers.js';

interface SimFlags {
  seed?: number[];
  seeds?: number[];
  nodes: string;
  faults: ReadonlySet<FaultName>;
  ops: number;
  clients: number;
  keys: number;
  unsafe?: ReadonlySet<UnsafeVariant>;
  reads: ReadsChoice;
  disk: DiskChoice;
  /** Undefined: on. */
  snapshots?: 'on' | 'off';
  out: string;
  check: boolean;
  stopOnFailure?: boolean;
  quiet?: boolean;
  workers: number;
}

const seedList = fromLibrary(parseSeeds);

export function register(program: Command): void {
  const command = program
    .command('sim')
    .description(
      'run the deterministic simulator for one seed or a sweep of seeds (exit 0 all passed, 1 any failed)',
    )
    .addOption(option('--seed <n>', 'run one seed (default: 1)', seedList))
    .addOption(option('--seeds <list>', 'sweep seeds: 1..500, or a list such as 1,7,20..30', seedList))
    .addOption(choice('--nodes <n>', 'cluster size', ['3', '5', '7'], '5'))
    .addOption(
      option(
        '--faults <list>',
        `${FAULT_NAMES.join(',')}, all or none; ${OPT_IN_FAULT_NAMES.join(',')} only by name (all,${OPT_IN_FAULT_NAMES.join(',')})`,
        fromLibrary(parseFaults),
        'all',
      ),
    )
    .addOption(option('--ops <n>', 'client operations per seed', integer(1, 10_000_000), '2000'))
    .addOption(option('--clients <n>', 'concurrent client processes', integer(1, 1000), '5'))
    .addOption(option('--keys <n>', 'keys the workload uses', integer(1, 1000), '4'))
    .addOption(
      option(
        '--unsafe <names>',
        'switch on unsafe variants (testing the testers), comma list',
        fromLibrary(parseUnsafe),
      ),
    )
    .addOption(
      choice(
        '--reads <mode>',
        'ReadIndex reads, lease reads, or lease on a seeded quarter of the seeds',
        READS_CHOICES,
        'mixed',
      ),
    )
    .addOption(
      choice(
        '--disk <mode>',
        "the node's disk: the model, the server's real WAL over a simulated file system, or the WAL on a seeded quarter of the seeds",
        DISK_CHOICES,
        'model',
      ),
    )
    .addOption(
      choice(
        '--snapshots <on|off>',
        'nodes snapshot and compact their logs at seeded thresholds (20-200 entries), or never (default: on)',
        ['on', 'off'],
      ),
    )
    .addOption(text('--out <dir>', 'where failing seeds write trace and history (under sim/)', 'histories'))
    .option('--no-check', 'skip the linearizability check of the client history')
    .option('--stop-on-failure', 'stop a sweep at its first failing seed')
    .option('--quiet', 'print only failures and the summary line')
    .addOption(
      option(
        '--workers <n>',
        'worker threads for a sweep (each runs whole seeds)',
        integer(1, SWEEP_WORKERS_MAX),
        '1',
      ),
    )
    .action(async (flags: SimFlags) => {
      if (flags.seed !== undefined && flags.seeds !== undefined)
        badArguments(command, 'use either --seed or --seeds, not both');
      if (flags.seed !== undefined && flags.seed.length !== 1)
        badArguments(command, '--seed takes one seed; sweep with --seeds');
      const refusal =
        flags.disk === 'wal'
          ? walDiskRefusal({ faults: flags.faults, unsafe: flags.unsafe ?? new Set() })
          : undefined;
      if (refusal !== undefined) badArguments(command, `--disk wal: ${refusal}; use --disk model`);
      process.exitCode = await runSimCommand(flags);
    });
}

function simOptions(flags: SimFlags): { seeds: number[]; base: Omit<SimOptions, 'seed'>; workers: number } {
  const { seed: _seed, ...base } = defaultSimOptions({
    nodes: Number(flags.nodes),
    ops: flags.ops,
    clients: flags.clients,
    keys: flags.keys,
    faults: flags.faults,
    unsafe: flags.unsafe ?? new Set(),
    reads: flags.reads,
    disk: flags.disk,
    snapshots: flags.snapshots !== 'off',
    checkLinearizability: flags.check,
  });
  return { seeds: flags.seeds ?? flags.seed ?? [1], base, workers: flags.workers };
}

export async function runSimCommand(flags: SimFlags): Promise<number> {
  const { seeds, base, workers } = simOptions(flags);
  const sweep = seeds.length > 1;
  let lastProgress = 0;
  // A failing seed is re-run with the trace on (asynchronous with the WAL disk); one at a time, in
  // the order they failed.
  let artifacts = Promise.resolve();
  // Ctrl-C stops the sweep between seeds; what finished is reported as a partial sweep.
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort());
  const sweepOptions: SweepOptions = {
    seeds,
    base,
    signal: interrupt.signal,
    stopAtFirstFailure: flags.stopOnFailure === true,
    onSeed: (summary, progress) => {
      if (!summary.passed) {
        const options = { ...base, seed: summary.seed };
        artifacts = artifacts.then(async () => {
          const { dir } = await writeRunArtifacts(options, flags.out);
          process.stdout.write(failureLines(summary, options, dir).join('\n') + '\n');
        });
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
    workers > 1 && sweep ? await runSweepParallel(sweepOptions, workers) : await runSweepAsync(sweepOptions);
  await artifacts;
  const failed = result.failures.length;
  if (!interrupt.signal.aborted) {
    process.stdout.write(summaryLine(result.total, failed) + '\n');
    return failed === 0 ? EXIT_OK : EXIT_INVALID;
  }
  // A partial sweep proves nothing about the seeds it never ran: never exit 0.
  const run = `${result.total} of ${seeds.length} seeds run: ${result.total - failed} passed, ${failed} failed`;
  process.stdout.write(`interrupted: ${run}\n`);
  return failed === 0 ? EXIT_LAB_FAILED : EXIT_INVALID;
}
