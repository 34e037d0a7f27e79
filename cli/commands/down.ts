import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('down')
    .description('remove everything a crashed lab run left behind')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('down', 5));
}
