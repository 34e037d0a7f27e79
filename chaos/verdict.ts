// From a history to results.json's verdict: check it and write the counterexample views of failing
// keys (the caller fills in the figures first). Shared by `lab run` and `lab analyze`.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CheckResult } from '../checker/check.js';
import type { LabDeps } from './lab-deps.js';
import type { LabLog } from './lab-log.js';
import type { KeyVerdict, RunResults, RunVerdict } from './results-types.js';
import { counterexampleFileName } from '../checker/view/index.js';
import { checkByKey } from './history-keys.js';
import { COUNTEREXAMPLE_DIR } from './run-folder.js';
import { snapshotSummaryLine } from './snapshot-events.js';
import { count } from '../checker/plural.js';

export function runVerdictOf(verdict: CheckResult['verdict']): RunVerdict {
  return verdict === 'ok' ? 'valid' : verdict === 'illegal' ? 'invalid' : 'unknown';
}

/**
 * The verdict the exit code follows: a partial run did not finish (exit as incomplete) unless what it
 * recorded already broke linearizability, which no later event can mend.
 */
export function exitVerdictOf(results: Pick<RunResults, 'verdict' | 'partial'>): RunVerdict {
  return results.partial === true && results.verdict !== 'invalid' ? 'incomplete' : results.verdict;
}

export interface StoredHistory {
  historyPath: string;
  /** For the progress line. */
  eventCount: number;
  runDir: string;
}

/** Checks the stored history (one key at a time) and writes the checker's part and the verdict into results. */
export async function finishResults(
  results: RunResults,
  history: StoredHistory,
  deps: Pick<LabDeps, 'check' | 'writeCounterexampleViews'>,
  log: LabLog,
  checkTimeLimitMs: number,
): Promise<void> {
  log.say(
    `checking ${count(history.eventCount, 'event')} for linearizability${results.partial === true ? ' (a partial history)' : ''}...`,
  );
  const viewDir = join(history.runDir, COUNTEREXAMPLE_DIR);
  const { result: check, views } = await checkByKey(history.historyPath, deps, checkTimeLimitMs, () => {
    mkdirSync(viewDir, { recursive: true });
    return viewDir;
  });
  results.checker = {
    verdict: check.verdict,
    elapsedMs: Math.round(check.elapsedMs),
    keys: keyVerdicts(check, views),
  };
  results.verdict = runVerdictOf(check.verdict);
  // A partial run keeps the reason it did not finish.
  if (results.partial !== true) delete results.error;
}

/** Each illegal key's view is the file whose name carries the key. */
export function keyVerdicts(check: CheckResult, views: readonly string[]): KeyVerdict[] {
  return check.keys.map((key) => {
    const verdict: KeyVerdict = { key: key.key, verdict: key.verdict, operations: key.operations };
    if (key.verdict === 'ok') return verdict;
    const fileName = counterexampleFileName(key.key);
    const view = views.find((path) => basename(path) === fileName);
    if (view !== undefined) verdict.view = `${COUNTEREXAMPLE_DIR}/${basename(view)}`;
    return verdict;
  });
}

export function summaryLines(results: RunResults, runDir: string): string[] {
  const { ok, fail, info } = results.counts.total;
  const percent = (share: number | null) => (share === null ? 'n/a' : `${(share * 100).toFixed(1)}%`);
  const kinds = new Map<string, number>();
  for (const fault of results.faults) kinds.set(fault.fault, (kinds.get(fault.fault) ?? 0) + 1);
  const illegal = results.checker.keys.filter((key) => key.verdict === 'illegal');
  const lines = [
    `operations: ok ${ok}, fail ${fail}, info ${info}; answered ${percent(results.availability.outsideFaults)} outside faults, ${percent(results.availability.duringFaults)} during`,
    `faults: ${results.faults.length}${kinds.size > 0 ? ` (${[...kinds].map(([kind, n]) => `${kind} ×${n}`).join(', ')})` : ''}`,
    snapshotSummaryLine(results),
  ];
  if (results.verdict === 'incomplete') {
    lines.push(`verdict: incomplete${results.error !== undefined ? ` (${results.error})` : ''}`);
  } else {
    const unknown = results.checker.keys.filter((key) => key.verdict === 'unknown').length;
    lines.push(
      `checker: ${count(results.checker.keys.length, 'key')} in ${(results.checker.elapsedMs / 1000).toFixed(1)}s; ${illegal.length} illegal, ${unknown} unknown`,
    );
    for (const key of illegal.slice(0, 5))
      lines.push(
        `  key ${key.key} is not linearizable${key.view !== undefined ? `: ${join(runDir, key.view)}` : ''}`,
      );
    for (const v of results.invariantViolations ?? []) lines.push(`  node ${v.node} stopped: ${v.message}`);
    const partial =
      results.partial === true ? ` of a partial history (${results.error ?? 'the run did not finish'})` : '';
    lines.push(`verdict: ${results.verdict.toUpperCase()}${partial}`);
  }
  lines.push(`seed: ${results.seed}`, `run folder: ${runDir}`);
  return lines;
}
