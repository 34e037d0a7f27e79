// checkHistoryParallel: the keys of a large history split over worker threads. Partitions are
// independent (P-compositionality), so each worker runs the ordinary checker on its keys.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  checkPartition,
  combine,
  modelFor,
  partitions,
  type CheckOptions,
  type CheckResult,
  type KeyResult,
} from './check.js';
import type { HistoryEvent } from './history-types.js';

/**
 * Keys are checked on the calling thread first; only the keys still left after this long go to
 * workers. A worker costs its start, a clone of the history and a cold JIT: measured on the
 * shared 2-core machine (bench:checker), two workers took longer than one thread on a 38k-op,
 * 64-key history that one thread checks in under a second. So workers start only when the
 * work has shown itself to be long, where halving the rest outweighs that cost.
 */
export const SERIAL_FIRST_MS = 2000;
export const WORKERS_MAX = 8;

export interface ParallelOptions extends CheckOptions {
  /** Worker threads to use; default: the available cores, at most WORKERS_MAX. */
  workers?: number;
  /** Skip the serial start and use workers at once (tests). */
  force?: boolean;
}

export async function checkHistoryParallel(
  events: readonly HistoryEvent[],
  options: ParallelOptions = {},
): Promise<CheckResult> {
  const started = performance.now();
  const { workers: wanted, force, ...checkOptions } = options;
  const parts = partitions(events, checkOptions);
  const operations = parts.reduce((sum, [, ops]) => sum + ops.length, 0);
  const workers = Math.min(wanted ?? Math.min(availableParallelism(), WORKERS_MAX), parts.length);
  const model = modelFor(checkOptions.model ?? 'kv');
  const deadline = checkOptions.timeLimitMs === undefined ? Infinity : started + checkOptions.timeLimitMs;
  const keys: KeyResult[] = [];
  let next = 0;
  const serialUntil = force === true ? started : started + SERIAL_FIRST_MS;
  while (next < parts.length && (workers < 2 || parts.length - next < 2 || performance.now() < serialUntil)) {
    const [key, ops] = parts[next++]!;
    keys.push(checkPartition(model, key, ops, deadline, checkOptions));
    checkOptions.onKey?.(keys[keys.length - 1]!, keys.length, parts.length);
  }
  if (next < parts.length)
    keys.push(
      ...(await inWorkers(
        events,
        parts.slice(next),
        Math.min(workers, parts.length - next),
        checkOptions,
        deadline,
      )),
    );
  return {
    verdict: combine(keys.map((k) => k.verdict)),
    keys,
    elapsedMs: performance.now() - started,
    model: checkOptions.model ?? 'kv',
    operations,
  };
}

/** The remaining keys, balanced over workers, each worker with the time left. */
async function inWorkers(
  events: readonly HistoryEvent[],
  parts: readonly [string, readonly unknown[]][],
  workers: number,
  options: CheckOptions,
  deadline: number,
): Promise<KeyResult[]> {
  const shares = balance(
    parts.map(([key, ops]) => ({ key, weight: ops.length })),
    workers,
  );
  const left = deadline === Infinity ? {} : { timeLimitMs: Math.max(0, deadline - performance.now()) };
  const results = await Promise.all(
    // Each worker gets the whole history (operation ids and event positions in the results refer
    // to it) and checks only its keys.
    shares.map((keys) => runWorker(events, { ...withoutCallback(options), ...left, keys })),
  );
  const order = new Map(parts.map(([key], i) => [key, i]));
  const keys = results.flatMap((r) => r.keys);
  return keys.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
}

/** Functions cannot cross to a worker thread. */
function withoutCallback(options: CheckOptions): CheckOptions {
  const { onKey: _onKey, ...rest } = options;
  return rest;
}

/** Largest first onto the least loaded worker. */
function balance(items: { key: string; weight: number }[], workers: number): string[][] {
  const shares = Array.from({ length: workers }, () => ({ keys: [] as string[], load: 0 }));
  for (const item of [...items].sort((a, b) => b.weight - a.weight)) {
    const share = shares.reduce((min, s) => (s.load < min.load ? s : min));
    share.keys.push(item.key);
    share.load += item.weight;
  }
  return shares.filter((s) => s.keys.length > 0).map((s) => s.keys);
}

/**
 * Under the compiled build this module is dist/checker/parallel.js and the worker is worker.js
 * beside it. Under vitest or tsx it is the .ts source: the worker is then a small eval'd script
 * that registers tsx's loader in the new thread (execArgv --import does not reach worker
 * threads on Node 20) and imports worker.ts. tsx is resolved from here, not from the cwd.
 */
export function workerEntry(): { code: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { code: new URL('./worker.js', import.meta.url), eval: false };
  // The ESM build of tsx/esm/api (its package exports map "import" to this file).
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  const worker = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); })`;
  return { code, eval: true };
}

function runWorker(events: readonly HistoryEvent[], options: CheckOptions): Promise<CheckResult> {
  const entry = workerEntry();
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry.code, { workerData: { events, options }, eval: entry.eval });
    worker.once('message', (result: CheckResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`checker worker exited with code ${code}`));
    });
  });
}
