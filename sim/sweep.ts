// Sweeps of many seeds, seed-range parsing, the replay command of a run, and the artifacts of a
// failing seed (re-run with the trace on: exact, because a run is a function of its options).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory, writeCounterexampleViews } from '../checker/index.js';
import type { SimOptions } from './config.js';
import { formatFaults } from './config.js';
import type { SimRun, SimSummary } from './simulation.js';
import { runSimulation } from './simulation.js';

/** Seeds are "42", "1..500" (inclusive) or a comma list of both. */
export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  const SEEDS_MAX = 10_000_000;
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(part);
    if (m === null) throw new Error(`bad seed list "${text}": use 42, 1..500 or 1,5,9..12`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`bad seed range "${part.trim()}": the end is before the start`);
    if (seeds.length + (to - from + 1) > SEEDS_MAX)
      throw new Error(`too many seeds (more than ${SEEDS_MAX})`);
    for (let s = from; s <= to; s++) seeds.push(s);
  }
  return seeds;
}

/** The exact command that replays a run. */
export function replayCommand(o: SimOptions): string {
  const parts = [
    `lab sim --seed ${o.seed} --nodes ${o.nodes} --faults ${formatFaults(o.faults)} --ops ${o.ops}`,
  ];
  if (o.clients !== 5) parts.push(`--clients ${o.clients}`);
  if (o.keys !== 4) parts.push(`--keys ${o.keys}`);
  if (o.unsafe.size > 0) parts.push(`--unsafe ${[...o.unsafe].join(',')}`);
  if (o.reads !== 'mixed') parts.push(`--reads ${o.reads}`);
  if (!o.snapshots) parts.push('--snapshots off');
  if (!o.checkLinearizability) parts.push('--no-check');
  return parts.join(' ');
}

export interface SweepProgress {
  done: number;
  total: number;
  failed: number;
  elapsedMs: number;
}

export interface SweepOptions {
  seeds: readonly number[];
  base: Omit<SimOptions, 'seed'>;
  stopAtFirstFailure?: boolean;
  onSeed?: (summary: SimSummary, progress: SweepProgress) => void;
}

export interface SweepResult {
  readonly total: number;
  readonly passed: number;
  readonly failures: SimSummary[];
  readonly ops: number;
  readonly elapsedMs: number;
}

export function runSweep(options: SweepOptions): SweepResult {
  const started = performance.now();
  const failures: SimSummary[] = [];
  let done = 0;
  let ops = 0;
  for (const seed of options.seeds) {
    const { summary } = runSimulation({ ...options.base, seed });
    done++;
    ops += summary.ops.ok + summary.ops.fail + summary.ops.info;
    if (!summary.passed) failures.push(summary);
    options.onSeed?.(summary, {
      done,
      total: options.seeds.length,
      failed: failures.length,
      elapsedMs: performance.now() - started,
    });
    if (!summary.passed && options.stopAtFirstFailure === true) break;
  }
  return {
    total: done,
    passed: done - failures.length,
    failures,
    ops,
    elapsedMs: performance.now() - started,
  };
}

function timestamp(): string {
  return new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Re-runs a seed with the trace on and writes trace.txt and history.jsonl; returns the directory. */
export function writeRunArtifacts(options: SimOptions, outDir: string): { dir: string; run: SimRun } {
  const run = runSimulation({ ...options, trace: true });
  const dir = join(outDir, 'sim', `${options.seed}-${timestamp()}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'trace.txt'), run.trace.text());
  writeFileSync(join(dir, 'history.jsonl'), run.history.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const v = run.summary.violation;
  if (v?.property === 'linearizability') {
    // The checker's counterexample pages (one per illegal key) next to the history they explain.
    const result = checkHistory(run.history, { model: 'kv', timeLimitMs: 20_000 });
    writeCounterexampleViews(run.history, result, join(dir, 'counterexample'));
  }
  const readme = [
    `seed ${options.seed}: ${v === undefined ? 'passed' : `${v.property}: ${v.detail}`}`,
    `replay: ${replayCommand(options)}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'README.txt'), readme);
  return { dir, run };
}
