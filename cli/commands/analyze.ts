// `lab analyze [DIR]`: re-checks a stored run (chaos/analyze.ts).
import type { Command } from 'commander';
import { LAB_FLAGS } from '../../chaos/options.js';
import { badArguments } from '../bad-arguments.js';
import { exitFlushed } from '../exit.js';
import { EXIT_BAD_ARGUMENTS, EXIT_LAB_FAILED } from '../exit-codes.js';
import { folderProblem, option } from '../parsers.js';

export function register(program: Command): void {
  const { store, checkTimeLimitMs } = LAB_FLAGS;
  const command = program
    .command('analyze')
    .description(
      're-check a stored run: a run folder, a run name, or by default the latest run (exit codes as lab run)',
    )
    .argument('[dir]', 'run folder, or run name under the store (default: the latest run)')
    .addOption(option(store.flags, 'where run folders are', store.type, store.default))
    .addOption(
      option(
        checkTimeLimitMs.flags,
        "the checker's time limit",
        checkTimeLimitMs.type,
        checkTimeLimitMs.default,
      ),
    )
    .action(async (dir: string | undefined, flags: { store: string; checkTimeLimit: number }) => {
      const problem = folderProblem('--store', flags.store);
      if (problem !== undefined) badArguments(command, problem);
      const { analyzeRun } = await import('../../chaos/analyze.js');
      const { realDeps } = await import('../../chaos/real-deps.js');
      const { LabLog } = await import('../../chaos/lab-log.js');
      const { EXIT_FOR_VERDICT } = await import('../../chaos/lab.js');
      let verdict;
      try {
        ({ verdict } = await analyzeRun(
          { target: dir, store: flags.store, checkTimeLimitMs: flags.checkTimeLimit },
          realDeps(),
          new LabLog(),
        ));
      } catch (error) {
        process.stderr.write(`lab analyze: ${(error as Error).message}\n`);
        const { NoRunFolderError } = await import('../../chaos/run-folder.js');
        return exitFlushed(error instanceof NoRunFolderError ? EXIT_BAD_ARGUMENTS : EXIT_LAB_FAILED);
      }
      await exitFlushed(EXIT_FOR_VERDICT[verdict]);
    });
}
