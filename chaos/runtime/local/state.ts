// The state file of local server processes, one format for the lab's local runtime and `lab
// cluster`: which processes and folders a run created and how to start each node again, so `lab
// down` can clean up after the lab itself was killed (its proxies die with it; the servers do not)
// and `lab cluster stop|start|restart` can act on a cluster started by an earlier command.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stateDir } from '../project.js';

export interface LocalNodeState {
  pid: number | null;
  dataDir: string;
  /** The node's whole command line, to start it again from another process. */
  command: string[];
  logFile: string;
  clientPort: number;
  peerPort: number;
}

export interface LocalRunState {
  kind: 'local';
  runId: string;
  /** The lab process that owns the run; `lab down` without --all spares runs whose owner lives. */
  ownerPid: number;
  startedAt: string;
  /** Where the nodes write their logs (the run's evidence: `lab down` keeps them). */
  logDir?: string;
  /** Folders the runtime created and removes at teardown. */
  createdDirs: string[];
  nodes: Record<string, LocalNodeState>;
}

export function stateFile(runId: string): string {
  return join(stateDir(), `local-${runId}.json`);
}

/** Written atomically (temp file + rename), so a crash never leaves half a file. */
export function writeLocalState(state: LocalRunState, file = stateFile(state.runId)): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temp, file);
}

/** One state file; throws naming the file when it is missing or not a local state. */
export function readLocalState(file: string): LocalRunState {
  let parsed: LocalRunState;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as LocalRunState;
  } catch (error) {
    throw new Error(`cannot read the state file ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (parsed.kind !== 'local' || typeof parsed.nodes !== 'object')
    throw new Error(`${file} is not a state file of local server processes`);
  return parsed;
}

export function removeLocalState(runId: string): void {
  rmSync(stateFile(runId), { force: true });
}

/** Every readable state file; unreadable ones are reported by path, not thrown. */
export function readLocalStates(): { states: LocalRunState[]; unreadable: string[] } {
  const states: LocalRunState[] = [];
  const unreadable: string[] = [];
  let names: string[];
  try {
    names = readdirSync(stateDir());
  } catch {
    return { states, unreadable };
  }
  for (const name of names.filter((n) => n.startsWith('local-') && n.endsWith('.json'))) {
    const path = join(stateDir(), name);
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as LocalRunState;
      if (parsed.kind === 'local' && typeof parsed.runId === 'string') states.push(parsed);
      else unreadable.push(path);
    } catch {
      unreadable.push(path);
    }
  }
  return { states, unreadable };
}
