// `lab down` for the Docker runtime: remove the containers, networks and volumes of runs whose lab
// is gone (or of every run, with --all), found by their labels.
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { processAlive } from '../process-alive.js';
import { labelFilter, LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_RUN } from './labels.js';
import type { DownReport } from '../down-report.js';
import { saveRunLogs } from './logs.js';
import { removeRun } from './remove.js';

interface RunOwner {
  host: string;
  pid: number;
}

/** Every labelled run and its owner, from containers, networks and volumes alike. */
async function labelledRuns(docker: Docker): Promise<Map<string, RunOwner>> {
  const runs = new Map<string, RunOwner>();
  const note = (labels: Record<string, string> | undefined): void => {
    const run = labels?.[LABEL_RUN];
    if (run === undefined || runs.has(run)) return;
    runs.set(run, { host: labels?.[LABEL_OWNER_HOST] ?? '', pid: Number(labels?.[LABEL_OWNER_PID] ?? 0) });
  };
  const filters = labelFilter();
  for (const c of await docker.listContainers({ all: true, filters })) note(c.Labels);
  for (const n of await docker.listNetworks({ filters })) note(n.Labels);
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) note(v.Labels);
  return runs;
}

export async function downDocker(docker: Docker, all: boolean): Promise<DownReport> {
  const report: DownReport = { removed: [], skipped: [], logs: [] };
  for (const [runId, owner] of await labelledRuns(docker)) {
    const here = owner.host === hostname();
    const live = here ? owner.pid !== process.pid && owner.pid > 0 && processAlive(owner.pid) : true;
    if (live && !all) {
      const who = here
        ? `its lab (pid ${owner.pid}) is still running`
        : `it belongs to a lab on host ${owner.host}`;
      report.skipped.push(`docker run ${runId}: ${who}; use --all`);
      continue;
    }
    // A removed container's log is gone for good: save every node's first, or remove nothing.
    let saved;
    try {
      saved = await saveRunLogs(docker, runId);
    } catch (error) {
      report.skipped.push(`docker run ${runId}: could not save its node logs (${(error as Error).message})`);
      continue;
    }
    for (const line of saved.notSaved) report.skipped.push(`docker run ${runId}: ${line}`);
    if (saved.logDir !== undefined)
      report.logs.push({ runtime: 'docker', runId, logDir: saved.logDir, written: saved.written });
    for (const { kind, name } of await removeRun(docker, runId))
      report.removed.push(`docker run ${runId}: ${kind} ${name}`);
  }
  return report;
}
