// Counts read right at 1 wherever the tools print them (they printed "1 runs", "in 1 keys").
import { describe, expect, it } from 'vitest';
import { runsPage } from '../chaos/serve/pages.js';
import { count } from '../checker/plural.js';
import { formatReport } from '../checker/report.js';
import { checkHistory } from '../checker/check.js';
import type { RunSummary } from '../chaos/report/store.js';

describe('counts in messages', () => {
  it('use the singular for exactly one', () => {
    expect([count(0, 'run'), count(1, 'run'), count(2, 'run')]).toEqual(['0 runs', '1 run', '2 runs']);
    expect(count(1, 'proxy', 'proxies')).toBe('1 proxy');
    expect(count(3, 'proxy', 'proxies')).toBe('3 proxies');
  });

  it('say "1 run" on the runs page of lab serve', () => {
    const run = {
      name: 'partition',
      timestamp: 't',
      relPath: 'partition/t',
      views: [],
    } as unknown as RunSummary;
    expect(runsPage('histories', [run])).toContain('1 run under');
  });

  it('say "1 key" and "1 operation" in the checker report', () => {
    const result = checkHistory([
      { type: 'invoke', process: 0, f: 'put', key: 'k', value: 'a', time: 0 },
      { type: 'ok', process: 0, f: 'put', key: 'k', value: 'a', time: 1 },
    ]);
    expect(formatReport(result)).toContain('1 operation in 1 key,');
  });
});
