// Loads one run folder (results.json + history.jsonl) and derives everything the report, `lab show`
// and `lab serve` display. A run in progress or a broken run still loads: missing or unreadable
// parts become null / empty with a note, never an exception.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpName } from '../../checker/history-types.js';
import type { FaultRecord, LatencyQuantilesMs, RunResults } from '../results-types.js';
import { loadHistoryFile, type LoadedHistory } from './history-file.js';
import { faultPeriods, historyEndNs, pairOperations, type Operation } from './operations.js';
import {
  availability,
  countOutcomes,
  latencyQuantiles,
  type Availability,
  type CountsByOp,
} from './stats.js';

export interface RunData {
  dir: string;
  results: RunResults | null;
  /** Why results.json could not be used, when it could not. */
  resultsProblem: string | null;
  history: LoadedHistory;
  operations: Operation[];
  faults: FaultRecord[];
  endNs: number;
  counts: CountsByOp;
  latency: Map<OpName, LatencyQuantilesMs>;
  availability: Availability;
}

export async function readResults(
  dir: string,
): Promise<{ results: RunResults | null; problem: string | null }> {
  let text: string;
  try {
    text = await readFile(join(dir, 'results.json'), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { results: null, problem: code === 'ENOENT' ? 'no results.json' : `results.json: ${code}` };
  }
  try {
    const value = JSON.parse(text) as RunResults;
    if (typeof value !== 'object' || value === null || typeof value.verdict !== 'string') {
      return { results: null, problem: 'results.json has no verdict' };
    }
    return { results: value, problem: null };
  } catch (error) {
    return { results: null, problem: `results.json is not valid JSON (${(error as Error).message})` };
  }
}

export async function loadRun(dir: string): Promise<RunData> {
  const [{ results, problem }, history] = await Promise.all([
    readResults(dir),
    loadHistoryFile(join(dir, 'history.jsonl')),
  ]);
  const operations = pairOperations(history.events);
  const endNs = historyEndNs(history.events);
  // The history is the source of truth for fault periods; results.faults covers a run whose
  // history holds no nemesis events (e.g. only results.json survived).
  const fromHistory = faultPeriods(history.events);
  const faults = fromHistory.length > 0 ? fromHistory : (results?.faults ?? []);
  return {
    dir,
    results,
    resultsProblem: problem,
    history,
    operations,
    faults,
    endNs,
    counts: countOutcomes(operations),
    latency: latencyQuantiles(operations),
    availability: availability(operations, faults, endNs),
  };
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
