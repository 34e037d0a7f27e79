// `lab run`: parses flags and hands them to the lab (chaos/lab.ts).
import type { Command } from 'commander';
import { FLAG_DEFAULTS, BadArgumentsError, type RawLabOptions } from '../../chaos/options.js';
import { parseLabOptions } from '../../chaos/options-parse.js';
import { EXIT_BAD_ARGUMENTS, EXIT_LAB_FAILED } from '../exit-codes.js';

const FLAGS: readonly [flag: string, help: string][] = [
  ['--nodes <count>', `cluster size (default ${FLAG_DEFAULTS.nodes})`],
  [
    '--nemesis <list>',
    `faults: comma list of partition, pause, kill, packet, power, all, none (default ${FLAG_DEFAULTS.nemesis})`,
  ],
  [
    '--nemesis-interval <seconds>',
    `mean gap between faults; each gap is drawn from [0, 2x] (default ${FLAG_DEFAULTS.nemesisInterval})`,
  ],
  [
    '--partition-shapes <list>',
    `partition shapes to draw from (default all: ${FLAG_DEFAULTS.partitionShapes})`,
  ],
  [
    '--fault-targets <list>',
    `kill, power and pause targets to draw from; "all" (every node at once) is opt-in (default ${FLAG_DEFAULTS.faultTargets})`,
  ],
  [
    '--concurrency <n>',
    `client processes: a number, or N per node as "Nn" (default ${FLAG_DEFAULTS.concurrency})`,
  ],
  ['--rate <ops>', `total operations per second across all clients (default ${FLAG_DEFAULTS.rate})`],
  ['--time-limit <seconds>', `how long the workload runs (default ${FLAG_DEFAULTS.timeLimit})`],
  [
    '--ops-per-key <n>',
    `operations on a key before it is retired for a fresh one (default ${FLAG_DEFAULTS.opsPerKey})`,
  ],
  ['--keys-active <n>', 'keys in play at once (default: concurrency / 4, at least 1)'],
  ['--seed <n>', 'seed for every random choice (default: a fresh one, printed)'],
  [
    '--test-count <n>',
    `run the whole test N times, each in its own run folder (default ${FLAG_DEFAULTS.testCount})`,
  ],
  [
    '--runtime <docker|local>',
    'where the cluster runs (default: docker when an engine is reachable, else local)',
  ],
  ['--name <name>', 'run name, the folder under the store (default: from the nemesis and unsafe variants)'],
  ['--server-unsafe <list>', "switch on deliberately broken server variants (the server's --unsafe)"],
  ['--election-timeout-ms <ms>', "the server's --election-timeout-ms"],
  ['--heartbeat-interval-ms <ms>', "the server's --heartbeat-interval-ms"],
  ['--tick-ms <ms>', "the server's --tick-ms"],
  [
    '--request-timeout-ms <ms>',
    `client: how long one attempt waits (default ${FLAG_DEFAULTS.requestTimeoutMs})`,
  ],
  [
    '--operation-timeout-ms <ms>',
    `client: how long an operation may retry before it is given up as info (default ${FLAG_DEFAULTS.operationTimeoutMs})`,
  ],
  [
    '--client-response-loss <fraction>',
    `client: fraction of responses thrown away as if lost, so writes that took effect are retried (default ${FLAG_DEFAULTS.clientResponseLoss})`,
  ],
  [
    '--recovery-timeout-ms <ms>',
    `how long to wait for a leader at start and after healing (default ${FLAG_DEFAULTS.recoveryTimeoutMs})`,
  ],
  [
    '--check-time-limit <seconds>',
    `the checker's time limit; past it a key is unknown (default ${FLAG_DEFAULTS.checkTimeLimit})`,
  ],
  [
    '--failpoints <list>',
    'test-only crash points in every server: name=crash|power[@probability|#nth],... (docs/server.md)',
  ],
  ['--store <dir>', `where run folders go (default ${FLAG_DEFAULTS.store})`],
];

export function register(program: Command): void {
  const command = program
    .command('run')
    .description(
      'start a cluster, run clients, inject faults, check the history (exit 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 lab failed)',
    );
  for (const [flag, help] of FLAGS) command.option(flag, help);
  command.action(async (raw: RawLabOptions) => {
    let options;
    try {
      options = parseLabOptions(raw);
    } catch (error) {
      if (!(error instanceof BadArgumentsError)) throw error;
      process.stderr.write(`lab run: ${error.message}\n`);
      process.exit(EXIT_BAD_ARGUMENTS);
    }
    try {
      const { runLab } = await import('../../chaos/lab.js');
      const { realDeps } = await import('../../chaos/real-deps.js');
      const { exitCode } = await runLab(options, realDeps());
      process.exit(exitCode);
    } catch (error) {
      process.stderr.write(`lab run failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(EXIT_LAB_FAILED);
    }
  });
}
