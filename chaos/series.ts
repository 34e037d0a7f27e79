// What a `lab run --test-count N` series found: how many of N runs were invalid, unknown, valid or
// incomplete, and how long the lab took to find the first violation. The lab prints it after the
// last run and bench/detection.ts computes its table from the same function.

/** The parts of a run's results.json this needs. */
export interface SeriesRun {
  verdict: 'valid' | 'invalid' | 'unknown' | 'incomplete';
  seed: number;
  startedAt: string;
  finishedAt: string | null;
}

export interface SeriesSummary {
  runs: number;
  invalid: number;
  unknown: number;
  valid: number;
  incomplete: number;
  /** 1-based position of the first invalid run, or null when none was. */
  firstInvalidRun: number | null;
  /** Wall time of every run up to and including the first invalid one, or null. */
  secondsToFirstInvalid: number | null;
}

function runSeconds(run: SeriesRun): number {
  if (run.finishedAt === null) return 0;
  return (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
}

export function summarizeSeries(runs: readonly SeriesRun[]): SeriesSummary {
  const count = (verdict: SeriesRun['verdict']) => runs.filter((r) => r.verdict === verdict).length;
  const first = runs.findIndex((r) => r.verdict === 'invalid');
  return {
    runs: runs.length,
    invalid: count('invalid'),
    unknown: count('unknown'),
    valid: count('valid'),
    incomplete: count('incomplete'),
    firstInvalidRun: first < 0 ? null : first + 1,
    secondsToFirstInvalid:
      first < 0 ? null : runs.slice(0, first + 1).reduce((sum, run) => sum + runSeconds(run), 0),
  };
}

/** The lines `lab run` prints after a series (nothing for a single run). */
export function seriesLines(runs: readonly SeriesRun[]): string[] {
  if (runs.length < 2) return [];
  const s = summarizeSeries(runs);
  const lines = [
    `series of ${s.runs} runs: ${s.invalid} invalid, ${s.unknown} unknown, ${s.valid} valid, ${s.incomplete} incomplete`,
    `seeds: ${runs.map((r) => `${r.seed}=${r.verdict}`).join(' ')}`,
  ];
  if (s.firstInvalidRun !== null)
    lines.push(
      `first invalid: run ${s.firstInvalidRun} (seed ${runs[s.firstInvalidRun - 1]!.seed}), ${s.secondsToFirstInvalid!.toFixed(1)} s of runs into the series`,
    );
  return lines;
}
