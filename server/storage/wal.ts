// The write-ahead log: entries and hard state in one append-only series of segment files, so ONE
// fdatasync makes a whole Ready durable (a separate hard-state file would cost a second sync, plus
// a rename and a directory sync, on every vote and every commit-index change).
//
// Group commit: saves are queued in call order; one flush loop writes everything queued, syncs
// once, and resolves all of those saves. Saves that arrive while a sync is in flight wait for the
// next round and share its single sync.
import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry, HardState, SnapshotMeta } from '../raft/types.js';
import { failpoint } from '../failpoints/failpoints.js';
import { WalClosedError, WalFailedError, WalOverloadedError, WalSaveTooLargeError } from './errors.js';
import { NODE_WAL_FS, type WalFile, type WalFs } from './fs.js';
import type { DataDirLock } from './lock.js';
import { encodedSaveBytes, encodeSave } from './record.js';
import { LogReplay, type WalState } from './replay.js';
import { listSegments, scanSegment, segmentName } from './segment.js';
import { SegmentIndex } from './segment-index.js';

export interface WalOptions {
  /** A new segment file is started before a write would take the current one past this. */
  segmentSizeBytesMax?: number;
  /** The largest single save (all its records); larger saves are rejected with WalSaveTooLargeError. */
  saveBytesMax?: number;
  /** Saves waiting for the next write+sync round; more are rejected with WalOverloadedError. */
  saveQueueSavesMax?: number;
  /** Bytes waiting for the next write+sync round; more are rejected with WalOverloadedError. */
  saveQueueBytesMax?: number;
  /** How long to wait for a live process holding the data-directory lock before giving up. */
  lockWaitMs?: number;
}

export const WAL_DEFAULTS: Readonly<Required<WalOptions>> = {
  segmentSizeBytesMax: 64 * 2 ** 20,
  saveBytesMax: 64 * 2 ** 20,
  saveQueueSavesMax: 4096,
  saveQueueBytesMax: 256 * 2 ** 20,
  lockWaitMs: 1000,
};

export interface WalStats {
  /** save() calls accepted. */
  saves: number;
  /** fdatasync calls on segment files. */
  syncs: number;
  /** Most saves one sync has covered (group commit at work when > 1). */
  savesPerSyncMax: number;
  bytesWritten: number;
  /** Sequence number of the segment being written. */
  segment: number;
  /** Segment files on disk, and their total size (what a release after a snapshot shrinks). */
  segments: number;
  sizeBytes: number;
  /** Segment files deleted by releaseThrough. */
  segmentsReleased: number;
}

interface PendingSave {
  readonly bytes: Buffer;
  /** Highest entry index in the save (0 if none) and whether it holds a hard state. */
  readonly maxIndex: number;
  readonly hardState: boolean;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export const WAL_DIR_NAME = 'wal';

/** Deliberately broken storage, for testing the testers (the server's --unsafe ack-before-fsync). */
export interface WalUnsafe {
  /** Skip fdatasync: a save resolves once written to the page cache, lost on a power cut. */
  readonly ackBeforeFsync?: boolean;
  /**
   * Skip the directory fsync after creating a new segment: its records are fdatasynced, but the
   * file's name is not durable, so a power cut can lose the whole segment (simulator only).
   */
  readonly skipDirSyncOnRoll?: boolean;
}

function resolveOptions(options: WalOptions): Required<WalOptions> {
  const resolved = { ...WAL_DEFAULTS, ...options };
  for (const [name, value] of Object.entries(resolved)) {
    const min = name === 'lockWaitMs' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`WAL option ${name} must be an integer >= ${min}, got ${value}`);
    }
  }
  return resolved;
}

interface Replayed {
  readonly state: WalState;
  readonly warnings: string[];
  readonly segment: number;
  readonly segmentBytes: number;
  readonly segments: SegmentIndex;
}

/** Reads every segment in order; a torn tail of the last one is cut off (and the cut synced). */
async function replay(fs: WalFs, walDir: string): Promise<Replayed> {
  const seqs = await listSegments(fs, walDir);
  // Segments before the first one on disk were released after a snapshot.
  const log = new LogReplay((seqs[0] ?? 1) > 1);
  const segments = new SegmentIndex();
  const warnings: string[] = [];
  let segmentBytes = 0;
  for (const [i, seq] of seqs.entries()) {
    const file = join(walDir, segmentName(seq));
    const buf = await fs.readFile(file);
    let maxIndex = 0;
    const scan = scanSegment(buf, file, i === seqs.length - 1, (record, offset) => {
      log.apply(record, file, offset);
      if (record.type === 'entry') maxIndex = Math.max(maxIndex, record.entry.index);
      if (record.type === 'hard-state') segments.hardStateSegment = seq;
    });
    segmentBytes = scan.validBytes;
    segments.wrote(seq, scan.validBytes, maxIndex, false);
    if (scan.torn !== undefined) {
      await truncateFile(fs, file, scan.validBytes);
      const dropped = buf.length - scan.validBytes;
      warnings.push(
        `truncated torn tail of ${file}: ${scan.torn} (${dropped} bytes dropped at byte offset ${scan.validBytes}). ` +
          'A write cut short by a crash was never synced, so never acknowledged; a disk that lost synced ' +
          'data (or a file cut by hand) looks the same and then lost acknowledged entries: this node cannot ' +
          'tell which. A leader that counted them will say so; see "A lost disk" in docs/storage.md',
      );
    }
  }
  return { state: log.state(), warnings, segment: seqs.at(-1) ?? 0, segmentBytes, segments };
}

async function truncateFile(fs: WalFs, file: string, bytes: number): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    await handle.truncate(bytes);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * Opens (creating if needed) the WAL in `dir/wal`, locking `dir`. Rejects with DataDirLockedError
 * when another live process holds the directory and WalCorruptError (file, offset) when a record
 * other than a torn tail is damaged. Torn tails are repaired and reported in `wal.warnings`.
 */
export async function openWal(
  dir: string,
  options: WalOptions = {},
  unsafe: WalUnsafe = {},
  fs: WalFs = NODE_WAL_FS,
): Promise<Wal> {
  const resolved = resolveOptions(options);
  await fs.mkdirp(dir);
  const lock = await fs.lock(dir, resolved.lockWaitMs);
  try {
    const walDir = join(dir, WAL_DIR_NAME);
    await fs.mkdirp(walDir);
    await fs.syncDir(dir);
    const replayed = await replay(fs, walDir);
    let { segment, segmentBytes } = replayed;
    if (segment === 0) {
      segment = 1;
      segmentBytes = 0;
      await (await fs.open(join(walDir, segmentName(segment)), 'ax')).close();
      await fs.syncDir(walDir);
      replayed.segments.wrote(segment, 0, 0, false);
    }
    const handle = await fs.open(join(walDir, segmentName(segment)), 'a');
    const size = (await handle.stat()).size;
    if (size !== segmentBytes) throw new Error(`segment size ${size} != replayed ${segmentBytes}`);
    const wal = new Wal(dir, walDir, resolved, replayed, lock, handle, segment, fs);
    wal.unsafeAckBeforeFsync = unsafe.ackBeforeFsync === true;
    wal.unsafeSkipDirSyncOnRoll = unsafe.skipDirSyncOnRoll === true;
    return wal;
  } catch (error) {
    await lock.release();
    throw error;
  }
}

export class Wal {
  readonly dir: string;
  readonly options: Readonly<Required<WalOptions>>;
  /** The log as replayed at open (entries after overwrites applied); not updated by later saves. */
  readonly state: WalState;
  /** Repairs made while opening (a torn tail cut off); the caller logs them. */
  readonly warnings: readonly string[];
  private readonly walDir: string;
  private readonly lock: DataDirLock;
  private handle: WalFile;
  private readonly fs: WalFs;
  private segmentBytes: number;
  private queue: PendingSave[] = [];
  private queuedBytes = 0;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private failure: WalFailedError | undefined;
  private lastIndexSaved: number;
  private readonly counters: WalStats;
  /**
   * Segment -> bytes known fsynced, for segments that may hold more (power-cut emulation). What
   * was in a file when it was opened counts as synced: the previous life ended in a kill, not a
   * power cut, or its power cut already dropped the rest.
   */
  private readonly syncedBytes = new Map<number, number>();
  /** UNSAFE (ack-before-fsync): rounds are written but never fsynced. */
  unsafeAckBeforeFsync = false;
  /** UNSAFE (wal-skip-dir-sync-on-roll): a new segment's name is not made durable. */
  unsafeSkipDirSyncOnRoll = false;
  private afterFirstSync: (() => Promise<void>) | undefined;
  private readonly segments: SegmentIndex;
  /** The newest hard state saved (in call order), rewritten when its segment is released. */
  private lastHardState: HardState | undefined;
  private releasing: Promise<unknown> = Promise.resolve();

  /** Use openWal. */
  constructor(
    dir: string,
    walDir: string,
    options: Required<WalOptions>,
    replayed: Replayed,
    lock: DataDirLock,
    handle: WalFile,
    segment: number,
    fs: WalFs,
  ) {
    this.dir = dir;
    this.fs = fs;
    this.walDir = walDir;
    this.options = options;
    this.state = replayed.state;
    this.warnings = replayed.warnings;
    this.lock = lock;
    this.handle = handle;
    this.segmentBytes = replayed.segmentBytes;
    this.lastIndexSaved = replayed.state.entries.at(-1)?.index ?? replayed.state.logStart.index;
    this.segments = replayed.segments;
    this.lastHardState = replayed.segments.hardStateSegment > 0 ? replayed.state.hardState : undefined;
    this.counters = {
      saves: 0,
      syncs: 0,
      savesPerSyncMax: 0,
      bytesWritten: 0,
      segment,
      segments: 0,
      sizeBytes: 0,
      segmentsReleased: 0,
    };
    this.syncedBytes.set(segment, replayed.segmentBytes);
  }

  /**
   * Runs `action` (writing the MEMBER file) once the first records are synced and before the
   * first save resolves: whatever it writes is durable before any promise, and it exists only if a
   * record does (a crash in between leaves records without it, never it without records). A
   * failure fails that save like an I/O error.
   */
  setAfterFirstSync(action: () => Promise<void>): void {
    if (this.counters.saves > 0) throw new Error('WAL: setAfterFirstSync after a save');
    this.afterFirstSync = action;
  }

  get stats(): Readonly<WalStats> {
    return { ...this.counters, segments: this.segments.count, sizeBytes: this.segments.bytes };
  }

  /** The oldest segment file on disk (the log's start, after releases). */
  get firstSegmentFile(): string {
    return join(this.walDir, segmentName(this.segments.oldest));
  }

  /** A write+sync round is running or about to (the simulator's drain waits until it is not). */
  get flushInProgress(): boolean {
    return this.flushing !== undefined;
  }

  /** Index of the last entry written (or being written); 0 when the log is empty. */
  get lastIndex(): number {
    return this.lastIndexSaved;
  }

  /**
   * Appends entries (an index already present overwrites from there on, as in Raft) and the hard
   * state; resolves once they are on disk (fdatasync). With `logStart` (an installed snapshot, whose
   * file is already durable), a log-start record goes first: the log now starts after that entry,
   * and `entries` continue from logStart.index + 1. Rejects with WalSaveTooLargeError,
   * WalOverloadedError, WalClosedError or WalFailedError. Entries that do not continue the log
   * (a gap, or not consecutive) are a caller bug and throw at once.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], logStart?: SnapshotMeta): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new WalClosedError());
    this.checkContinues(entries, logStart);
    const size = encodedSaveBytes(hardState, entries, logStart);
    if (size > this.options.saveBytesMax)
      return Promise.reject(new WalSaveTooLargeError(size, this.options.saveBytesMax));
    const refusal = this.queueRefusal(size);
    if (refusal !== undefined) return Promise.reject(refusal);
    const bytes = encodeSave(hardState, entries, size, logStart);
    const maxIndex = entries.at(-1)?.index ?? 0;
    // After a log start without entries the log ends at the start, or later when it held the
    // snapshot's last entry and keeps what follows (the WAL does not keep terms to tell which).
    this.lastIndexSaved = maxIndex > 0 ? maxIndex : Math.max(this.lastIndexSaved, logStart?.index ?? 0);
    if (hardState !== undefined) this.lastHardState = hardState;
    this.counters.saves++;
    if (size === 0 && this.flushing === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, maxIndex, hardState: hardState !== undefined, resolve, reject });
      this.queuedBytes += size;
      this.flushing ??= this.flushLoop();
    });
  }

  private checkContinues(entries: readonly Entry[], logStart: SnapshotMeta | undefined): void {
    const first = entries[0];
    if (logStart !== undefined && (!Number.isSafeInteger(logStart.index) || logStart.index < 1))
      throw new Error(`WAL invariant: log start ${logStart.index} is not a positive index`);
    if (first === undefined) return;
    if (logStart !== undefined && first.index !== logStart.index + 1)
      throw new Error(
        `WAL invariant: entries start at ${first.index} after a log start at ${logStart.index}`,
      );
    if (first.index < 1 || (logStart === undefined && first.index > this.lastIndexSaved + 1)) {
      throw new Error(
        `WAL invariant: entries start at ${first.index} but the log ends at ${this.lastIndexSaved}`,
      );
    }
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== first.index + i)
        throw new Error(`WAL invariant: entries not consecutive at ${entries[i]!.index}`);
    }
  }

  private queueRefusal(size: number): WalOverloadedError | undefined {
    const { saveQueueSavesMax, saveQueueBytesMax } = this.options;
    if (this.queue.length >= saveQueueSavesMax) {
      return new WalOverloadedError(
        `WAL save queue is full (saveQueueSavesMax ${saveQueueSavesMax}); nothing was written`,
      );
    }
    if (this.queuedBytes + size > saveQueueBytesMax) {
      return new WalOverloadedError(
        `WAL save queue is full (saveQueueBytesMax ${saveQueueBytesMax}); nothing was written`,
      );
    }
    return undefined;
  }

  /** One round per iteration: take everything queued, write it, sync once, resolve it all. */
  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      try {
        await this.writeBatch(batch);
        failpoint('wal-after-write-before-fsync');
        if (!this.unsafeAckBeforeFsync) {
          await this.syncSegment();
          // Not under ack-before-fsync: nothing is ever synced, so no MEMBER file may claim a
          // durable record (a power cut would leave MEMBER beside an empty log, and the lost-disk
          // guard would refuse the restart instead of the lab seeing the lost writes).
          await this.runAfterFirstSync();
        }
        failpoint('wal-after-fsync-before-ack');
      } catch (error) {
        this.fail(error, batch);
        break;
      }
      this.counters.syncs++;
      this.counters.savesPerSyncMax = Math.max(this.counters.savesPerSyncMax, batch.length);
      for (const pending of batch) pending.resolve();
      // Let the callers just resolved run and queue their next saves before the next round is
      // taken: without this yield, concurrent writers split into two halves that alternate
      // rounds, and each sync covers only half of them.
      await this.fs.nextTurn();
    }
    this.flushing = undefined;
  }

  private async syncSegment(): Promise<void> {
    const segment = this.counters.segment;
    const bytes = this.segmentBytes;
    await this.handle.datasync();
    // Earlier segments were fully synced before this one was started (roll()).
    this.syncedBytes.clear();
    this.syncedBytes.set(segment, bytes);
  }

  /**
   * Power-cut emulation (test only): cuts every segment back to its last fsynced size, at once and
   * synchronously (the caller dies right after). Returns what was dropped, for the node's log.
   */
  dropUnsyncedSync(): string[] {
    const dropped: string[] = [];
    for (const [segment, synced] of this.syncedBytes) {
      const file = join(this.walDir, segmentName(segment));
      const size = statSync(file).size;
      if (size <= synced) continue;
      truncateSync(file, synced);
      dropped.push(`${file}: ${size - synced} unsynced bytes dropped (kept ${synced})`);
    }
    return dropped;
  }

  private async runAfterFirstSync(): Promise<void> {
    const action = this.afterFirstSync;
    this.afterFirstSync = undefined;
    if (action !== undefined) await action();
  }

  private fail(error: unknown, batch: readonly PendingSave[]): void {
    this.failure = new WalFailedError(error);
    for (const pending of [...batch, ...this.queue]) pending.reject(this.failure);
    this.queue = [];
    this.queuedBytes = 0;
  }

  private async writeBatch(batch: readonly PendingSave[]): Promise<void> {
    const total = batch.reduce((n, p) => n + p.bytes.length, 0);
    if (total === 0) return;
    if (this.segmentBytes > 0 && this.segmentBytes + total > this.options.segmentSizeBytesMax)
      await this.roll();
    const maxIndex = batch.reduce((n, p) => Math.max(n, p.maxIndex), 0);
    // Counted before the write: a segment that may hold these records must never look releasable.
    this.segments.wrote(
      this.counters.segment,
      total,
      maxIndex,
      batch.some((p) => p.hardState),
    );
    let pending = batch.map((p) => p.bytes).filter((b) => b.length > 0);
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending);
      pending = dropWritten(pending, bytesWritten);
    }
    this.segmentBytes += total;
    this.counters.bytesWritten += total;
  }

  /** Starts the next segment; the current one was fully synced by the previous round. */
  private async roll(): Promise<void> {
    const next = this.counters.segment + 1;
    const handle = await this.fs.open(join(this.walDir, segmentName(next)), 'ax');
    this.syncedBytes.set(next, 0);
    this.segments.wrote(next, 0, 0, false);
    failpoint('wal-segment-created-before-dir-sync');
    // The new file's name must survive a crash before its records count (UNSAFE: skipped).
    if (!this.unsafeSkipDirSyncOnRoll) await this.fs.syncDir(this.walDir);
    await this.handle.close();
    this.handle = handle;
    this.counters.segment = next;
    this.segmentBytes = 0;
  }

  /**
   * Deletes the oldest segments whose entries are all <= index (a durable snapshot covers them),
   * oldest first, then syncs the directory. The active segment is never deleted, and when the
   * newest hard state is in a segment to delete it is saved again (and synced) first. Resolves
   * with the files deleted. Releases run one at a time.
   */
  releaseThrough(index: number): Promise<string[]> {
    const run = this.releasing.then(() => this.release(index));
    this.releasing = run.catch(() => undefined);
    return run;
  }

  private async release(index: number): Promise<string[]> {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new WalClosedError();
    let plan = this.segments.planRelease(index, this.counters.segment);
    if (plan.rewriteHardState && this.lastHardState !== undefined) {
      await this.save(this.lastHardState, []);
      plan = this.segments.planRelease(index, this.counters.segment);
    }
    const hardStateAt = this.segments.hardStateSegment;
    const doomed = plan.segments.filter((seq) => !plan.rewriteHardState || seq < hardStateAt);
    const deleted: string[] = [];
    for (const seq of doomed) {
      const file = join(this.walDir, segmentName(seq));
      await this.fs.unlink(file);
      this.segments.forget(seq);
      this.syncedBytes.delete(seq);
      this.counters.segmentsReleased++;
      deleted.push(file);
      failpoint('wal-release-mid'); // a crash here leaves a shorter prefix deleted: still no gap
    }
    if (deleted.length > 0) await this.fs.syncDir(this.walDir);
    return deleted;
  }

  /** Waits for queued saves to be synced, then closes the segment and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.releasing;
    await this.flushing;
    try {
      await this.handle.close();
    } finally {
      await this.lock.release(); // even when the file is already gone bad
    }
  }
}

/** The buffers still to write after a (possibly partial) writev of `written` bytes. */
function dropWritten(buffers: Buffer[], written: number): Buffer[] {
  let skip = written;
  const rest: Buffer[] = [];
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}
