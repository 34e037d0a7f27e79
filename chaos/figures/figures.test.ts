// A run's figures, computed once (runFigures) and stored in results.json (resultsFigures).
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../checker/history-types.js';
import { historyFigures, runFigures } from './index.js';
import { faultPeriods } from './operations.js';
import { quantile } from './stats.js';

const ms = 1e6;
const history: HistoryEvent[] = [
  { type: 'invoke', process: 0, f: 'put', key: 'k0', value: 'a', time: 0 },
  { type: 'ok', process: 0, f: 'put', key: 'k0', value: 'a', time: 10 * ms },
  { type: 'nemesis', phase: 'start', fault: 'partition', detail: 'isolate n1', nodes: ['n1'], time: 20 * ms },
  { type: 'invoke', process: 1, f: 'get', key: 'k0', value: null, time: 30 * ms },
  { type: 'invoke', process: 0, f: 'cas', key: 'k0', value: { expected: 'x', new: 'b' }, time: 31 * ms },
  { type: 'info', process: 1, f: 'get', key: 'k0', value: null, time: 90 * ms, error: 'TIMEOUT' },
  {
    type: 'fail',
    process: 0,
    f: 'cas',
    key: 'k0',
    value: { expected: 'x', new: 'b' },
    time: 35 * ms,
    error: 'CAS_MISMATCH',
  },
  { type: 'nemesis', phase: 'stop', fault: 'partition', detail: 'isolate n1', nodes: ['n1'], time: 100 * ms },
  { type: 'invoke', process: 2, f: 'get', key: 'k0', value: null, time: 110 * ms },
  { type: 'ok', process: 2, f: 'get', key: 'k0', value: 'a', time: 114 * ms },
  { type: 'invoke', process: 0, f: 'put', key: 'k0', value: 'c', time: 120 * ms },
  { type: 'fail', process: 0, f: 'put', key: 'k0', value: 'c', time: 121 * ms, error: 'NOT_LEADER' },
  { type: 'nemesis', phase: 'start', fault: 'kill', detail: 'kill n2 (one)', nodes: ['n2'], time: 130 * ms },
  { type: 'nemesis', phase: 'start', fault: 'heal-all', detail: 'heal', nodes: [], time: 140 * ms },
  { type: 'nemesis', phase: 'stop', fault: 'kill', detail: 'kill n2 (one)', nodes: ['n2'], time: 150 * ms },
  { type: 'nemesis', phase: 'stop', fault: 'heal-all', detail: 'heal', nodes: [], time: 150 * ms },
];

describe('run results', () => {
  it('counts ok, fail and info per operation and in total', () => {
    const { counts } = historyFigures(history);
    expect(counts.total).toEqual({ ok: 2, fail: 2, info: 1 });
    expect(counts.byOperation.get).toEqual({ ok: 1, fail: 0, info: 1 });
    expect(counts.byOperation.put).toEqual({ ok: 1, fail: 1, info: 0 });
    expect(counts.byOperation.cas).toEqual({ ok: 0, fail: 1, info: 0 });
  });

  it('measures latency quantiles of ok operations per operation', () => {
    const latency = historyFigures(history).latencyMs;
    expect(latency.put).toEqual({ p50: 10, p95: 10, p99: 10, max: 10, count: 1 });
    expect(latency.get).toEqual({ p50: 4, p95: 4, p99: 4, max: 4, count: 1 });
    expect(latency.cas).toBeUndefined();
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
  });

  it('pairs fault starts and stops into records', () => {
    expect(faultPeriods(history)).toEqual([
      { fault: 'partition', detail: 'isolate n1', nodes: ['n1'], startTime: 20 * ms, stopTime: 100 * ms },
      { fault: 'kill', detail: 'kill n2 (one)', nodes: ['n2'], startTime: 130 * ms, stopTime: 150 * ms },
    ]);
  });

  it('splits availability by whether an operation began during a fault', () => {
    // During: a timed-out get (unanswered) and a CAS mismatch (answered). Outside: put ok, get ok, put NOT_LEADER.
    expect(historyFigures(history).availability).toEqual({
      duringFaults: 0.5,
      outsideFaults: 0.6667,
      overall: 0.6,
    });
  });
});

describe('fault records', () => {
  it('closes a fault left open when heal-all finishes', () => {
    const records = faultPeriods([
      { type: 'nemesis', phase: 'start', fault: 'partition', detail: 'isolate n1', nodes: ['n1'], time: 10 },
      { type: 'nemesis', phase: 'start', fault: 'heal-all', detail: 'heal', nodes: [], time: 40 },
      { type: 'nemesis', phase: 'stop', fault: 'heal-all', detail: 'heal', nodes: [], time: 55 },
    ]);
    expect(records).toEqual([
      { fault: 'partition', detail: 'isolate n1', nodes: ['n1'], startTime: 10, stopTime: 55 },
    ]);
  });
});

describe('the views and results.json agree', () => {
  it('results.json holds the figures the report shows, rounded, without pending operations', () => {
    const pending: HistoryEvent = {
      type: 'invoke',
      process: 9,
      f: 'get',
      key: 'k0',
      value: null,
      time: 151 * ms,
    };
    const figures = runFigures([...history, pending]);
    expect(figures.counts.total).toEqual({ ok: 2, fail: 2, info: 1, pending: 1 });
    const stored = historyFigures([...history, pending]);
    expect(stored.counts.total).toEqual({ ok: 2, fail: 2, info: 1 });
    expect(stored.faults).toEqual(figures.faults);
    expect(stored.availability.overall).toBe(
      Math.round((figures.availability.overall ?? 0) * 10_000) / 10_000,
    );
  });
});
