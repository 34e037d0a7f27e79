// The data-directory lock: a LOCK file created with O_EXCL holding the owner's pid and, on Linux,
// its start time (so a pid reused by an unrelated process is not mistaken for the owner). Node has
// no flock(), and a pid file also tells an operator who holds the directory. A lock whose pid is dead
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

interface LockOwner {
  readonly pid: number; // NaN when the file is missing, empty or garbled
  readonly startTime: string | undefined;
}

function isAlive(owner: LockOwner, file: string): boolean {
  const { pid } = owner;
  if (!Number.isInteger(pid) || pid <= 0) return false; // empty or garbled: the owner died while writing it
  if (pid === process.pid) return held.has(file);
  if (!isProcessAlive(pid)) return false;
  const now = startTimeOf(pid);
  return owner.startTime === undefined || now === undefined || now === owner.startTime;
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

/** Linux: the fields of /proc/PID/stat after the command name (state first); undefined elsewhere. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the command name may hold spaces
  } catch {
    return undefined;
  }
}

/** State Z (zombie) or X (dead); false when unknown. */
function isZombie(pid: number): boolean {
  const state = procStat(pid)?.[0];
  return state === 'Z' || state === 'X';
}

/** Field 22 of /proc/PID/stat, the start time in clock ticks since boot (index 19 after the name). */
function startTimeOf(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

const LOCK_POLL_MS = 50;

async function readOwner(file: string): Promise<LockOwner> {
  try {
    const [pid, startTime] = (await readFile(file, 'utf8')).trim().split(' ');
    return { pid: Number.parseInt(pid ?? '', 10), startTime: startTime || undefined };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { pid: Number.NaN, startTime: undefined };
    throw error;
  }
}

async function tryCreate(file: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx');
    try {
      await handle.writeFile(`${process.pid} ${startTimeOf(process.pid) ?? ''}\n`);
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
    const owner = await readOwner(file);
    if (!isAlive(owner, file)) {
      await unlink(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    } else if (Date.now() >= deadline) {
      throw new DataDirLockedError(dir, owner.pid, file);
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
