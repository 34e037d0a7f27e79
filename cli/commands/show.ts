import type { Command } from 'commander';
import { resolveRunDir } from '../../chaos/run-folder.js';
import { loadRun } from '../../chaos/report/run.js';
import { formatRunSummary } from '../../chaos/report/terminal.js';
import { EXIT_BAD_ARGUMENTS } from '../exit-codes.js';

export function register(program: Command): void {
  program
    .command('show')
    .description('summarise a stored run in the terminal (default: the latest run)')
    .argument('[dir]', 'a run folder, or a run name folder (uses its latest link)')
    .option('--store <dir>', 'the folder of runs, to find the latest', 'histories')
    .action(async (dir: string | undefined, flags: { store: string }) => {
      let runDir: string;
      try {
        runDir = resolveRunDir(dir, flags.store);
      } catch (error) {
        process.stderr.write(`lab show: ${(error as Error).message}\n`);
        process.exit(EXIT_BAD_ARGUMENTS);
      }
      const run = await loadRun(runDir);
      process.stdout.write(formatRunSummary(run, process.stdout.isTTY === true));
    });
}
