// The file-system calls the WAL makes, as one injected interface: the server passes node's fs
// (NODE_WAL_FS); the simulator passes a simulated file system (sim/sim-fs.ts) that loses unsynced
// writes and tears the last one at a crash, so the WAL's own ordering of writes, fsyncs, segment
// rolls and torn-tail repair runs under the simulator's faults. Only the subset the WAL and the
// snapshot store (snapshot-store.ts) use.
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { setImmediate } from 'node:timers/promises';
import { lockDataDir, type DataDirLock } from './lock.js';
import { syncDir } from './sync-dir.js';

/** An open file: node's FileHandle has exactly these methods. */
export interface WalFile {
  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }>;
  /** fdatasync: the file's data (and its size) are durable once this resolves. */
  datasync(): Promise<void>;
  truncate(bytes: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/**
 * 'a': append, creating the file; 'ax': create, failing with EEXIST; 'r+': an existing file;
 * 'w': create or empty (a snapshot's temp file).
 */
export type WalOpenFlags = 'a' | 'ax' | 'r+' | 'w';

export interface WalFs {
  /** Creates `dir` and any missing parents; an existing directory is fine. */
  mkdirp(dir: string): Promise<void>;
  open(file: string, flags: WalOpenFlags): Promise<WalFile>;
  readFile(file: string): Promise<Buffer>;
  readdir(dir: string): Promise<string[]>;
  /** fsync of a directory: the names created or removed in it are durable once this resolves. */
  syncDir(dir: string): Promise<void>;
  /** Removes a file (a released segment); durable only after syncDir of its directory. */
  unlink(file: string): Promise<void>;
  /**
   * Renames a file over any file of the new name (a snapshot's temp file to its name), in one
   * directory; durable only after syncDir of that directory (a crash may bring the old name back).
   */
  rename(from: string, to: string): Promise<void>;
  /** The data-directory lock (lock.ts); one process per directory. */
  lock(dir: string, waitMs: number): Promise<DataDirLock>;
  /** Lets other callbacks run before the WAL's next group-commit round (one event-loop turn). */
  nextTurn(): Promise<void>;
}

export const NODE_WAL_FS: WalFs = {
  mkdirp: async (dir) => {
    await mkdir(dir, { recursive: true });
  },
  open: (file, flags) => open(file, flags),
  readFile: (file) => readFile(file),
  readdir: (dir) => readdir(dir),
  syncDir,
  unlink: (file) => rm(file),
  rename: (from, to) => rename(from, to),
  lock: lockDataDir,
  nextTurn: () => setImmediate(),
};
