import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('start a cluster, run clients, inject faults, check the history')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('run', 5));
}
