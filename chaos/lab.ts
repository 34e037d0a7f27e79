// `lab run` as a library call: runs --test-count tests one after another, each in its own run
// folder, and handles Ctrl-C (SIGINT/SIGTERM): the first stops the run cleanly (heal, collect
// logs, tear down, results marked incomplete); a second tears down at once and exits.
import { seriesLines } from './series.js';
import { setMaxListeners } from 'node:events';
import { exitFlushed } from '../cli/exit.js';
import type { LabDeps } from './lab-deps.js';
import { LabLog } from './lab-log.js';
import type { LabOptions } from './options.js';
import { newSeed } from './random.js';
import type { RunVerdict } from './results-types.js';
import { LabRun, type RunOutcome } from './run.js';
import { exitVerdictOf } from './verdict.js';

export const EXIT_FOR_VERDICT: Readonly<Record<RunVerdict, number>> = {
  valid: 0,
  invalid: 1,
  unknown: 2,
  incomplete: 255,
};

/** The exit code of several tests: lab failure first, then invalid, then unknown, else valid. */
export function combinedExitCode(verdicts: readonly RunVerdict[]): number {
  for (const verdict of ['incomplete', 'invalid', 'unknown'] as const)
    if (verdicts.includes(verdict)) return EXIT_FOR_VERDICT[verdict];
  return 0;
}

export interface LabRunSummary {
  outcomes: RunOutcome[];
  exitCode: number;
}

export async function runLab(options: LabOptions, deps: LabDeps, log = new LabLog()): Promise<LabRunSummary> {
  const interrupt = new AbortController();
  setMaxListeners(0, interrupt.signal);
  let current: LabRun | undefined;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      log.say(`\n${signal}: stopping: healing faults, collecting logs and tearing down (again to force)`);
      interrupt.abort();
      return;
    }
    log.say(`${signal} again: tearing down now`);
    void (current?.teardownNow() ?? Promise.resolve()).finally(() =>
      exitFlushed(EXIT_FOR_VERDICT.incomplete),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const outcomes: RunOutcome[] = [];
  const firstSeed = options.seed ?? newSeed();
  try {
    for (let test = 0; test < options.testCount && !interrupt.signal.aborted; test++) {
      if (options.testCount > 1) log.say(`test ${test + 1} of ${options.testCount}`);
      // With a given seed, test i replays seed + i, so every test of a series is reproducible.
      current = new LabRun(options, (firstSeed + test) >>> 0, deps, log);
      outcomes.push(await current.execute(interrupt.signal));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // A partial run counts as the exit code counts it: incomplete unless it already found a violation.
  const series = outcomes.map((outcome) => ({ ...outcome.results, verdict: exitVerdictOf(outcome.results) }));
  for (const line of seriesLines(series)) log.say(line);
  return { outcomes, exitCode: combinedExitCode(outcomes.map((outcome) => exitVerdictOf(outcome.results))) };
}
