// The MEMBER file and the start decision of the lost-disk guard; the recovering hard state record.
import { existsSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DataDirMismatchError,
  decideStart,
  MEMBER_FILE_NAME,
  openWal,
  readMember,
  WalLostError,
  writeMember,
  type MemberIdentity,
} from './index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-member-'));
  dirs.push(dir);
  return dir;
}

const n2: MemberIdentity = { node: 'n2', cluster: 'n1,n2,n3' };
const base = { dir: '/data/n2', identity: n2, rejoin: false, guard: true };

describe('the start decision', () => {
  it('a fresh directory starts normally and writes MEMBER once its first records are synced', () => {
    expect(decideStart({ ...base, member: undefined, walEmpty: true })).toEqual({
      recovering: false,
      writeMember: 'after-first-sync',
      warnings: [],
    });
  });

  it('a member whose log is gone refuses to start, naming the flag and the docs', () => {
    const start = () => decideStart({ ...base, member: n2, walEmpty: true });
    expect(start).toThrow(WalLostError);
    expect(start).toThrow(
      /MEMBER file\) but its write-ahead log is empty.*--rejoin-after-data-loss.*A lost disk/,
    );
  });

  it('with --rejoin-after-data-loss it starts in recovery, MEMBER or not', () => {
    for (const member of [n2, undefined]) {
      const d = decideStart({ ...base, member, walEmpty: true, rejoin: true });
      expect(d.recovering).toBe(true);
      expect(d.writeMember).toBe(member ? 'no' : 'now');
      expect(d.warnings[0]).toMatch(/will not vote or campaign until it has caught up/);
    }
    expect(decideStart({ ...base, member: n2, walEmpty: false, rejoin: true }).recovering).toBe(true);
  });

  it('a log without MEMBER (written before MEMBER existed) is a member: MEMBER is written now', () => {
    expect(decideStart({ ...base, member: undefined, walEmpty: false })).toEqual({
      recovering: false,
      writeMember: 'now',
      warnings: [],
    });
  });

  it('another node’s directory is refused; the unsafe variant starts a lost member as fresh, loudly', () => {
    expect(() => decideStart({ ...base, member: { ...n2, node: 'n1' }, walEmpty: false })).toThrow(
      /belongs to node n1 \(cluster n1,n2,n3\), not to n2/,
    );
    const unsafe = decideStart({ ...base, member: n2, walEmpty: true, guard: false });
    expect(unsafe.recovering).toBe(false);
    expect(unsafe.warnings).toEqual([
      'UNSAFE no-lost-state-guard: n2 lost its log and starts as a fresh node',
    ]);
  });
});

describe('the MEMBER file', () => {
  it('round-trips, and a garbled one is refused rather than ignored', async () => {
    const dir = tempDir();
    expect(await readMember(dir)).toBeUndefined();
    await writeMember(dir, n2);
    expect(await readMember(dir)).toEqual(n2);
    writeFileSync(join(dir, MEMBER_FILE_NAME), 'garbage');
    await expect(readMember(dir)).rejects.toThrow(DataDirMismatchError);
  });

  it('the WAL runs the first-sync action after its first records are written and before the save resolves, once', async () => {
    const dir = tempDir();
    const wal = await openWal(dir);
    const segment = join(dir, 'wal', '0000000000000001.log');
    const sizes: number[] = [];
    let resolved = false;
    wal.setAfterFirstSync(async () => {
      sizes.push(statSync(segment).size);
      expect(resolved).toBe(false);
      await writeMember(dir, n2);
    });
    await wal.save({ term: 1, vote: '', commit: 0 }, []).then(() => (resolved = true));
    await wal.save({ term: 2, vote: '', commit: 0 }, []);
    await wal.close();
    expect(sizes).toEqual([25]);
    expect(existsSync(join(dir, MEMBER_FILE_NAME))).toBe(true);
  });

  it('a failing first-sync action fails the save like an I/O error, and every later one', async () => {
    const dir = tempDir();
    const wal = await openWal(dir);
    wal.setAfterFirstSync(() => Promise.reject(new Error('disk full')));
    await expect(wal.save({ term: 1, vote: '', commit: 0 }, [])).rejects.toThrow(/disk full/);
    await expect(wal.save({ term: 2, vote: '', commit: 0 }, [])).rejects.toThrow(/disk full/);
    await wal.close();
    expect(existsSync(join(dir, MEMBER_FILE_NAME))).toBe(false);
  });
});

describe('the recovering hard state', () => {
  it('round-trips recoveryIndex in its own record type; leaving recovery writes the plain record again', async () => {
    const dir = tempDir();
    const wal = await openWal(dir);
    await wal.save({ term: 3, vote: 'n1', commit: 5, recoveryIndex: 9 }, []);
    await wal.close();
    const again = await openWal(dir);
    expect(again.state.hardState).toEqual({ term: 3, vote: 'n1', commit: 5, recoveryIndex: 9 });
    await again.save({ term: 3, vote: 'n1', commit: 9 }, []);
    await again.close();
    const third = await openWal(dir);
    expect(third.state.hardState).toEqual({ term: 3, vote: 'n1', commit: 9 });
    await third.close();
  });

  it('a torn tail warning does not claim the dropped bytes were never acknowledged', async () => {
    const dir = tempDir();
    const wal = await openWal(dir);
    await wal.save({ term: 1, vote: '', commit: 0 }, []);
    await wal.save({ term: 2, vote: '', commit: 0 }, []);
    await wal.close();
    const segment = join(dir, 'wal', '0000000000000001.log');
    truncateSync(segment, statSync(segment).size - 3);
    const again = await openWal(dir);
    expect(again.warnings).toHaveLength(1);
    expect(again.warnings[0]).toMatch(/dropped at byte offset 25\)/);
    expect(again.warnings[0]).toMatch(/this node cannot tell which/);
    expect(again.warnings[0]).not.toMatch(/dropped; never acknowledged/);
    await again.close();
  });
});
