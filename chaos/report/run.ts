// Loads one run folder (results.json + history.jsonl) and derives everything the report, `lab show`
// and `lab serve` display. A run in progress or a broken run still loads: missing or unreadable
// parts become null / empty with a note, never an exception.
import type { RunResults } from '../results-types.js';
import { runFigures, type RunFigures } from '../figures/index.js';
import { loadHistory, loadResults, type LoadedHistory } from '../run-folder.js';

export interface RunData extends RunFigures {
  dir: string;
  results: RunResults | null;
  /** Why results.json could not be used, when it could not. */
  resultsProblem: string | null;
  history: LoadedHistory;
}

export async function loadRun(dir: string): Promise<RunData> {
  const [{ results, problem }, history] = await Promise.all([loadResults(dir), loadHistory(dir)]);
  // The history is the source of truth for fault periods; results.faults covers a run whose
  // history holds no nemesis events (e.g. only results.json survived).
  const figures = runFigures(history.events, results?.faults ?? []);
  return { dir, results, resultsProblem: problem, history, ...figures };
}

/**
 * The run's verdict as displayed. The lab writes results.json (verdict incomplete, finishedAt null)
 * when a run starts, so a folder without it is not a lab run in progress (e.g. a simulator
 * history): unknown, with the reason shown next to it. A partial run (interrupted, or a dead lab's
 * run checked by `lab analyze`) shows the verdict of what it recorded; partialNote says so.
 */
export function displayVerdict(results: RunResults | null): RunResults['verdict'] {
  if (results === null) return 'unknown';
  if (results.finishedAt === null && results.partial !== true) return 'incomplete';
  return results.verdict;
}

/** "of a partial history (why)" for a run that did not finish, else ''. */
export function partialNote(results: RunResults | null): string {
  if (results?.partial !== true || results.verdict === 'incomplete') return '';
  return `of a partial history (${results.error ?? 'the run did not finish'})`;
}
