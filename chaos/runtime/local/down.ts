// `lab down` for the local runtime: kill the servers a crashed run left behind (found through its
// state file) and remove the folders it created.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DownReport, RunLogs } from '../down-report.js';
import { processAlive, processMatches } from '../process-alive.js';
import { readLocalStates, removeLocalState, type LocalRunState } from './state.js';

/** Without `all`, runs whose owning lab process is still alive are left alone (and listed as skipped). */
export function downLocal(all: boolean): DownReport {
  const report: DownReport = { removed: [], skipped: [], logs: [] };
  const { states, unreadable } = readLocalStates();
  for (const path of unreadable) report.skipped.push(`unreadable state file ${path} (remove it by hand)`);
  for (const state of states) {
    if (!all && state.ownerPid !== process.pid && processAlive(state.ownerPid)) {
      report.skipped.push(
        `local run ${state.runId}: its lab (pid ${state.ownerPid}) is still running; use --all`,
      );
      continue;
    }
    for (const [id, node] of Object.entries(state.nodes)) {
      // The data directory is on the server's command line: a reused pid never matches it.
      if (node.pid === null || !processMatches(node.pid, node.dataDir)) continue;
      process.kill(node.pid, 'SIGKILL');
      report.removed.push(`local run ${state.runId}: process ${node.pid} (node ${id})`);
    }
    for (const dir of state.createdDirs) {
      rmSync(dir, { recursive: true, force: true });
      report.removed.push(`local run ${state.runId}: folder ${dir}`);
    }
    removeLocalState(state.runId);
    if (state.logDir !== undefined) report.logs.push(keptLogs(state, state.logDir));
  }
  return report;
}

/** The local nodes log straight into the run folder, so there is nothing to copy: just find them. */
function keptLogs(state: LocalRunState, logDir: string): RunLogs {
  const written: Record<string, string> = {};
  for (const id of Object.keys(state.nodes)) {
    const file = join(logDir, `${id}.log`);
    if (existsSync(file)) written[id] = file;
  }
  return { runtime: 'local', runId: state.runId, logDir, written };
}
