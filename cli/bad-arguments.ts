// Bad arguments found after commander parsed the flags (rules between flags, files that are not
// folders): reported through commander like its own errors, one line per problem, exit 254.
import type { Command } from 'commander';
import { EXIT_BAD_ARGUMENTS } from './exit-codes.js';

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function badArguments(command: Command, message: string): never {
  const prefix = `${commandPath(command)}: `;
  const lines = message.split('\n').map((line) => `${prefix}${line}`);
  return command.error(lines.join('\n'), { exitCode: EXIT_BAD_ARGUMENTS, code: 'raftlab.badArguments' });
}
