import { describe, expect, it } from 'vitest';
import { seriesLines, summarizeSeries, type SeriesRun } from './series.js';

const run = (verdict: SeriesRun['verdict'], seed: number, seconds: number): SeriesRun => ({
  verdict,
  seed,
  startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0)).toISOString(),
  finishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString(),
});

describe('a series of runs', () => {
  it('counts verdicts and adds up the run time until the first invalid run', () => {
    const runs = [run('valid', 5, 10), run('unknown', 6, 12), run('invalid', 7, 11), run('invalid', 8, 9)];
    expect(summarizeSeries(runs)).toEqual({
      runs: 4,
      invalid: 2,
      unknown: 1,
      valid: 1,
      incomplete: 0,
      firstInvalidRun: 3,
      secondsToFirstInvalid: 33,
    });
    expect(seriesLines(runs)).toEqual([
      'series of 4 runs: 2 invalid, 1 unknown, 1 valid, 0 incomplete',
      'seeds: 5=valid 6=unknown 7=invalid 8=invalid',
      'first invalid: run 3 (seed 7), 33.0 s of runs into the series',
    ]);
  });

  it('says nothing was found when nothing was, and nothing at all for one run', () => {
    expect(summarizeSeries([run('valid', 1, 3), run('incomplete', 2, 1)])).toMatchObject({
      firstInvalidRun: null,
      secondsToFirstInvalid: null,
      incomplete: 1,
    });
    expect(seriesLines([run('invalid', 1, 3)])).toEqual([]);
  });
});
