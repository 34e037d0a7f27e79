// `lab analyze [DIR]`: re-checks a stored run (chaos/analyze.ts).
import type { Command } from 'commander';
import { FLAG_DEFAULTS } from '../../chaos/options.js';
import { EXIT_BAD_ARGUMENTS, EXIT_LAB_FAILED } from '../exit-codes.js';

export function register(program: Command): void {
  program
    .command('analyze')
    .description(
      're-check a stored run: a run folder, a run name, or by default the latest run (exit codes as lab run)',
    )
    .argument('[dir]', 'run folder, or run name under the store (default: the latest run)')
    .option('--store <dir>', `where run folders are (default ${FLAG_DEFAULTS.store})`)
    .option(
      '--check-time-limit <seconds>',
      `the checker's time limit (default ${FLAG_DEFAULTS.checkTimeLimit})`,
    )
    .action(async (dir: string | undefined, raw: { store?: string; checkTimeLimit?: string }) => {
      const seconds = Number(raw.checkTimeLimit ?? FLAG_DEFAULTS.checkTimeLimit);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        process.stderr.write(
          `lab analyze: --check-time-limit must be a positive number of seconds, got "${raw.checkTimeLimit}"\n`,
        );
        process.exit(EXIT_BAD_ARGUMENTS);
      }
      const { analyzeRun } = await import('../../chaos/analyze.js');
      const { realDeps } = await import('../../chaos/real-deps.js');
      const { LabLog } = await import('../../chaos/lab-log.js');
      const { EXIT_FOR_VERDICT } = await import('../../chaos/lab.js');
      let verdict;
      try {
        ({ verdict } = await analyzeRun(
          { target: dir, store: raw.store ?? FLAG_DEFAULTS.store, checkTimeLimitMs: seconds * 1000 },
          realDeps(),
          new LabLog(),
        ));
      } catch (error) {
        process.stderr.write(`lab analyze: ${(error as Error).message}\n`);
        const { NoRunFolderError } = await import('../../chaos/run-folder.js');
        process.exit(error instanceof NoRunFolderError ? EXIT_BAD_ARGUMENTS : EXIT_LAB_FAILED);
      }
      process.exit(EXIT_FOR_VERDICT[verdict]);
    });
}
