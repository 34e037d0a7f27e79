import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('analyze')
    .description('re-check a stored run (default: the latest)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('analyze', 5));
}
