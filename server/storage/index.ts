// Durable storage for a raftlab node: the write-ahead log (entries and hard state) and the
// data-directory lock. See docs/storage.md.
// Snapshots: DATA_DIR/snap/ (snapshot-store.ts), joined with the WAL at boot (boot.ts).
export { openWal, Wal, WAL_DEFAULTS, WAL_DIR_NAME, type WalOptions, type WalStats } from './wal.js';
export { EMPTY_HARD_STATE, NO_LOG_START, type WalState } from './replay.js';
export { openStorage, type OpenedStorage } from './open-storage.js';
export { NodeStorage, type StorageStats, type StorageUnsafe } from './node-storage.js';
export { joinSnapshotAndLog, type BootState } from './boot.js';
export {
  SnapshotStore,
  SNAPSHOT_DIR_NAME,
  SNAPSHOTS_KEPT,
  snapshotFileName,
  type LoadedSnapshot,
  type SavedSnapshot,
} from './snapshot-store.js';
export { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
export { LOCK_FILE_NAME, lockDataDir, type DataDirLock } from './lock.js';
export { MEMBER_FILE_NAME, readMember, writeMember } from './member.js';
export { decideStart, type MemberIdentity, type StartDecision } from './start-decision.js';
export {
  DataDirLockedError,
  DataDirMismatchError,
  SnapshotCorruptError,
  SnapshotMissingError,
  WalClosedError,
  WalCorruptError,
  WalError,
  WalFailedError,
  WalLostError,
  WalOverloadedError,
  WalSaveTooLargeError,
  type WalErrorCode,
} from './errors.js';
