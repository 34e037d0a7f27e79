// The final phase: once every fault is healed and a leader answers, read every key the run used.
// These reads are part of the history, so a lost or resurrected write shows up in the check.
import type { ClientFactory } from './client.js';
import { closeQuietly, type Workload } from './workload.js';

export interface FinalReadOptions {
  /** Reads in flight at once. */
  parallelism: number;
  /** Tries per key before giving up on it (each failed try retires its process). */
  attemptsPerKey: number;
}

export interface FinalReadSummary {
  keys: number;
  read: number;
  unread: string[];
}

export async function finalReads(
  workload: Workload,
  clients: ClientFactory,
  options: FinalReadOptions,
): Promise<FinalReadSummary> {
  const queue = workload.keys.allKeys();
  const total = queue.length;
  const unread: string[] = [];
  let read = 0;
  async function reader(): Promise<void> {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      if (await readOne(key)) read += 1;
      else unread.push(key);
    }
  }
  async function readOne(key: string): Promise<boolean> {
    for (let attempt = 0; attempt < options.attemptsPerKey; attempt++) {
      const process = workload.freshProcess();
      // Not pinned: after the heal any node's client finds the leader.
      const client = clients(process, workload.home(process), false);
      try {
        const outcome = await workload.invoke(client, process, { f: 'get', key, value: null });
        if (outcome === 'ok') return true;
      } finally {
        await closeQuietly(client);
      }
    }
    return false;
  }
  await Promise.all(Array.from({ length: Math.min(options.parallelism, total) }, reader));
  return { keys: total, read, unread: unread.sort() };
}
