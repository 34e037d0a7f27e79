// Durable storage for a raftlab node: the write-ahead log (entries and hard state) and the
// data-directory lock. See docs/storage.md.
export { openWal, Wal, WAL_DEFAULTS, WAL_DIR_NAME, type WalOptions, type WalStats } from './wal.js';
export { EMPTY_HARD_STATE, type WalState } from './replay.js';
export { LOCK_FILE_NAME, lockDataDir, type DataDirLock } from './lock.js';
export { MEMBER_FILE_NAME, readMember, writeMember } from './member.js';
export { decideStart, type MemberIdentity, type StartDecision } from './start-decision.js';
export {
  DataDirLockedError,
  DataDirMismatchError,
  WalClosedError,
  WalCorruptError,
  WalError,
  WalFailedError,
  WalLostError,
  WalOverloadedError,
  WalSaveTooLargeError,
  type WalErrorCode,
} from './errors.js';
