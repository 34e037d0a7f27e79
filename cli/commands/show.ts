import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('show')
    .description('summarise a stored run in the terminal')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('show', 6));
}
