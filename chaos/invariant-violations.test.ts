import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyInvariantViolations, invariantViolations } from './invariant-violations.js';
import type { RunResults } from './results-types.js';
import { summaryLines } from './verdict.js';

/** A run folder with these node logs under logs/. */
function runWithLogs(logs: Record<string, string>): { dir: string; nodeLogs: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'invariants-'));
  mkdirSync(join(dir, 'logs'));
  const nodeLogs: Record<string, string> = {};
  for (const [node, text] of Object.entries(logs)) {
    writeFileSync(join(dir, 'logs', `${node}.log`), text);
    nodeLogs[node] = `logs/${node}.log`;
  }
  return { dir, nodeLogs };
}

// As vote-twice left them in a real local run (two leaders of term 1 met).
const CRASHED =
  '2026-11-30T16:20:57.100Z INFO raft became leader term=1\n' +
  '2026-11-30T16:20:57.417Z ERROR driver stopped: raft invariant violated: n1 is leader of term 1 and got append from leader n4 of the same term\n' +
  'lab server: stopped on a fatal error: raft invariant violated: n1 is leader of term 1 and got append from leader n4 of the same term\n';

describe('nodes that stopped on a broken invariant', () => {
  it('finds the first violation in each log, text or JSON lines, and ignores healthy and missing logs', () => {
    const { dir, nodeLogs } = runWithLogs({
      n1: CRASHED,
      n2: '2026-11-30T16:20:57.000Z INFO raft became follower term=1\n',
      n3: '{"time":"2026-11-30T16:20:58.000Z","level":"error","msg":"driver stopped: raft invariant violated: commit decreases from 9 to 7","node":"n3"}\n',
    });
    expect(invariantViolations(dir, { ...nodeLogs, n4: 'logs/n4.log', n5: '../../etc/passwd' })).toEqual([
      {
        node: 'n1',
        message:
          'raft invariant violated: n1 is leader of term 1 and got append from leader n4 of the same term',
      },
      { node: 'n3', message: 'raft invariant violated: commit decreases from 9 to 7' },
    ]);
  });

  it('makes the run invalid, also a partial one that never elected a leader, and says which node stopped', () => {
    const { dir, nodeLogs } = runWithLogs({ n1: CRASHED, n2: '' });
    const results = {
      verdict: 'incomplete',
      partial: true,
      error: 'no leader was elected within 30000 ms of starting',
      nodeLogs,
      seed: 1,
      counts: { total: { ok: 0, fail: 0, info: 0 }, byOperation: {} },
      availability: { duringFaults: null, outsideFaults: null, overall: null },
      faults: [],
      checker: { verdict: 'unknown', elapsedMs: 0, keys: [] },
    } as unknown as RunResults;
    applyInvariantViolations(results, dir);
    expect(results.verdict).toBe('invalid');
    const lines = summaryLines(results, dir);
    expect(lines).toContain(
      '  node n1 stopped: raft invariant violated: n1 is leader of term 1 and got append from leader n4 of the same term',
    );
    expect(lines).toContain(
      'verdict: INVALID of a partial history (no leader was elected within 30000 ms of starting)',
    );
    // Healthy logs leave the verdict to the checker.
    const healthy = { ...results, verdict: 'valid', nodeLogs: { n2: nodeLogs.n2! } } as RunResults;
    applyInvariantViolations(healthy, dir);
    expect([healthy.verdict, healthy.invariantViolations]).toEqual(['valid', undefined]);
  });
});
