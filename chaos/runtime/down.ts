// `lab down`: remove what crashed lab runs left behind, on both runtimes.
import { connectEngine, engineAddress, probeEngine } from './docker/engine.js';
import { downDocker } from './docker/down.js';
import { downLocal } from './local/down.js';

export interface DownResult {
  removed: string[];
  skipped: string[];
  /** Why Docker was not cleaned (no engine), if it was not. */
  dockerUnavailable?: string;
}

/** Without `all`, runs whose lab process is still alive are spared (and listed in `skipped`). */
export async function down(all: boolean): Promise<DownResult> {
  const local = downLocal(all);
  const result: DownResult = { removed: [...local.removed], skipped: [...local.skipped] };
  const docker = connectEngine();
  const problem = await probeEngine(docker);
  if (problem !== undefined) {
    result.dockerUnavailable = `no Docker engine at ${engineAddress()} (${problem})`;
    return result;
  }
  const fromDocker = await downDocker(docker, all);
  result.removed.push(...fromDocker.removed);
  result.skipped.push(...fromDocker.skipped);
  return result;
}
