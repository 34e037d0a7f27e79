// A worker thread of a parallel sweep: runs the seeds it is sent, one at a time, and posts back
// each seed's summary. Runs are independent functions of their options, so any split of the seeds
// over threads gives the same per-seed results as one thread.
import { parentPort } from 'node:worker_threads';
import type { FaultName } from './config.js';
import type { UnsafeVariant } from '../server/raft/unsafe.js';
import { runSimulationAsync } from './simulation.js';
import type { WireOptions } from './parallel-sweep.js';

parentPort?.on('message', async (message: { seed: number; base: WireOptions } | 'stop') => {
  if (message === 'stop') {
    parentPort?.close();
    return;
  }
  const { seed, base } = message;
  const { summary } = await runSimulationAsync({
    ...base,
    seed,
    faults: new Set<FaultName>(base.faults),
    unsafe: new Set<UnsafeVariant>(base.unsafe),
  });
  parentPort?.postMessage(summary);
});
