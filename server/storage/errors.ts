// Typed storage errors. Each has a constant `code` (undici style) so callers can branch without
// matching messages. Corruption and a held lock stop a server from starting; the save errors are
// operating errors the driver must handle (too large, overloaded) or die on (failed).

export type WalErrorCode =
  | 'WAL_CORRUPT'
  | 'DATA_DIR_LOCKED'
  | 'WAL_SAVE_TOO_LARGE'
  | 'WAL_OVERLOADED'
  | 'WAL_CLOSED'
  | 'WAL_FAILED'
  | 'WAL_LOST'
  | 'DATA_DIR_MISMATCH'
  | 'SNAPSHOT_CORRUPT'
  | 'SNAPSHOT_MISSING';

export class WalError extends Error {
  readonly code: WalErrorCode;
  constructor(code: WalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WalError';
    this.code = code;
  }
}

/** A record that is damaged somewhere other than the torn tail: refusing to start loses nothing. */
export class WalCorruptError extends WalError {
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
  constructor(file: string, offset: number, reason: string) {
    super(
      'WAL_CORRUPT',
      `write-ahead log is corrupt in ${file} at byte offset ${offset}: ${reason}; refusing to start ` +
        '(the records after it were acknowledged and must not be dropped; restore this node from a peer: ' +
        'see "A lost disk" in docs/storage.md)',
    );
    this.name = 'WalCorruptError';
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * The data directory says this node has been a member (its MEMBER file) but its log is empty: the
 * log was lost, with entries and votes it had acknowledged. Starting as a fresh node could elect a
 * leader without committed entries, so the server refuses unless the operator says so.
 */
export class WalLostError extends WalError {
  readonly dir: string;
  constructor(dir: string, node: string) {
    super(
      'WAL_LOST',
      `data directory ${dir} says node ${node} has been a cluster member (MEMBER file) but its write-ahead ` +
        'log is empty: the log was lost, with entries and votes it had acknowledged. Refusing to start as a ' +
        'fresh node (it could help elect a leader without committed entries). If the disk was lost, restart ' +
        'with --rejoin-after-data-loss: it then neither votes nor campaigns until it has caught up with the ' +
        'leader. See "A lost disk" in docs/storage.md',
    );
    this.name = 'WalLostError';
    this.dir = dir;
  }
}

/** The data directory belongs to another node, or its MEMBER file is unreadable. */
export class DataDirMismatchError extends WalError {
  readonly dir: string;
  constructor(dir: string, detail: string) {
    super('DATA_DIR_MISMATCH', `data directory ${dir}: ${detail}; refusing to start`);
    this.name = 'DataDirMismatchError';
    this.dir = dir;
  }
}

export class DataDirLockedError extends WalError {
  readonly dir: string;
  readonly pid: number;
  constructor(dir: string, pid: number, lockFile: string) {
    super(
      'DATA_DIR_LOCKED',
      `data directory ${dir} is in use by process ${pid} (lock file ${lockFile}); ` +
        'two servers must never share a data directory',
    );
    this.name = 'DataDirLockedError';
    this.dir = dir;
    this.pid = pid;
  }
}

export class WalSaveTooLargeError extends WalError {
  readonly bytes: number;
  readonly saveBytesMax: number;
  constructor(bytes: number, saveBytesMax: number) {
    super(
      'WAL_SAVE_TOO_LARGE',
      `save of ${bytes} bytes exceeds saveBytesMax ${saveBytesMax}; nothing was written`,
    );
    this.name = 'WalSaveTooLargeError';
    this.bytes = bytes;
    this.saveBytesMax = saveBytesMax;
  }
}

/** The save queue is full (saveQueueSavesMax / saveQueueBytesMax); nothing was written. */
export class WalOverloadedError extends WalError {
  constructor(message: string) {
    super('WAL_OVERLOADED', message);
    this.name = 'WalOverloadedError';
  }
}

export class WalClosedError extends WalError {
  constructor() {
    super('WAL_CLOSED', 'write-ahead log is closed');
    this.name = 'WalClosedError';
  }
}

/**
 * A write or fdatasync failed. After a failed fsync the kernel may have dropped the dirty pages
 * (PostgreSQL's "fsyncgate"), so retrying proves nothing: every later save fails too, and the
 * process should exit and replay from disk.
 */
export class WalFailedError extends WalError {
  constructor(cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('WAL_FAILED', `write-ahead log I/O failed, the log can no longer be trusted: ${detail}`, { cause });
    this.name = 'WalFailedError';
  }
}

/**
 * A snapshot file that fails its checks (magic, version, checksums, lengths, name against contents).
 * Thrown by the decoder; the store falls back to the older kept snapshot when there is one.
 */
export class SnapshotCorruptError extends WalError {
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
  constructor(file: string, offset: number, reason: string) {
    super('SNAPSHOT_CORRUPT', `snapshot ${file} is corrupt at byte offset ${offset}: ${reason}`);
    this.name = 'SnapshotCorruptError';
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * The log was compacted (it starts after index 1, or after a recorded snapshot) but no valid snapshot
 * covers the entries before it: starting would silently drop committed state, so the node refuses.
 */
export class SnapshotMissingError extends WalError {
  readonly files: readonly string[];
  constructor(detail: string, files: readonly string[]) {
    super(
      'SNAPSHOT_MISSING',
      `${detail}; refusing to start (the state those entries built would be lost). Files: ` +
        `${files.join(', ')}. Restore this node from a peer: see "A lost disk" in docs/storage.md`,
    );
    this.name = 'SnapshotMissingError';
    this.files = files;
  }
}
