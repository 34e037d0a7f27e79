// Node logs out of containers: written into the run folder by collectLogs() at the end of a run and
// by `lab down` after a crashed lab, before anything is removed (a removed container's log is gone).
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import type Docker from 'dockerode';
import { labelFilter, LABEL_LOG_DIR, LABEL_NODE } from './labels.js';

/** Writes the container's whole log (stdout and stderr, in order) to `file`. */
export async function writeContainerLog(container: Docker.Container, file: string): Promise<void> {
  const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown;
  const out = createWriteStream(file);
  if (Buffer.isBuffer(raw)) out.end(demuxBuffer(raw));
  else out.end();
  await finished(out);
}

/** docker logs without a TTY: 8-byte frame headers (stream, 0, 0, 0, size BE32) before each chunk. */
export function demuxBuffer(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts);
}

export interface SavedLogs {
  /** The log folder the run's labels name, or undefined for a run created before they did. */
  logDir: string | undefined;
  /** node -> file written. */
  written: Record<string, string>;
  /** Why a log was not saved (the run folder is gone), one line each. */
  notSaved: string[];
}

/**
 * Saves each container's log of a run into the log folder its labels record. A folder that no longer
 * exists is not made again (the user removed the run): that is reported, not an error.
 */
export async function saveRunLogs(docker: Docker, runId: string): Promise<SavedLogs> {
  const saved: SavedLogs = { logDir: undefined, written: {}, notSaved: [] };
  for (const info of await docker.listContainers({ all: true, filters: labelFilter(runId) })) {
    const node = info.Labels[LABEL_NODE];
    const logDir = info.Labels[LABEL_LOG_DIR];
    if (node === undefined || logDir === undefined) continue;
    saved.logDir = logDir;
    // The run folder must still be there; the log folder inside it may not be yet.
    if (!existsSync(resolve(logDir, '..'))) {
      saved.notSaved.push(`log of ${node}: the run folder of ${logDir} is gone`);
      continue;
    }
    mkdirSync(logDir, { recursive: true });
    const file = join(logDir, `${node}.log`);
    await writeContainerLog(docker.getContainer(info.Id), file);
    saved.written[node] = file;
  }
  return saved;
}
