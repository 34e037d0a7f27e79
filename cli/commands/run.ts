// `lab run`: declares chaos/options.ts's flags to commander and hands the result to the lab.
import type { Command } from 'commander';
import { LAB_FLAGS, BadArgumentsError, type LabFlag, type LabOptions } from '../../chaos/options.js';
import { labFlagValues, labWarnings, resolveLabOptions } from '../../chaos/options-parse.js';
import { choice, option } from '../parsers.js';
import { badArguments } from '../bad-arguments.js';
import { exitFlushed } from '../exit.js';
import { EXIT_LAB_FAILED } from '../exit-codes.js';

export function register(program: Command): void {
  const command = program
    .command('run')
    .description(
      'start a cluster, run clients, inject faults, check the history (exit 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 lab failed)',
    );
  for (const flag of Object.values(LAB_FLAGS) as LabFlag<unknown>[]) {
    command.addOption(
      flag.choices === undefined
        ? option(flag.flags, flag.help, flag.type, flag.default === '' ? undefined : flag.default)
        : choice(flag.flags, flag.help, flag.choices, flag.default),
    );
  }
  command.action(async (parsed: Record<string, unknown>) => {
    let options: LabOptions;
    try {
      options = resolveLabOptions(labFlagValues(parsed));
    } catch (error) {
      if (!(error instanceof BadArgumentsError)) throw error;
      return badArguments(command, error.message);
    }
    for (const warning of labWarnings(options)) process.stderr.write(`lab run: warning: ${warning}\n`);
    try {
      const { runLab } = await import('../../chaos/lab.js');
      const { realDeps } = await import('../../chaos/real-deps.js');
      const { exitCode } = await runLab(options, realDeps());
      await exitFlushed(exitCode);
    } catch (error) {
      process.stderr.write(`lab run failed: ${(error as Error).stack ?? String(error)}\n`);
      await exitFlushed(EXIT_LAB_FAILED);
    }
  });
}
