import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('sim')
    .description('run the deterministic simulator for one seed or a sweep of seeds')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('sim', 2));
}
