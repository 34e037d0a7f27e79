// Labels on everything the Docker runtime creates, so teardown and `lab down` find all of it (and
// only it), and so `lab down` can tell a crashed run from one whose lab is still running.
import { hostname } from 'node:os';

export const LABEL_LAB = 'raftlab';
export const LABEL_RUN = 'raftlab.run';
export const LABEL_OWNER_HOST = 'raftlab.owner-host';
export const LABEL_OWNER_PID = 'raftlab.owner-pid';
export const LABEL_NODE = 'raftlab.node';
/** On containers: the host folder the node's log goes to, so `lab down` can save it after a crash. */
export const LABEL_LOG_DIR = 'raftlab.log-dir';

export function runLabels(runId: string): Record<string, string> {
  return {
    [LABEL_LAB]: '1',
    [LABEL_RUN]: runId,
    [LABEL_OWNER_HOST]: hostname(),
    [LABEL_OWNER_PID]: String(process.pid),
  };
}

/** Docker API filter selecting one run's objects, or every raftlab object. */
export function labelFilter(runId?: string): { label: string[] } {
  return { label: runId === undefined ? [`${LABEL_LAB}=1`] : [`${LABEL_LAB}=1`, `${LABEL_RUN}=${runId}`] };
}
