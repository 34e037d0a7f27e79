// One user-defined bridge network per run, with an explicit /24 under 10.77.0.0/16 so the nodes'
// addresses are known before any container starts (they go into every node's --cluster).
import { randomInt } from 'node:crypto';
import type Docker from 'dockerode';

export interface RunNetwork {
  name: string;
  subnet: string;
  /** Address of the i-th node (0-based): .11, .12, ... */
  address(i: number): string;
}

const ATTEMPTS_MAX = 16;

/** Creates the network on a /24 no other network uses; retries another on an overlap error. */
export async function createRunNetwork(
  docker: Docker,
  runId: string,
  labels: Record<string, string>,
): Promise<RunNetwork> {
  const name = `raftlab-${runId}`;
  const used = await usedSubnets(docker);
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt += 1) {
    const third = randomInt(0, 256);
    const subnet = `10.77.${third}.0/24`;
    if (used.has(subnet)) continue;
    try {
      await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: labels,
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: `10.77.${third}.1` }] },
      });
      return { name, subnet, address: (i) => `10.77.${third}.${11 + i}` };
    } catch (error) {
      // Another run (or another lab) took it between the listing and the create: try another.
      if (!/overlap|conflict/i.test((error as Error).message)) throw error;
      used.add(subnet);
      lastError = error;
    }
  }
  throw new Error(
    `could not find a free 10.77.x.0/24 for network ${name}: ${(lastError as Error | undefined)?.message ?? 'all taken'}`,
  );
}

async function usedSubnets(docker: Docker): Promise<Set<string>> {
  const used = new Set<string>();
  for (const network of await docker.listNetworks()) {
    for (const config of network.IPAM?.Config ?? []) {
      if (config.Subnet !== undefined) used.add(config.Subnet);
    }
  }
  return used;
}
