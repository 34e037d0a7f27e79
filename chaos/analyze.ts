// `lab analyze [DIR]`: re-check a stored run's history, rewrite results.json's checker part and
// figures and the counterexample views, and render the report again.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readHistory } from '../checker/history.js';
import type { LabDeps } from './lab-deps.js';
import type { LabLog } from './lab-log.js';
import type { RunVerdict } from './results-types.js';
import {
  COUNTEREXAMPLE_DIR,
  HISTORY_FILE,
  NoRunFolderError,
  readResults,
  RESULTS_FILE,
  resolveRunDir,
  writeResults,
} from './run-folder.js';
import { historyFigures } from './figures/index.js';
import { exitVerdictOf, finishResults, summaryLines } from './verdict.js';
import { applyInvariantViolations } from './invariant-violations.js';
import { applySnapshotEvents } from './snapshot-events.js';
import { count } from '../checker/plural.js';

export interface AnalyzeOptions {
  target: string | undefined;
  store: string;
  checkTimeLimitMs: number;
}

export async function analyzeRun(
  options: AnalyzeOptions,
  deps: Pick<LabDeps, 'check' | 'writeCounterexampleViews' | 'writeReport'>,
  log: LabLog,
): Promise<{ runDir: string; /** What the exit code follows (exitVerdictOf). */ verdict: RunVerdict }> {
  const runDir = resolveRunDir(options.target, options.store);
  if (!existsSync(join(runDir, RESULTS_FILE)))
    throw new NoRunFolderError(`${runDir} has a history but no ${RESULTS_FILE}; it is not a lab run folder`);
  const results = readResults(runDir);
  const events = readHistory(join(runDir, HISTORY_FILE));
  log.say(`analyzing ${runDir} (${results.name}, seed ${results.seed}, ${count(events.length, 'event')})`);
  // Old views may belong to keys that are no longer illegal (a newer checker); start afresh.
  rmSync(join(runDir, COUNTEREXAMPLE_DIR), { recursive: true, force: true });
  // No finish time: the lab died mid-run (SIGKILL, a crash), so what it recorded is partial. The
  // run's own start and finish times stay as recorded; analysing is not running.
  if (results.finishedAt === null) {
    results.partial = true;
    results.error ??= 'the lab stopped before the run finished (no finish time was recorded)';
  }
  Object.assign(results, historyFigures(events));
  const history = { historyPath: join(runDir, HISTORY_FILE), eventCount: events.length, runDir };
  await finishResults(results, history, deps, log, options.checkTimeLimitMs);
  applyInvariantViolations(results, runDir);
  await applySnapshotEvents(results, runDir);
  writeResults(runDir, results);
  if (deps.writeReport !== undefined) {
    try {
      log.say(`report: ${await deps.writeReport(runDir)}`);
    } catch (error) {
      log.say(`could not write the report: ${(error as Error).message}`);
    }
  }
  for (const line of summaryLines(results, runDir)) log.say(line);
  return { runDir, verdict: exitVerdictOf(results) };
}
