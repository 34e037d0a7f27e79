// The `lab` command line: parses flags and calls library functions; the command line stays thin so
// every behaviour can be tested through the libraries. Each command lives in cli/commands/<name>.ts
// and exports `register(program)`.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_BAD_ARGUMENTS } from './exit-codes.js';
import { exitFlushed } from './exit.js';
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
    .version(packageVersion(), '--version', 'print the version and exit')
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

/** package.json's version: dist/cli/main.js and cli/main.ts are both two folders below it. */
function packageVersion(): string {
  for (const up of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'raftlab' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not here; try one folder up.
    }
  }
  return 'unknown';
}

async function main(): Promise<void> {
  // A reader that goes away (`lab run | head`) must not kill a run half-way and leave its servers
  // behind: later output is dropped (lab.log keeps the lab's lines), anything else still throws.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end well; every other parse error means bad arguments.
      const fine =
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help';
      await exitFlushed(fine ? 0 : EXIT_BAD_ARGUMENTS);
    }
    throw error;
  }
}

await main();
