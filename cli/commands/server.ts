import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('server')
    .description('run one raftlab server node in the foreground')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('server', 3));
}
