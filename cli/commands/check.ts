// lab check PATH: check a stored history (file or run folder) for linearizability.
import type { Command } from 'commander';
import { checkHistoryParallel } from '../../checker/parallel.js';
import { MODEL_NAMES, type KeyResult, type ModelName } from '../../checker/check.js';
import { HistoryFormatError } from '../../checker/history.js';
import {
  HISTORY_FORMATS,
  loadHistory,
  type HistoryFormat,
  type LoadedHistory,
} from '../../checker/readers/index.js';
import { formatMs, formatReport } from '../../checker/report.js';
import { writeCounterexampleViews } from '../../checker/view/index.js';
import { EXIT_BAD_ARGUMENTS, EXIT_INVALID, EXIT_OK, EXIT_UNKNOWN } from '../exit-codes.js';
import { choice, decimal, option } from '../parsers.js';
import { count } from '../../checker/plural.js';

interface CheckFlags {
  format?: HistoryFormat;
  model?: ModelName;
  html?: string;
  timeLimit?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('check')
    .description('check a history file or run folder for linearizability (exit 0 ok, 1 illegal, 2 unknown)')
    .argument('<path>', 'a history file, or a run folder containing history.jsonl')
    .addOption(
      choice('--format <format>', 'history format (default: detected from the content)', HISTORY_FORMATS),
    )
    .addOption(choice('--model <model>', "the model to check against (default: the format's)", MODEL_NAMES))
    .option('--html <dir>', 'write one counterexample page per illegal key into this folder')
    .addOption(
      option(
        '--time-limit <seconds>',
        'give up with verdict unknown after this long',
        decimal(0.001, 86_400),
      ),
    )
    .option('--json', 'print the full result as JSON')
    .action(async (path: string, flags: CheckFlags) => {
      process.exitCode = await runCheck(path, flags);
    });
}

function fail(message: string): number {
  process.stderr.write(`lab check: ${message}\n`);
  return EXIT_BAD_ARGUMENTS;
}

/** A line on stderr at most every 2 s while a long check runs (quiet for quick ones). */
function progress(quiet: boolean): ((key: KeyResult, done: number, total: number) => void) | undefined {
  if (quiet) return undefined;
  let last = performance.now();
  return (key, done, total) => {
    if (performance.now() - last < 2000) return;
    last = performance.now();
    process.stderr.write(
      `  ... ${done} of ${count(total, 'key')} checked (last: ${key.key}, ${key.verdict})\n`,
    );
  };
}

async function runCheck(path: string, flags: CheckFlags): Promise<number> {
  const seconds = flags.timeLimit;
  let history: LoadedHistory;
  try {
    history = loadHistory(path, flags.format);
  } catch (error) {
    if (error instanceof HistoryFormatError || error instanceof Error) return fail(error.message);
    throw error;
  }
  const model = flags.model ?? history.model;
  if (flags.json !== true) {
    process.stdout.write(
      `checking ${history.path} (${history.format}, model ${model}, ${count(history.events.length, 'event')})\n`,
    );
  }
  let result;
  try {
    result = await checkHistoryParallel(history.events, {
      model,
      onKey: progress(flags.json === true),
      ...(seconds === undefined ? {} : { timeLimitMs: seconds * 1000 }),
    });
  } catch (error) {
    if (error instanceof Error && /model has no/.test(error.message)) return fail(error.message);
    throw error;
  }
  const pages = flags.html === undefined ? [] : writeCounterexampleViews(history.events, result, flags.html);
  if (flags.json === true)
    process.stdout.write(
      `${JSON.stringify({ ...result, path: history.path, format: history.format, pages }, null, 2)}\n`,
    );
  else {
    process.stdout.write(`${formatReport(result)}\n`);
    for (const page of pages) process.stdout.write(`counterexample: ${page}\n`);
    if (flags.html !== undefined && pages.length === 0)
      process.stdout.write(`no counterexample pages (nothing illegal), took ${formatMs(result.elapsedMs)}\n`);
  }
  return result.verdict === 'ok' ? EXIT_OK : result.verdict === 'illegal' ? EXIT_INVALID : EXIT_UNKNOWN;
}
