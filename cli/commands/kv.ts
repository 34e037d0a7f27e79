import type { Command } from 'commander';
import { notBuiltYet } from '../not-built.js';

export function register(program: Command): void {
  program
    .command('kv')
    .description('talk to a raftlab cluster: get, put, delete, cas, append, status')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notBuiltYet('kv', 3));
}
