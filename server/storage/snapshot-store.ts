// The snapshot files of one data directory (DATA_DIR/snap/): a thin file layer over the pure codec
// in snapshot-codec.ts. A save is atomic (write a temp file, fsync it, rename, fsync the directory):
// a crash leaves either the old set of snapshots or the new one, never a half-written file under a
// snapshot's name. The newest two are kept, so a newest one damaged on disk can fall back to the one
// before it (the WAL keeps the entries after the older one: see releasableThrough).
import { join } from 'node:path';
import type { Snapshot, SnapshotMeta } from '../raft/types.js';
import { failpoint } from '../failpoints/failpoints.js';
import { SnapshotCorruptError } from './errors.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { NODE_WAL_FS, type WalFs } from './fs.js';

export const SNAPSHOT_DIR_NAME = 'snap';
/** Snapshots kept on disk: the newest, and one to fall back to if the newest is found damaged. */
export const SNAPSHOTS_KEPT = 2;

const SNAPSHOT_FILE = /^(\d{16})-(\d{16})\.snap$/;
const TEMP_SUFFIX = '.tmp';

export function snapshotFileName(meta: SnapshotMeta): string {
  return `${String(meta.index).padStart(16, '0')}-${String(meta.term).padStart(16, '0')}.snap`;
}

/** A deliberately broken save, for testing the testers (only a disk that loses unsynced bytes catches it). */
export interface SnapshotUnsafe {
  /** Rename the temp file to the snapshot's name without fsyncing its bytes first. */
  readonly renameBeforeFsync?: boolean;
}

interface SnapshotFile {
  readonly name: string;
  readonly meta: SnapshotMeta;
}

/** What load() found: the newest valid snapshot (if any), and what it had to say about the rest. */
export interface LoadedSnapshot {
  readonly snapshot: Snapshot | undefined;
  readonly file: string | undefined;
  readonly warnings: readonly string[];
}

export interface SavedSnapshot {
  readonly file: string;
  readonly bytes: number;
  /** Older snapshot files deleted after the new one became durable. */
  readonly deleted: readonly string[];
}

async function listSnapshotFiles(
  fs: WalFs,
  snapDir: string,
): Promise<{ snapshots: SnapshotFile[]; temps: string[] }> {
  const snapshots: SnapshotFile[] = [];
  const temps: string[] = [];
  for (const name of await fs.readdir(snapDir)) {
    if (name.endsWith(TEMP_SUFFIX)) temps.push(name);
    const match = SNAPSHOT_FILE.exec(name);
    if (match) snapshots.push({ name, meta: { index: Number(match[1]), term: Number(match[2]) } });
  }
  snapshots.sort((a, b) => b.meta.index - a.meta.index || b.meta.term - a.meta.term); // newest first
  return { snapshots, temps };
}

export class SnapshotStore {
  readonly snapDir: string;
  /** Valid snapshots on disk, newest first (at most SNAPSHOTS_KEPT after a save). */
  private kept: SnapshotFile[] = [];
  private saving: Promise<unknown> = Promise.resolve();

  private constructor(
    snapDir: string,
    private readonly fs: WalFs,
    private readonly unsafe: SnapshotUnsafe,
  ) {
    this.snapDir = snapDir;
  }

  /**
   * Creates DATA_DIR/snap if needed. The caller holds the data directory's lock (openWal). `fs`:
   * node's, or the simulator's (sim/sim-fs.ts), so the same saves and loads run under its crashes.
   */
  static async open(
    dataDir: string,
    fs: WalFs = NODE_WAL_FS,
    unsafe: SnapshotUnsafe = {},
  ): Promise<SnapshotStore> {
    const snapDir = join(dataDir, SNAPSHOT_DIR_NAME);
    await fs.mkdirp(snapDir);
    await fs.syncDir(dataDir);
    return new SnapshotStore(snapDir, fs, unsafe);
  }

  /** The oldest kept snapshot's index (0 when none): the WAL must keep every entry after it. */
  get oldestKeptIndex(): number {
    return this.kept.at(-1)?.meta.index ?? 0;
  }

  get newestMeta(): SnapshotMeta | undefined {
    return this.kept[0]?.meta;
  }

  /**
   * How far the WAL may be released when the caller asks for `requested`: never past the oldest
   * kept snapshot, so falling back to it (the newest found damaged) still finds every entry after it.
   */
  releasableThrough(requested: number): number {
    return Math.min(requested, this.oldestKeptIndex);
  }

  /**
   * Reads the newest valid snapshot. A damaged newest one is skipped for the older one with a
   * warning; when none is valid, throws the newest one's SnapshotCorruptError (file and offset).
   * Removes temp files left by a crash before their rename (never durable, never promised).
   */
  async load(): Promise<LoadedSnapshot> {
    const { snapshots, temps } = await listSnapshotFiles(this.fs, this.snapDir);
    const warnings: string[] = [];
    for (const name of temps) {
      await this.fs.unlink(join(this.snapDir, name));
      warnings.push(
        `removed unfinished snapshot ${join(this.snapDir, name)} (a crash before its rename; never used)`,
      );
    }
    let firstError: SnapshotCorruptError | undefined;
    for (const candidate of snapshots) {
      const file = join(this.snapDir, candidate.name);
      try {
        const snapshot = await readSnapshotFile(this.fs, file, candidate.meta);
        if (firstError !== undefined)
          warnings.push(
            `${firstError.message}; using the older snapshot ${file} (index ${candidate.meta.index}) instead`,
          );
        this.kept = snapshots.filter((s) => s.meta.index <= candidate.meta.index).slice(0, SNAPSHOTS_KEPT);
        return { snapshot, file, warnings };
      } catch (error) {
        if (!(error instanceof SnapshotCorruptError)) throw error;
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
    this.kept = [];
    return { snapshot: undefined, file: undefined, warnings };
  }

  /**
   * Makes `snapshot` durable (temp file, fsync, rename, directory fsync), then deletes the snapshots
   * older than the newest SNAPSHOTS_KEPT. Saves run one at a time, in call order.
   */
  save(snapshot: Snapshot): Promise<SavedSnapshot> {
    const newest = this.kept[0]?.meta.index ?? 0;
    if (snapshot.meta.index < newest)
      throw new Error(
        `snapshot invariant: saving index ${snapshot.meta.index} below the newest kept ${newest}`,
      );
    const result = this.saving.then(() => this.write(snapshot));
    this.saving = result.catch(() => undefined);
    return result;
  }

  private async write(snapshot: Snapshot): Promise<SavedSnapshot> {
    const name = snapshotFileName(snapshot.meta);
    const file = join(this.snapDir, name);
    const bytes = encodeSnapshot(snapshot);
    const handle = await this.fs.open(file + TEMP_SUFFIX, 'w');
    try {
      await handle.writev([bytes]);
      // Without it, a crash after the rename may leave the snapshot's name over lost or torn bytes.
      if (this.unsafe.renameBeforeFsync !== true) await handle.datasync();
    } finally {
      await handle.close();
    }
    failpoint('snapshot-before-rename');
    await this.fs.rename(file + TEMP_SUFFIX, file);
    await this.fs.syncDir(this.snapDir); // the rename must survive a crash before anything relies on it
    failpoint('snapshot-after-rename-before-release');
    const previous = this.kept.filter((s) => s.name !== name);
    this.kept = [{ name, meta: snapshot.meta }, ...previous].slice(0, SNAPSHOTS_KEPT);
    const deleted = await this.deleteUnkept();
    return { file, bytes: bytes.length, deleted };
  }

  /** Resolves once every save called so far has finished (or failed): before the lock is released. */
  async settled(): Promise<void> {
    await this.saving;
  }

  /** Deletes every snapshot file not kept (older ones, and damaged ones superseded by a newer save). */
  private async deleteUnkept(): Promise<string[]> {
    const keep = new Set(this.kept.map((s) => s.name));
    const deleted: string[] = [];
    for (const { name } of (await listSnapshotFiles(this.fs, this.snapDir)).snapshots) {
      if (keep.has(name)) continue;
      await this.fs.unlink(join(this.snapDir, name));
      deleted.push(join(this.snapDir, name));
    }
    // Not synced: a deletion lost in a crash leaves one extra old file, pruned by the next save.
    return deleted;
  }
}

async function readSnapshotFile(fs: WalFs, file: string, named: SnapshotMeta): Promise<Snapshot> {
  const snapshot = decodeSnapshot(await fs.readFile(file), file);
  if (snapshot.meta.index !== named.index || snapshot.meta.term !== named.term) {
    const { index, term } = snapshot.meta;
    throw new SnapshotCorruptError(
      file,
      12,
      `the file's name says index ${named.index} term ${named.term}, its header index ${index} term ${term}`,
    );
  }
  return snapshot;
}
