// Removing what the Docker runtime created, by label: containers (forced, so running and paused
// ones go too), then networks, then volumes. Used by teardown (one run) and `lab down` (many).
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { statusCode } from './engine.js';
import { labelFilter } from './labels.js';

export interface Removed {
  readonly kind: 'container' | 'network' | 'volume';
  readonly name: string;
}

/** Removes every container, network and volume of the run; returns what it removed. Idempotent. */
export async function removeRun(docker: Docker, runId: string): Promise<Removed[]> {
  const filters = labelFilter(runId);
  const removed: Removed[] = [];
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map(async (info) => {
      await gone(() => docker.getContainer(info.Id).remove({ force: true, v: false }));
      removed.push({ kind: 'container', name: info.Names[0]?.replace(/^\//, '') ?? info.Id.slice(0, 12) });
    }),
  );
  for (const network of await docker.listNetworks({ filters })) {
    await gone(() => docker.getNetwork(network.Id).remove());
    removed.push({ kind: 'network', name: network.Name });
  }
  const { Volumes: volumes } = await docker.listVolumes({ filters });
  await Promise.all(
    (volumes ?? []).map(async (volume) => {
      await gone(() => docker.getVolume(volume.Name).remove());
      removed.push({ kind: 'volume', name: volume.Name });
    }),
  );
  return removed;
}

const IN_USE_RETRIES_MAX = 25;

/**
 * 404: a concurrent teardown removed it first. 409: still in use (a container being removed by a
 * concurrent teardown still holds the network or volume) or already being removed: retry a while.
 */
async function gone(action: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await action();
      return;
    } catch (error) {
      const code = statusCode(error);
      if (code === 404) return;
      if (code !== 409 || attempt >= IN_USE_RETRIES_MAX) throw error;
      await delay(200);
    }
  }
}

/** Two containers and a network -> "2 containers, 1 network" (a short teardown line). */
export function countByKind(removed: readonly Removed[]): string {
  const counts = new Map<string, number>();
  for (const { kind } of removed) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${kind}${n === 1 ? '' : 's'}`).join(', ');
}
