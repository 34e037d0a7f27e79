// The data-directory lock: a LOCK file created with O_EXCL holding the owner's pid. Node has no
// flock(), and a pid file also tells an operator who holds the directory. A lock whose pid is dead
// is stale (the owner was SIGKILLed) and is taken over. A lock holding OUR pid that this process
// did not take is stale too: a container restarted after a kill gets the same pid (often 1).
import { open, readFile, unlink } from 'node:fs/promises';
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
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

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

/** Locks `dir` (which must exist) or throws DataDirLockedError naming the process that holds it. */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const file = join(dir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (held.has(file)) throw new DataDirLockedError(dir, process.pid, file);
    if (await tryCreate(file)) {
      held.add(file);
      return { file, release: () => releaseLock(file) };
    }
    const pid = await readPid(file);
    if (isAlive(pid, file)) throw new DataDirLockedError(dir, pid, file);
    await unlink(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  throw new DataDirLockedError(dir, await readPid(file), file);
}

async function releaseLock(file: string): Promise<void> {
  if (!held.delete(file)) return;
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
