import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('check')
    .description('check a history file or run folder for linearizability')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('check', 4));
}
