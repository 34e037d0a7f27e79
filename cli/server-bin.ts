// A minimal entry point for `server ...` alone: LocalCluster (tests, benchmark, `lab cluster`)
// starts nodes through it so a node loads only the server's modules, starting faster and
// independently of the other commands. Same flags as `lab server`.
import { Command, CommanderError } from 'commander';
import { register } from './commands/server.js';
import { EXIT_BAD_ARGUMENTS } from './exit-codes.js';
import { exitFlushed } from './exit.js';

const program = new Command('lab').exitOverride();
register(program);
for (const command of program.commands) command.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError)
    await exitFlushed(error.code === 'commander.helpDisplayed' ? 0 : EXIT_BAD_ARGUMENTS);
  throw error;
}
