// The `lab` command line: parses flags and calls library functions; the command line stays thin so
// every behaviour can be tested through the libraries. Each command lives in cli/commands/<name>.ts
// and exports `register(program)`. Only the command being run is loaded: loading all of them (the
// lab, the server, the simulator, protobufjs) took `lab check` from 50 to 96 MiB of RSS.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_BAD_ARGUMENTS } from './exit-codes.js';
import { exitFlushed } from './exit.js';

type Register = (program: Command) => void;

/** Every command, in the order `lab --help` lists them. */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  run: () => import('./commands/run.js'),
  analyze: () => import('./commands/analyze.js'),
  down: () => import('./commands/down.js'),
  sim: () => import('./commands/sim.js'),
  check: () => import('./commands/check.js'),
  server: () => import('./commands/server.js'),
  cluster: () => import('./commands/cluster.js'),
  kv: () => import('./commands/kv.js'),
  serve: () => import('./commands/serve.js'),
  show: () => import('./commands/show.js'),
};

/**
 * The program with the command named first in `argv` (a process.argv), or with every command when
 * none is named (help, version, an unknown command and its suggestions need them all).
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('lab')
    .description('raftlab: a Raft key-value server, a chaos lab and a linearizability checker')
    .version(packageVersion(), '--version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const named = argv[2];
  const names = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]!()).register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** package.json's version: cli/main.ts (under tsx) is one folder below it, dist/cli/main.js two. */
function packageVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
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
    await (await buildProgram(process.argv)).parseAsync(process.argv);
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
