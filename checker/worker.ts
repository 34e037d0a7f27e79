// A worker thread of checkHistoryParallel: checks its share of the keys and posts the result.
import { parentPort, workerData } from 'node:worker_threads';
import { checkHistory, type CheckOptions } from './check.js';
import type { HistoryEvent } from './history-types.js';

const { events, options } = workerData as { events: HistoryEvent[]; options: CheckOptions };
parentPort?.postMessage(checkHistory(events, options));
