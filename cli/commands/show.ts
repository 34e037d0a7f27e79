// `lab show [DIR]`: a stored run's summary in the terminal (chaos/report/terminal.ts).
import type { Command } from 'commander';
import { resolveRunDir } from '../../chaos/run-folder.js';
import { loadRun } from '../../chaos/report/run.js';
import { formatRunSummary } from '../../chaos/report/terminal.js';
import { exitFlushed } from '../exit.js';
import { EXIT_BAD_ARGUMENTS } from '../exit-codes.js';
import { badArguments } from '../bad-arguments.js';
import { folderProblem, text } from '../parsers.js';

export function register(program: Command): void {
  const command = program
    .command('show')
    .description('summarise a stored run in the terminal (default: the latest run)')
    .argument('[dir]', 'a run folder, or a run name folder (uses its latest link)')
    .addOption(text('--store <dir>', 'the folder of runs, to find the latest', 'histories'))
    .action(async (dir: string | undefined, flags: { store: string }) => {
      const problem = folderProblem('--store', flags.store);
      if (problem !== undefined) badArguments(command, problem);
      let runDir: string;
      try {
        runDir = resolveRunDir(dir, flags.store);
      } catch (error) {
        process.stderr.write(`lab show: ${(error as Error).message}\n`);
        return exitFlushed(EXIT_BAD_ARGUMENTS);
      }
      const run = await loadRun(runDir);
      process.stdout.write(formatRunSummary(run, process.stdout.isTTY === true));
    });
}
