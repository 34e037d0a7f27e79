// The `lab` command line: parses flags and calls library functions, so the same
// behaviour is reachable (and tested) without going through argv.
// Each command lives in cli/commands/<name>.ts and exports `register(program)`.
import { Command, CommanderError } from 'commander';
import { EXIT_BAD_ARGUMENTS } from './exit-codes.js';
import { register as registerAnalyze } from './commands/analyze.js';
import { register as registerCheck } from './commands/check.js';
import { register as registerCluster } from './commands/cluster.js';
import { register as registerDown } from './commands/down.js';
import { register as registerKv } from './commands/kv.js';
import { register as registerRun } from './commands/run.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerServer } from './commands/server.js';
import { register as registerShow } from './commands/show.js';
import { register as registerSim } from './commands/sim.js';

export function buildProgram(): Command {
  const program = new Command('lab')
    .description('raftlab: a Raft key-value server, a chaos lab and a linearizability checker')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of [
    registerRun,
    registerAnalyze,
    registerDown,
    registerSim,
    registerCheck,
    registerServer,
    registerCluster,
    registerKv,
    registerServe,
    registerShow,
  ]) {
    register(program);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end well; every other parse error means bad arguments.
      const fine =
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help';
      process.exit(fine ? 0 : EXIT_BAD_ARGUMENTS);
    }
    throw error;
  }
}

await main();
