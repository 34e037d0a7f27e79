// A sweep over worker threads (lab sim --workers N): each worker takes the next seed when it is
// done with one, so slow seeds do not hold up a fixed share. The results per seed are the same as
// in a single-thread sweep; only their order of arrival differs.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FaultName, SimOptions } from './config.js';
import type { UnsafeVariant } from '../server/raft/unsafe.js';
import type { SimSummary } from './simulation.js';
import type { SweepOptions, SweepResult } from './sweep.js';

export const SWEEP_WORKERS_MAX = 64;

/** SimOptions without the seed, with its sets as arrays (structured clone keeps Sets, but be explicit). */
export type WireOptions = Omit<SimOptions, 'seed' | 'faults' | 'unsafe'> & {
  faults: FaultName[];
  unsafe: UnsafeVariant[];
};

/**
 * Under the build the worker is sweep-worker.js beside this file. Under tsx or vitest this is the
 * .ts source: the worker is a small eval'd script that registers tsx in the new thread first.
 */
function workerEntry(): { code: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { code: new URL('./sweep-worker.js', import.meta.url), eval: false };
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  const worker = new URL('./sweep-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); })`;
  return { code, eval: true };
}

export function runSweepParallel(options: SweepOptions, workers: number): Promise<SweepResult> {
  if (!Number.isInteger(workers) || workers < 1 || workers > SWEEP_WORKERS_MAX) {
    throw new RangeError(`workers must be an integer from 1 to ${SWEEP_WORKERS_MAX}, got ${workers}`);
  }
  const started = performance.now();
  const base: WireOptions = {
    ...options.base,
    faults: [...options.base.faults],
    unsafe: [...options.base.unsafe],
  };
  const failures: SimSummary[] = [];
  const entry = workerEntry();
  let next = 0;
  let done = 0;
  let ops = 0;
  let stopping = false;
  return new Promise((resolve, reject) => {
    const pool = Array.from(
      { length: Math.min(workers, options.seeds.length) },
      () => new Worker(entry.code, { eval: entry.eval }),
    );
    let running = pool.length;
    const finish = () => {
      if (--running > 0) return;
      resolve({
        total: done,
        passed: done - failures.length,
        failures,
        ops,
        elapsedMs: performance.now() - started,
      });
    };
    const feed = (worker: Worker) => {
      const seed = options.seeds[next];
      if (stopping || options.signal?.aborted === true || seed === undefined) {
        void worker.terminate().then(finish);
        return;
      }
      next++;
      worker.postMessage({ seed, base });
    };
    for (const worker of pool) {
      worker.on('message', (summary: SimSummary) => {
        done++;
        ops += summary.ops.ok + summary.ops.fail + summary.ops.info;
        if (!summary.passed) failures.push(summary);
        if (!summary.passed && options.stopAtFirstFailure === true) stopping = true;
        const progress = {
          done,
          total: options.seeds.length,
          failed: failures.length,
          elapsedMs: performance.now() - started,
        };
        options.onSeed?.(summary, progress);
        feed(worker);
      });
      worker.once('error', (error) => {
        for (const w of pool) void w.terminate();
        reject(error);
      });
      feed(worker);
    }
  });
}
