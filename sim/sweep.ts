// Sweeps of many seeds, seed-range parsing, the replay command of a run, and the artifacts of a
// failing seed (re-run with the trace on: exact, because a run is a function of its options).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory, writeCounterexampleViews } from '../checker/index.js';
import type { SimOptions } from './config.js';
import { formatFaults } from './config.js';
import type { SimRun, SimSummary } from './simulation.js';
import { runSimulation, runSimulationAsync } from './simulation.js';

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
  if (o.disk !== 'model') parts.push(`--disk ${o.disk}`);
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
  /** Aborted (Ctrl-C): no seed is started after it; the result counts the seeds that finished. */
  signal?: AbortSignal;
}

export interface SweepResult {
  readonly total: number;
  readonly passed: number;
  readonly failures: SimSummary[];
  readonly ops: number;
  readonly elapsedMs: number;
}

/** A sweep of model-disk seeds, synchronous (a WAL-disk seed throws: use runSweepAsync). */
export function runSweep(options: SweepOptions): SweepResult {
  const tally = new SweepTally(options);
  for (const seed of options.seeds) {
    if (!tally.add(runSimulation({ ...options.base, seed }).summary)) break;
  }
  return tally.result();
}

/** A sweep of seeds of either disk (--disk wal or mixed runs the real WAL asynchronously). */
export async function runSweepAsync(options: SweepOptions): Promise<SweepResult> {
  const tally = new SweepTally(options);
  for (const seed of options.seeds) {
    if (!tally.add((await runSimulationAsync({ ...options.base, seed })).summary)) break;
    if (options.signal === undefined) continue;
    // One event-loop turn per seed, so a Ctrl-C (a macrotask) is heard between seeds: a model-disk
    // seed runs to its end without giving the loop a turn.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (options.signal.aborted) break;
  }
  return tally.result();
}

/** Counts a sweep's seeds as they finish. */
class SweepTally {
  private readonly started = performance.now();
  private readonly failures: SimSummary[] = [];
  private done = 0;
  private ops = 0;

  constructor(private readonly options: SweepOptions) {}

  /** Returns false when the sweep should stop. */
  add(summary: SimSummary): boolean {
    this.done++;
    this.ops += summary.ops.ok + summary.ops.fail + summary.ops.info;
    if (!summary.passed) this.failures.push(summary);
    this.options.onSeed?.(summary, {
      done: this.done,
      total: this.options.seeds.length,
      failed: this.failures.length,
      elapsedMs: performance.now() - this.started,
    });
    return summary.passed || this.options.stopAtFirstFailure !== true;
  }

  result(): SweepResult {
    const { done, failures, ops } = this;
    return {
      total: done,
      passed: done - failures.length,
      failures,
      ops,
      elapsedMs: performance.now() - this.started,
    };
  }
}

function timestamp(): string {
  return new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Re-runs a seed with the trace on and writes trace.txt and history.jsonl; returns the directory. */
export async function writeRunArtifacts(
  options: SimOptions,
  outDir: string,
): Promise<{ dir: string; run: SimRun }> {
  const run = await runSimulationAsync({ ...options, trace: true });
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
