// The data-directory lock: a LOCK file created with O_EXCL holding the owner's pid. Node has no
// flock(), and a pid file also tells an operator who holds the directory. A lock whose pid is dead
// is stale (the owner was SIGKILLed) and is taken over. A lock holding OUR pid that this process
// did not take is stale too: a container restarted after a kill gets the same pid (often 1).
// A zombie (killed, not yet reaped by its parent) holds no files and counts as dead, and a live
// holder is waited for briefly, so a supervisor that restarts a node the moment it sent SIGKILL
// does not trip over the dying process.
import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { DataDirLockedError } from './errors.js';

export const LOCK_FILE_NAME = 'LOCK';

/** Lock files held by this process (so a second open in the same process is refused too). */
const held = new Set<string>();

export interface DataDirLock {
  readonly file: string;
  release(): Promise<void>;
}

function isAlive(pid: number, file: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // empty or garbled: the owner died while writing it
  if (pid === process.pid) return held.has(file);
  return isProcessAlive(pid);
}

/** Whether `pid` is a running process (a zombie is not: it has exited and holds no files). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
  return !isZombie(pid);
}

/** Linux: state Z (zombie) or X (dead) in /proc/PID/stat; elsewhere nothing is known, so false. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3); // the comm may hold spaces
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

const LOCK_POLL_MS = 50;

async function readPid(file: string): Promise<number> {
  try {
    return Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Number.NaN;
    throw error;
  }
}

async function tryCreate(file: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx');
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Locks `dir` (which must exist) or throws DataDirLockedError naming the process that holds it,
 * after waiting up to `waitMs` for a live holder to go away.
 */
export async function lockDataDir(dir: string, waitMs = 0): Promise<DataDirLock> {
  const file = join(dir, LOCK_FILE_NAME);
  if (held.has(file)) throw new DataDirLockedError(dir, process.pid, file);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await tryCreate(file)) {
      held.add(file);
      return { file, release: () => releaseLock(file) };
    }
    const pid = await readPid(file);
    if (!isAlive(pid, file)) {
      await unlink(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    } else if (Date.now() >= deadline) {
      throw new DataDirLockedError(dir, pid, file);
    } else {
      await sleep(LOCK_POLL_MS);
    }
  }
}

async function releaseLock(file: string): Promise<void> {
  if (!held.delete(file)) return;
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
