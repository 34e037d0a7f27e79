// A simulated file system for one node, under the real WAL (server/storage/fs.ts's WalFs), with a
// power-cut model:
//  - A file's bytes are durable once fdatasynced. A crash keeps the durable bytes and, of the
//    writes since the last sync, a seeded prefix in write order (the page cache writes back in
//    order): none (1/4), all (1/4), or cut at a seeded byte inside them (1/2), so the first write
//    not kept whole may survive torn at any byte. One torn cut in 8 leaves the rest of the torn
//    write zero-filled instead (the size was updated, the data blocks were not).
//  - A truncate not yet synced is lost at a crash (the file comes back with its durable bytes).
//  - A new file's or directory's name is durable only after an fsync of its directory; fdatasync
//    of the file does not make its name durable. A crash removes every name never synced (and a
//    removed directory takes everything in it). Likewise an unlink is durable only after an fsync
//    of the directory: a crash before it brings the file back with its durable content. A rename
//    too: until the directory is fsynced, a crash brings back the old name (if it was durable) and
//    any file the rename replaced, and drops the new name. A rename moves the name only: bytes not
//    fdatasynced before it are as fragile under the new name as under the old one.
//  - Opening with 'w' empties an existing file like a truncate (lost at a crash until synced).
// Operations take effect when called and complete at once, except fsyncs (of files and of
// directories) once `latency` is set: each completes after a seeded simulated delay, as a
// simulation event, and makes durable what was written before it was called. The WAL's
// continuations run in the microtask drain after the event that started or completed them. Each
// life of the node gets its own session(); after a crash, an earlier session's calls (and fsyncs
// still in progress) never complete and change nothing (the process is dead), so a dead WAL's
// pending continuations are inert.
import { dirname } from 'node:path';
import type { WalFile, WalFs, WalOpenFlags } from '../server/storage/fs.js';
import type { SimRng } from './rng.js';

interface SimFile {
  /** The content as the process sees it, one chunk per write. */
  chunks: Buffer[];
  size: number;
  /** chunks[0 .. durableChunks) are durable (appends only since the last sync). */
  durableChunks: number;
  /** Set when a truncate since the last sync broke append-only: the durable content. */
  rewritten: Buffer | undefined;
  nameDurable: boolean;
}

/** Shares of a crash's outcome for one file's unsynced writes (the rest: a torn cut). */
const KEEP_NONE_SHARE = 0.25;
const KEEP_ALL_SHARE = 0.25;
const ZERO_FILL_SHARE_OF_TORN = 0.125;

/** How long an fsync takes (simulated), drawn uniformly per call. */
export const SYNC_NS_MIN = 200_000;
export const SYNC_NS_MAX = 2_000_000;

/** Simulated time for fsyncs: `after` runs its callback as a simulation event. */
export interface SimFsLatency {
  after(delayNs: number, done: () => void): void;
}

/** Never settles: what a dead process's I/O calls return. */
const NEVER = new Promise<never>(() => undefined);

function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export class SimFs {
  private readonly files = new Map<string, SimFile>();
  /** Files unlinked or renamed away whose removal is not yet durable (a crash brings them back). */
  private readonly unlinked = new Map<string, SimFile>();
  /** Directories and whether their name is durable. */
  private readonly dirs = new Map<string, boolean>();
  private epoch = 0;
  /** When set, fsyncs take simulated time (unset: they complete at once). */
  latency: SimFsLatency | undefined;
  /** fsyncs called and not yet completed (the node is waiting for the disk). */
  pendingSyncs = 0;

  /** `dirs`: directories that exist durably from the start (the data directory an operator made). */
  constructor(
    dirs: readonly string[],
    private readonly rng: SimRng,
  ) {
    for (const dir of dirs) {
      for (let d = dir; d !== dirname(d); d = dirname(d)) this.dirs.set(d, true);
    }
    this.dirs.set('/', true);
  }

  /** The file system as this life of the node sees it (a crash ends the session). */
  session(): WalFs {
    const epoch = this.epoch;
    const live = (): boolean => epoch === this.epoch;
    const run = <T>(op: () => T): Promise<T> => {
      if (!live()) return NEVER;
      try {
        return Promise.resolve(op());
      } catch (error) {
        return Promise.reject(error as Error);
      }
    };
    const sync = (prepare: () => () => void): Promise<void> => (live() ? this.sync(prepare) : NEVER);
    return {
      mkdirp: (dir) => run(() => this.mkdirp(dir)),
      open: (file, flags) => run(() => this.open(file, flags, live, run, sync)),
      readFile: (file) => run(() => this.readFile(file)),
      readdir: (dir) => run(() => this.readdir(dir)),
      syncDir: (dir) => sync(() => this.syncDir(dir)),
      unlink: (file) => run(() => this.unlink(file)),
      rename: (from, to) => run(() => this.rename(from, to)),
      // One process per simulated data directory by construction: nothing to lock against.
      lock: (dir) => run(() => ({ file: `${dir}/LOCK`, release: () => Promise.resolve() })),
      nextTurn: () => (live() ? Promise.resolve() : NEVER),
    };
  }

  /**
   * An fsync: `prepare` checks the call and returns what completing it does; that runs at once, or
   * after a seeded simulated delay when `latency` is set (unless the node crashed meanwhile).
   */
  private sync(prepare: () => () => void): Promise<void> {
    let complete: () => void;
    try {
      complete = prepare();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const latency = this.latency;
    if (latency === undefined) {
      complete();
      return Promise.resolve();
    }
    const epoch = this.epoch;
    this.pendingSyncs++;
    return new Promise((resolve) =>
      latency.after(this.rng.int(SYNC_NS_MIN, SYNC_NS_MAX), () => {
        if (epoch !== this.epoch) return;
        this.pendingSyncs--;
        complete();
        resolve();
      }),
    );
  }

  /** A power cut: unsynced bytes, truncates and names go as the model says. Returns what happened. */
  crash(): string[] {
    const rng = this.rng;
    this.epoch++;
    this.pendingSyncs = 0;
    const report: string[] = [];
    for (const [dir, durable] of [...this.dirs]) {
      if (durable || !this.dirs.has(dir)) continue;
      this.removeTree(dir);
      report.push(`directory ${dir} lost (never synced into its parent)`);
    }
    for (const [path, file] of [...this.files]) {
      if (file.nameDurable) continue;
      this.files.delete(path);
      report.push(`${path} lost (its name was never synced)`);
    }
    // After the unsynced names are gone: a renamed file's old name comes back, and so does a file
    // an unsynced rename replaced.
    for (const [path, file] of this.unlinked) {
      if (this.files.has(path) || !this.dirs.has(dirname(path))) continue;
      file.nameDurable = true;
      this.files.set(path, file);
      report.push(`${path} back (its unlink or rename was never synced)`);
    }
    this.unlinked.clear();
    for (const [path, file] of [...this.files]) {
      const what = crashFile(file, rng);
      if (what !== undefined) report.push(`${path}: ${what}`);
    }
    return report;
  }

  /** The content of a file, as the process sees it (tests). */
  contents(file: string): Buffer | undefined {
    const f = this.files.get(file);
    return f === undefined ? undefined : flatten(f);
  }

  private removeTree(dir: string): void {
    const prefix = `${dir}/`;
    for (const d of [...this.dirs.keys()]) if (d === dir || d.startsWith(prefix)) this.dirs.delete(d);
    for (const f of [...this.files.keys()]) if (f.startsWith(prefix)) this.files.delete(f);
  }

  private parentMustExist(path: string): void {
    if (!this.dirs.has(dirname(path))) throw fsError('ENOENT', `no such directory ${dirname(path)}`);
  }

  private mkdirp(dir: string): void {
    if (this.files.has(dir)) throw fsError('EEXIST', `${dir} is a file`);
    if (this.dirs.has(dir)) return;
    this.mkdirp(dirname(dir));
    this.dirs.set(dir, false);
  }

  private open(
    path: string,
    flags: WalOpenFlags,
    live: () => boolean,
    run: <T>(op: () => T) => Promise<T>,
    sync: (prepare: () => () => void) => Promise<void>,
  ): WalFile {
    this.parentMustExist(path);
    let file = this.files.get(path);
    if (file !== undefined && flags === 'ax') throw fsError('EEXIST', path);
    if (file === undefined && flags === 'r+') throw fsError('ENOENT', path);
    if (file === undefined) {
      file = { chunks: [], size: 0, durableChunks: 0, rewritten: undefined, nameDurable: false };
      this.files.set(path, file);
    } else if (flags === 'w') {
      emptyFile(file);
    }
    return new SimFileHandle(file, flags, live, run, sync);
  }

  private readFile(path: string): Buffer {
    const file = this.files.get(path);
    if (file === undefined) throw fsError('ENOENT', path);
    return flatten(file);
  }

  private readdir(dir: string): string[] {
    if (!this.dirs.has(dir)) throw fsError('ENOENT', dir);
    const names: string[] = [];
    for (const path of [...this.dirs.keys(), ...this.files.keys()])
      if (path !== dir && dirname(path) === dir) names.push(path.slice(dir.length + 1));
    return names.sort();
  }

  private unlink(path: string): void {
    const file = this.files.get(path);
    if (file === undefined) throw fsError('ENOENT', path);
    this.files.delete(path);
    if (file.nameDurable) this.unlinked.set(path, file);
  }

  /** Moves the name; the old one (and a file replaced) come back at a crash before a directory fsync. */
  private rename(from: string, to: string): void {
    if (dirname(from) !== dirname(to))
      throw new Error(`sim-fs: rename across directories (${from} to ${to})`);
    const file = this.files.get(from);
    if (file === undefined) throw fsError('ENOENT', from);
    if (from === to) return;
    const replaced = this.files.get(to);
    if (replaced?.nameDurable === true) this.unlinked.set(to, replaced);
    this.files.delete(from);
    if (file.nameDurable) this.unlinked.set(from, file);
    file.nameDurable = false;
    this.files.set(to, file);
  }

  /** Checks the directory; the returned completion makes the names in it durable. */
  private syncDir(dir: string): () => void {
    if (!this.dirs.has(dir)) throw fsError('ENOENT', dir);
    return () => {
      for (const d of this.dirs.keys()) if (d !== dir && dirname(d) === dir) this.dirs.set(d, true);
      for (const [path, file] of this.files) if (dirname(path) === dir) file.nameDurable = true;
      for (const path of [...this.unlinked.keys()]) if (dirname(path) === dir) this.unlinked.delete(path);
    };
  }
}

class SimFileHandle implements WalFile {
  private closed = false;

  constructor(
    private readonly file: SimFile,
    private readonly flags: WalOpenFlags,
    private readonly live: () => boolean,
    private readonly run: <T>(op: () => T) => Promise<T>,
    private readonly sync: (prepare: () => () => void) => Promise<void>,
  ) {}

  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }> {
    return this.io(() => {
      if (this.flags === 'r+') throw new Error('sim-fs: writes through an r+ handle are not modelled');
      const chunk = Buffer.concat(buffers); // a copy: one write, whatever the caller does later
      this.file.chunks.push(chunk);
      this.file.size += chunk.length;
      return { bytesWritten: chunk.length };
    });
  }

  /** Makes durable what was written before the call (a truncate since then stays pending). */
  datasync(): Promise<void> {
    if (this.live() && this.closed) return Promise.reject(fsError('EBADF', 'file handle is closed'));
    return this.sync(() => {
      const file = this.file;
      const { chunks } = file;
      const written = chunks.length;
      return () => {
        if (file.chunks !== chunks) return; // truncated meanwhile: not modelled (the WAL never does)
        file.durableChunks = Math.max(file.durableChunks, written);
        file.rewritten = undefined;
      };
    });
  }

  truncate(bytes: number): Promise<void> {
    return this.io(() => {
      const file = this.file;
      if (bytes > file.size) throw new Error(`sim-fs: truncate to ${bytes} beyond size ${file.size}`);
      const kept = flatten(file).subarray(0, bytes);
      emptyFile(file);
      file.chunks = [kept];
      file.size = bytes;
    });
  }

  stat(): Promise<{ size: number }> {
    return this.io(() => ({ size: this.file.size }));
  }

  close(): Promise<void> {
    return this.io(() => {
      this.closed = true;
    });
  }

  private io<T>(op: () => T): Promise<T> {
    if (this.live() && this.closed) return Promise.reject(fsError('EBADF', 'file handle is closed'));
    return this.run(op);
  }
}

/** The whole content as one buffer (kept as one chunk, so reading again is cheap). */
function flatten(file: SimFile): Buffer {
  if (file.chunks.length === 1) return file.chunks[0] as Buffer;
  const durable = file.durableChunks === file.chunks.length;
  const all = Buffer.concat(file.chunks, file.size);
  if (durable) {
    file.chunks = [all];
    file.durableChunks = 1;
  }
  return all;
}

/** Empties the file as the process sees it; the durable content stays for a crash until a sync. */
function emptyFile(file: SimFile): void {
  file.rewritten ??= durableContent(file);
  file.chunks = [];
  file.size = 0;
  file.durableChunks = 0;
}

function durableContent(file: SimFile): Buffer {
  return Buffer.concat(file.chunks.slice(0, file.durableChunks));
}

/** One file at a power cut (its name is durable); says what was lost, or undefined if nothing. */
function crashFile(file: SimFile, rng: SimRng): string | undefined {
  if (file.rewritten !== undefined) {
    setContent(file, file.rewritten);
    return 'an unsynced truncate (and any writes after it) lost';
  }
  const unsynced = file.chunks.slice(file.durableChunks);
  if (unsynced.length === 0) return undefined;
  const durable = durableContent(file);
  const pending = Buffer.concat(unsynced);
  const draw = rng.next();
  let kept: Buffer;
  let what: string;
  if (draw < KEEP_NONE_SHARE || pending.length < 2) {
    kept = Buffer.alloc(0);
    what = `${pending.length} unsynced bytes lost`;
  } else if (draw < KEEP_NONE_SHARE + KEEP_ALL_SHARE) {
    kept = pending;
    what = `${pending.length} unsynced bytes all written back`;
  } else {
    ({ kept, what } = tornCut(unsynced, pending, rng));
  }
  setContent(file, Buffer.concat([durable, kept]));
  return what;
}

/** Keeps the unsynced bytes before a seeded cut; the write it falls in may be zero-filled after it. */
function tornCut(unsynced: readonly Buffer[], pending: Buffer, rng: SimRng): { kept: Buffer; what: string } {
  const cut = rng.int(1, pending.length - 1);
  let writeEnd = 0;
  for (const chunk of unsynced) {
    writeEnd += chunk.length;
    if (writeEnd > cut) break;
  }
  if (rng.chance(ZERO_FILL_SHARE_OF_TORN)) {
    const kept = Buffer.concat([pending.subarray(0, cut), Buffer.alloc(writeEnd - cut)]);
    return { kept, what: `torn at unsynced byte ${cut} of ${pending.length}, zero-filled to ${writeEnd}` };
  }
  return { kept: pending.subarray(0, cut), what: `torn at unsynced byte ${cut} of ${pending.length}` };
}

function setContent(file: SimFile, content: Buffer): void {
  file.chunks = [content];
  file.size = content.length;
  file.durableChunks = 1;
  file.rewritten = undefined;
}
