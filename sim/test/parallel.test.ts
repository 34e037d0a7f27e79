import { describe, expect, it } from 'vitest';
import { defaultSimOptions } from '../config.js';
import { runSweepParallel } from '../parallel-sweep.js';
import type { SimSummary } from '../simulation.js';
import { parseSeeds, runSweep } from '../sweep.js';

/** Everything a summary says about the run itself (wall time differs between threads). */
function essence(s: SimSummary) {
  const { wallMs: _wallMs, ...rest } = s;
  return rest;
}

describe('a sweep over worker threads', () => {
  it('gives each seed the same result as a sweep on one thread', async () => {
    const { seed: _seed, ...base } = defaultSimOptions({ nodes: 3, ops: 150 });
    const seeds = parseSeeds('1..6');
    const serial: SimSummary[] = [];
    const parallel: SimSummary[] = [];
    runSweep({ seeds, base, onSeed: (s) => serial.push(s) });
    const result = await runSweepParallel({ seeds, base, onSeed: (s) => parallel.push(s) }, 2);
    expect(result.total).toBe(6);
    expect(result.failures).toEqual([]);
    parallel.sort((a, b) => a.seed - b.seed);
    expect(parallel.map(essence)).toEqual(serial.map(essence));
  }, 120_000);

  it('stops handing out seeds after the first failure when asked', async () => {
    const { seed: _seed, ...base } = defaultSimOptions({
      nodes: 3,
      ops: 300,
      unsafe: new Set(['no-session-dedup']),
      checkLinearizability: false,
    });
    const result = await runSweepParallel({ seeds: parseSeeds('1..200'), base, stopAtFirstFailure: true }, 2);
    expect(result.failures.length).toBeGreaterThan(0);
    expect(result.failures[0]?.violation?.property).toBe('no duplicate appends');
    expect(result.total).toBeLessThan(200);
  }, 120_000);

  it('rejects a bad worker count', () => {
    const { seed: _seed, ...base } = defaultSimOptions();
    expect(() => runSweepParallel({ seeds: [1], base }, 0)).toThrow(/workers must be/);
  });
});
