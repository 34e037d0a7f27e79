import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('browse the runs under histories/ in a web page')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('serve', 6));
}
