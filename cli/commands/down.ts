// `lab down [--all]`: removes what crashed lab runs left behind (chaos/runtime/down.ts).
import type { Command } from 'commander';
import { down } from '../../chaos/runtime/down.js';
import { EXIT_LAB_FAILED, EXIT_OK } from '../exit-codes.js';

export function register(program: Command): void {
  program
    .command('down')
    .description(
      'remove what crashed lab runs left behind: labelled Docker containers, networks and volumes, and local server processes recorded in .lab/',
    )
    .option('--all', 'also remove runs whose lab is still running', false)
    .action(async (options: { all: boolean }) => {
      try {
        const result = await down(options.all);
        for (const line of result.saved) process.stdout.write(`saved ${line}\n`);
        for (const line of result.removed) process.stdout.write(`removed ${line}\n`);
        for (const line of result.skipped) process.stdout.write(`skipped ${line}\n`);
        if (result.dockerUnavailable !== undefined)
          process.stdout.write(`docker: ${result.dockerUnavailable}; nothing to do there\n`);
        if (result.removed.length === 0) process.stdout.write('nothing to remove\n');
        process.exitCode = EXIT_OK;
      } catch (error) {
        process.stderr.write(`lab down: ${(error as Error).message}\n`);
        process.exitCode = EXIT_LAB_FAILED;
      }
    });
}
