// lab check PATH: check a stored history (file or run folder) for linearizability.
import type { Command } from 'commander';
import { checkHistoryAsync } from '../../checker/check-async.js';
import { MODEL_NAMES, type KeyResult, type ModelName } from '../../checker/check.js';
import { HistoryFormatError } from '../../checker/history.js';
import {
  HISTORY_FORMATS,
  loadHistory,
  type HistoryFormat,
  type LoadedHistory,
} from '../../checker/readers/index.js';
import { formatMs, formatReport } from '../../checker/report.js';
import { OutputDirError, prepareOutputDir, writeCounterexampleViews } from '../../checker/view/index.js';
import { defaultMemoryBytesMax, formatMiB, parseByteSize } from '../../checker/memory.js';
import { EXIT_BAD_ARGUMENTS, EXIT_INVALID, EXIT_OK, EXIT_UNKNOWN } from '../exit-codes.js';
import { choice, decimal, fromLibrary, option } from '../parsers.js';
import { count } from '../../checker/plural.js';

interface CheckFlags {
  format?: HistoryFormat;
  model?: ModelName;
  html?: string;
  timeLimit?: number;
  memoryLimit?: number;
  allKeys?: boolean;
  json?: boolean;
}

/** Flags checked and converted, before anything is read or written. */
interface CheckPlan {
  format: HistoryFormat | undefined;
  model: ModelName | undefined;
  timeLimitMs: number | undefined;
  memoryBytesMax: number;
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
    .addOption(
      option(
        '--memory-limit <size>',
        `the whole process's memory, e.g. 512MiB or 2GiB (default: a quarter of this machine's, ${formatMiB(defaultMemoryBytesMax())})`,
        byteSize,
      ),
    )
    .option('--all-keys', "check every key even once one is illegal (every key's counterexample)")
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
      `  ... ${done} of ${count(total, 'key')} decided (last: ${key.key}, ${key.verdict})\n`,
    );
  };
}

/** A size such as 512MiB or 2GiB (checker/memory.ts), as a commander flag type. */
const byteSize = fromLibrary((text) => {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new Error('expected a size such as 512MiB or 2GiB');
  return bytes;
});

/** What commander cannot check: the --html folder (made now, so a bad path fails before the check). */
function plan(flags: CheckFlags): CheckPlan | string {
  try {
    if (flags.html !== undefined) prepareOutputDir(flags.html);
  } catch (error) {
    if (error instanceof OutputDirError) return `--html ${error.message}`;
    throw error;
  }
  return {
    format: flags.format,
    model: flags.model,
    timeLimitMs: flags.timeLimit === undefined ? undefined : flags.timeLimit * 1000,
    memoryBytesMax: flags.memoryLimit ?? defaultMemoryBytesMax(),
  };
}

/**
 * What the searches may hold: the limit less what the process already uses, less a tenth of the
 * limit for what the budget does not count (results, short-lived strings, garbage not yet freed).
 */
function searchBytesMax(limit: number): number | string {
  const used = process.memoryUsage().rss;
  const left = Math.floor(limit * SEARCH_SHARE - used);
  if (left < SEARCH_BYTES_MIN)
    return `--memory-limit ${formatMiB(limit)} leaves no room to search: the process already uses ${formatMiB(used)} with the history loaded`;
  return left;
}

const SEARCH_SHARE = 0.9;
const SEARCH_BYTES_MIN = 8 * 2 ** 20;

async function runCheck(path: string, flags: CheckFlags): Promise<number> {
  const planned = plan(flags);
  if (typeof planned === 'string') return fail(planned);
  let history: LoadedHistory;
  try {
    history = loadHistory(path, planned.format);
  } catch (error) {
    if (error instanceof HistoryFormatError || error instanceof Error) return fail(error.message);
    throw error;
  }
  if (!history.events.some((e) => e.type !== 'nemesis'))
    return fail(
      `${history.path}: the history has no operations (${count(history.events.length, 'event')}): nothing to check`,
    );
  const model = planned.model ?? history.model;
  const memoryBytesMax = searchBytesMax(planned.memoryBytesMax);
  if (typeof memoryBytesMax === 'string') return fail(memoryBytesMax);
  if (flags.json !== true) {
    process.stdout.write(
      `checking ${history.path} (${history.format}, model ${model}, ${count(history.events.length, 'event')})\n`,
    );
  }
  let result;
  try {
    result = await checkHistoryAsync(history.events, {
      model,
      memoryBytesMax,
      allKeys: flags.allKeys === true,
      onKey: progress(flags.json === true),
      ...(planned.timeLimitMs === undefined ? {} : { timeLimitMs: planned.timeLimitMs }),
    });
  } catch (error) {
    if (error instanceof Error && /model has no/.test(error.message)) return fail(error.message);
    throw error;
  }
  if (result.operations === 0)
    process.stderr.write(
      `lab check: warning: none of the operations took effect or may have (all failed): nothing was checked\n`,
    );
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
