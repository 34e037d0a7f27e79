// `lab down`: remove what crashed lab runs left behind, on both runtimes, after saving the node logs
// into each run's folder and marking the run there as partial.
import { dirname } from 'node:path';
import { recordAbandonedRun } from '../run-folder.js';
import type { RunLogs } from './down-report.js';
import { connectEngine, engineAddress, probeEngine } from './docker/engine.js';
import { downDocker } from './docker/down.js';
import { downLocal } from './local/down.js';

export interface DownResult {
  removed: string[];
  skipped: string[];
  /** Where each removed run's node logs are, and which run folders were marked partial. */
  saved: string[];
  /** Why Docker was not cleaned (no engine), if it was not. */
  dockerUnavailable?: string;
}

/** Without `all`, runs whose lab process is still alive are spared (and listed in `skipped`). */
export async function down(all: boolean): Promise<DownResult> {
  const local = downLocal(all);
  const result: DownResult = { removed: [...local.removed], skipped: [...local.skipped], saved: [] };
  result.saved.push(...local.logs.flatMap(recordLogs));
  const docker = connectEngine();
  const problem = await probeEngine(docker);
  if (problem !== undefined) {
    result.dockerUnavailable = `no Docker engine at ${engineAddress()} (${problem})`;
    return result;
  }
  const fromDocker = await downDocker(docker, all);
  result.removed.push(...fromDocker.removed);
  result.skipped.push(...fromDocker.skipped);
  result.saved.push(...fromDocker.logs.flatMap(recordLogs));
  return result;
}

/** Lines for one run's logs; the run folder (the log folder's parent) records them and is marked partial. */
function recordLogs(logs: RunLogs): string[] {
  const nodes = Object.keys(logs.written);
  const lines = [
    `${logs.runtime} run ${logs.runId}: ${nodes.length > 0 ? `logs of ${nodes.join(', ')} in ${logs.logDir}` : `no node log in ${logs.logDir}`}`,
  ];
  const runDir = dirname(logs.logDir);
  const reason = `the lab died before the run finished; \`lab down\` removed its cluster and saved the node logs`;
  try {
    if (recordAbandonedRun(runDir, logs.written, reason))
      lines.push(
        `${logs.runtime} run ${logs.runId}: run folder ${runDir} marked partial; check it: lab analyze ${runDir}`,
      );
  } catch (error) {
    lines.push(`${logs.runtime} run ${logs.runId}: could not update ${runDir}: ${(error as Error).message}`);
  }
  return lines;
}
