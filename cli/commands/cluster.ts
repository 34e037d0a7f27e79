import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('cluster')
    .description('start or stop a local cluster of server processes')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('cluster', 3));
}
