import { spawn, spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../raft/types.js';
import {
  DataDirLockedError,
  openWal,
  WalClosedError,
  WalCorruptError,
  WalFailedError,
  WalOverloadedError,
  WalSaveTooLargeError,
  type Wal,
  type WalOptions,
} from './index.js';
import { isProcessAlive } from './lock.js';

const dirs: string[] = [];
const open: Wal[] = [];

afterEach(async () => {
  for (const wal of open.splice(0)) await wal.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-wal-'));
  dirs.push(dir);
  return dir;
}

async function openTracked(dir: string, options?: WalOptions): Promise<Wal> {
  const wal = await openWal(dir, options);
  open.push(wal);
  return wal;
}

async function closeTracked(wal: Wal): Promise<void> {
  open.splice(open.indexOf(wal), 1);
  await wal.close();
}

function entry(index: number, term = 1, text = `value-${index}`): Entry {
  return { index, term, type: 'normal', data: Buffer.from(text) };
}

function entries(from: number, to: number, term = 1): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
}

function summary(wal: Wal): Array<[number, number, string]> {
  return wal.state.entries.map((e) => [e.index, e.term, Buffer.from(e.data).toString()]);
}

const segment1 = (dir: string): string => join(dir, 'wal', '0000000000000001.log');

describe('WAL replay', () => {
  it('replays saved entries and the latest hard state after a reopen', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    expect(wal.state.entries).toEqual([]);
    expect(wal.state.hardState).toEqual({ term: 0, vote: '', commit: 0 });
    await wal.save({ term: 1, vote: 'n1', commit: 0 }, entries(1, 3));
    await wal.save({ term: 2, vote: 'n2', commit: 3 }, [
      { index: 4, term: 2, type: 'noop', data: new Uint8Array() },
    ]);
    await wal.save(undefined, entries(5, 6, 2));
    await closeTracked(wal);

    const again = await openTracked(dir);
    expect(again.state.hardState).toEqual({ term: 2, vote: 'n2', commit: 3 });
    expect(again.state.entries.map((e) => [e.index, e.term, e.type])).toEqual([
      [1, 1, 'normal'],
      [2, 1, 'normal'],
      [3, 1, 'normal'],
      [4, 2, 'noop'],
      [5, 2, 'normal'],
      [6, 2, 'normal'],
    ]);
    expect(Buffer.from(again.state.entries[5]!.data).toString()).toBe('value-6');
    expect(again.warnings).toEqual([]);
    expect(again.lastIndex).toBe(6);
  });

  it('applies Raft overwrite semantics: an existing index truncates the log from there on', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    await wal.save(undefined, entries(1, 5, 1));
    await wal.save({ term: 2, vote: 'n2', commit: 2 }, [entry(3, 2, 'new-3'), entry(4, 2, 'new-4')]);
    await wal.save(undefined, [entry(5, 2, 'new-5')]);
    await wal.save(undefined, [entry(2, 3, 'newer-2')]);
    await closeTracked(wal);
    const again = await openTracked(dir);
    expect(summary(again)).toEqual([
      [1, 1, 'value-1'],
      [2, 3, 'newer-2'],
    ]);
  });

  it('keeps a vote in UTF-8 and large indexes exact', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    const hs: HardState = { term: 2 ** 40 + 7, vote: 'nœud-ü', commit: 2 ** 33 };
    await wal.save(hs, []);
    await closeTracked(wal);
    expect((await openTracked(dir)).state.hardState).toEqual(hs);
  });

  it('starts a new segment at segmentSizeBytesMax and replays across segments', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, { segmentSizeBytesMax: 200 });
    for (let i = 1; i <= 20; i++) await wal.save({ term: 1, vote: '', commit: i - 1 }, [entry(i)]);
    expect(wal.stats.segment).toBeGreaterThan(3);
    await closeTracked(wal);
    const files = readdirSync(join(dir, 'wal')).sort();
    expect(files.length).toBeGreaterThan(3);
    for (const f of files.slice(0, -1)) expect(statSync(join(dir, 'wal', f)).size).toBeLessThanOrEqual(200);
    const again = await openTracked(dir, { segmentSizeBytesMax: 200 });
    expect(again.state.entries.map((e) => e.index)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(again.state.hardState.commit).toBe(19);
    await again.save(undefined, [entry(21)]);
  });

  it('refuses to start when a segment in the middle of the series is missing', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, { segmentSizeBytesMax: 100 });
    for (let i = 1; i <= 10; i++) await wal.save(undefined, [entry(i)]);
    await closeTracked(wal);
    rmSync(join(dir, 'wal', '0000000000000002.log'));
    await expect(openWal(dir)).rejects.toThrow(
      /0000000000000002.log at byte offset 0: segment file is missing/,
    );
  });
});

describe('WAL recovery', () => {
  async function threeSaves(dir: string): Promise<{ lastRecordStart: number; size: number }> {
    const wal = await openTracked(dir);
    await wal.save({ term: 1, vote: 'n1', commit: 0 }, entries(1, 2));
    await wal.save(undefined, [entry(3)]);
    const before = statSync(segment1(dir)).size;
    await wal.save(undefined, [entry(4, 1, 'the-last-record')]);
    await closeTracked(wal);
    return { lastRecordStart: before, size: statSync(segment1(dir)).size };
  }

  it('truncates a torn last record at every byte offset, keeping the earlier records', async () => {
    const dir = tempDir();
    const { lastRecordStart, size } = await threeSaves(dir);
    const original = readFileSync(segment1(dir));
    for (let cut = lastRecordStart; cut < size; cut++) {
      writeFileSync(segment1(dir), original.subarray(0, cut));
      const wal = await openTracked(dir);
      expect(wal.state.entries.map((e) => e.index)).toEqual([1, 2, 3]);
      expect(wal.state.hardState.vote).toBe('n1');
      if (cut > lastRecordStart) {
        expect(wal.warnings).toHaveLength(1);
        expect(wal.warnings[0]).toMatch(
          new RegExp(`torn tail of .*0000000000000001.log: partial record.* at byte ${lastRecordStart}`),
        );
      } else {
        expect(wal.warnings).toEqual([]);
      }
      await closeTracked(wal);
      expect(statSync(segment1(dir)).size).toBe(lastRecordStart);
    }
  });

  it('truncates a last record whose checksum fails, and a zero-filled tail', async () => {
    const dir = tempDir();
    const { lastRecordStart, size } = await threeSaves(dir);
    const original = readFileSync(segment1(dir));
    const flipped = Buffer.from(original);
    flipped[size - 2]! ^= 0x40;
    writeFileSync(segment1(dir), flipped);
    let wal = await openTracked(dir);
    expect(wal.warnings[0]).toMatch(/checksum mismatch at byte/);
    expect(wal.lastIndex).toBe(3);
    await closeTracked(wal);

    writeFileSync(segment1(dir), Buffer.concat([original.subarray(0, lastRecordStart), Buffer.alloc(4096)]));
    wal = await openTracked(dir);
    expect(wal.lastIndex).toBe(3);
    expect(wal.warnings).toHaveLength(1);
    await wal.save(undefined, [entry(4, 2)]);
    await closeTracked(wal);
    expect(summary(await openTracked(dir)).at(-1)).toEqual([4, 2, 'value-4']);
  });

  it('truncates a record cut inside and zero-filled to the end of a write of several records', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    await wal.save({ term: 1, vote: 'n1', commit: 0 }, entries(1, 2));
    const before = statSync(segment1(dir)).size;
    await wal.save(undefined, entries(3, 5)); // one write of three records
    await closeTracked(wal);
    const original = readFileSync(segment1(dir));
    for (const cut of [before + 6, before + 12, before + 20]) {
      const zeroed = Buffer.concat([original.subarray(0, cut), Buffer.alloc(original.length - cut)]);
      writeFileSync(segment1(dir), zeroed);
      const again = await openTracked(dir);
      expect(again.lastIndex).toBe(2);
      expect(again.warnings).toHaveLength(1);
      await closeTracked(again);
      expect(statSync(segment1(dir)).size).toBe(before);
    }
  });

  it('refuses to start on a flipped byte in the middle, naming the file and the offset', async () => {
    const dir = tempDir();
    await threeSaves(dir);
    const bytes = readFileSync(segment1(dir));
    // Inside the second record (entry 2): the first record is 9 + 17 + 7 bytes long.
    const secondRecord = 9 + 17 + 'value-1'.length;
    bytes[secondRecord + 20]! ^= 0x01;
    writeFileSync(segment1(dir), bytes);
    const error = await openWal(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalCorruptError);
    expect((error as WalCorruptError).file).toBe(segment1(dir));
    expect((error as WalCorruptError).offset).toBe(secondRecord);
    expect((error as WalCorruptError).message).toMatch(
      /at byte offset 33: checksum mismatch; refusing to start/,
    );
    expect(readFileSync(segment1(dir))).toEqual(bytes); // nothing was "repaired"
    await expect(openWal(dir)).rejects.toThrow(WalCorruptError); // and the lock was released
  });

  it('refuses a partial record at the end of a segment that is not the last one', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, { segmentSizeBytesMax: 100 });
    for (let i = 1; i <= 8; i++) await wal.save(undefined, [entry(i)]);
    await closeTracked(wal);
    const first = segment1(dir);
    truncateSync(first, statSync(first).size - 3);
    await expect(openWal(dir)).rejects.toThrow(/0000000000000001.log at byte offset \d+: partial record/);
  });
});

describe('WAL lock and limits', () => {
  it('locks the data directory against a second opener, and frees it on close', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    const error = await openWal(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as DataDirLockedError).pid).toBe(process.pid);
    expect(String(error)).toMatch(/is in use by process \d+ \(lock file .*LOCK\)/);
    await closeTracked(wal);
    await closeTracked(await openTracked(dir));
  });

  it('takes over a stale lock whose process is dead, and refuses one whose process lives', async () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(dir, 'LOCK'), `${dead}\n`);
    await closeTracked(await openTracked(dir));
    writeFileSync(join(dir, 'LOCK'), `${process.ppid}\n`);
    await expect(openWal(dir, { lockWaitMs: 0 })).rejects.toThrow(DataDirLockedError);
  });

  it('takes over a lock whose pid now belongs to another process (start time differs)', async () => {
    const dir = tempDir();
    const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    writeFileSync(join(dir, 'LOCK'), `${process.ppid} ${startTime}\n`);
    await expect(openWal(dir, { lockWaitMs: 0 })).rejects.toThrow(DataDirLockedError);
    writeFileSync(join(dir, 'LOCK'), `${process.ppid} ${Number(startTime) + 1}\n`);
    await openTracked(dir, { lockWaitMs: 0 });
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
  });

  it('counts a killed but not yet reaped (zombie) process as dead', () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid!;
    expect(isProcessAlive(pid)).toBe(true);
    child.kill('SIGKILL');
    // Synchronously, so Node's SIGCHLD handling cannot reap it before we look.
    const stateOf = (): string => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    };
    const until = Date.now() + 2000;
    while (stateOf() !== 'Z' && Date.now() < until);
    expect(stateOf()).toBe('Z');
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('waits up to lockWaitMs for a live holder to release the directory', async () => {
    const dir = tempDir();
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'LOCK'), `${holder.pid}\n`);
    const started = Date.now();
    setTimeout(() => holder.kill('SIGKILL'), 200);
    await closeTracked(await openTracked(dir, { lockWaitMs: 10_000 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('rejects a save over saveBytesMax and a full queue with typed errors, writing nothing', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, { saveBytesMax: 100, saveQueueSavesMax: 2 });
    await expect(wal.save(undefined, [entry(1, 1, 'x'.repeat(100))])).rejects.toThrow(WalSaveTooLargeError);
    const accepted = [
      wal.save(undefined, [entry(1)]),
      wal.save(undefined, [entry(2)]),
      wal.save(undefined, [entry(3)]),
    ];
    const overflow = wal.save(undefined, [entry(4)]);
    await expect(overflow).rejects.toThrow(WalOverloadedError);
    await Promise.all(accepted);
    expect(wal.lastIndex).toBe(3);
    expect(() => wal.save(undefined, [entry(9)])).toThrow(
      /WAL invariant: entries start at 9 but the log ends at 3/,
    );
    await closeTracked(wal);
    await expect(wal.save(undefined, [entry(4)])).rejects.toThrow(WalClosedError);
    expect((await openTracked(dir)).state.entries.map((e) => e.index)).toEqual([1, 2, 3]);
  });
});

describe('WAL I/O failure', () => {
  it('fails the save, everything queued and everything after it once a write fails (no retry after a failed sync)', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    await wal.save(undefined, [entry(1)]);
    // Pull the file out from under the WAL: the next writev fails with EBADF.
    await (wal as unknown as { handle: { close(): Promise<void> } }).handle.close();
    const first = wal.save(undefined, [entry(2)]);
    const queued = wal.save(undefined, [entry(3)]);
    await expect(first).rejects.toThrow(WalFailedError);
    await expect(queued).rejects.toThrow(/write-ahead log I\/O failed, the log can no longer be trusted/);
    await expect(wal.save(undefined, [entry(4)])).rejects.toThrow(WalFailedError);
    open.splice(open.indexOf(wal), 1);
    await wal.close().catch(() => undefined); // its handle is already closed
    const again = await openWal(dir);
    expect(again.state.entries.map((e) => e.index)).toEqual([1]);
    await again.close();
  });
});

describe('WAL group commit', () => {
  it('covers saves that arrive during a sync with one later sync', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    const saves = Array.from({ length: 64 }, (_, i) =>
      wal.save({ term: 1, vote: '', commit: i }, [entry(i + 1)]),
    );
    await Promise.all(saves);
    const { saves: count, syncs, savesPerSyncMax } = wal.stats;
    expect(count).toBe(64);
    expect(syncs).toBeLessThan(64);
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(savesPerSyncMax).toBeGreaterThan(1);
    await closeTracked(wal);
    const again = await openTracked(dir);
    expect(again.state.entries).toHaveLength(64);
    expect(again.state.hardState.commit).toBe(63);
  });

  it('resolves an empty save only after the saves before it are synced', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    const order: string[] = [];
    const first = wal.save(undefined, [entry(1)]).then(() => order.push('entry'));
    const empty = wal.save(undefined, []).then(() => order.push('empty'));
    await Promise.all([first, empty]);
    expect(order).toEqual(['entry', 'empty']);
  });
});
