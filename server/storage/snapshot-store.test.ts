import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../raft/types.js';
import { SnapshotCorruptError, snapshotFileName, SnapshotStore } from './index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-snap-'));
  dirs.push(dir);
  return dir;
}

function snap(index: number, term = 1): Snapshot {
  return { meta: { index, term }, data: Buffer.from(`state at ${index}`) };
}

function text(s: Snapshot | undefined): string | undefined {
  return s === undefined ? undefined : `${s.meta.index}:${s.meta.term}:${Buffer.from(s.data).toString()}`;
}

/** Flips one byte of the stored snapshot at `index`. */
function damage(dir: string, index: number, term = 1, at = 50): string {
  const file = join(dir, 'snap', snapshotFileName({ index, term }));
  const bytes = readFileSync(file);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(file, bytes);
  return file;
}

describe('snapshot store', () => {
  it('loads nothing from a new directory and the newest of several after saves', async () => {
    const dir = tempDir();
    const store = await SnapshotStore.open(dir);
    expect((await store.load()).snapshot).toBeUndefined();
    for (const index of [10, 20, 30]) await store.save(snap(index, 2));
    const loaded = await (await SnapshotStore.open(dir)).load();
    expect(text(loaded.snapshot)).toBe('30:2:state at 30');
    expect(loaded.warnings).toEqual([]);
  });

  it('keeps the newest two and deletes older ones once the new one is durable', async () => {
    const dir = tempDir();
    const store = await SnapshotStore.open(dir);
    await store.load();
    await store.save(snap(10));
    await store.save(snap(20));
    const saved = await store.save(snap(30));
    expect(saved.deleted).toEqual([join(dir, 'snap', snapshotFileName({ index: 10, term: 1 }))]);
    expect(readdirSync(join(dir, 'snap')).sort()).toEqual(
      [snapshotFileName({ index: 20, term: 1 }), snapshotFileName({ index: 30, term: 1 })].sort(),
    );
    expect(store.oldestKeptIndex).toBe(20);
    expect(store.releasableThrough(29)).toBe(20);
    expect(store.releasableThrough(15)).toBe(15);
  });

  it('falls back to the older snapshot when the newest is damaged, and says so', async () => {
    const dir = tempDir();
    const store = await SnapshotStore.open(dir);
    await store.save(snap(10));
    await store.save(snap(20));
    const bad = damage(dir, 20);
    const reopened = await SnapshotStore.open(dir);
    const loaded = await reopened.load();
    expect(text(loaded.snapshot)).toBe('10:1:state at 10');
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toContain(`snapshot ${bad} is corrupt at byte offset`);
    expect(loaded.warnings[0]).toContain('using the older snapshot');
    expect(reopened.oldestKeptIndex).toBe(10); // the WAL is released no further than the fallback
    await reopened.save(snap(25)); // the damaged file is superseded and removed
    expect(existsSync(bad)).toBe(false);
  });

  it('refuses when the only snapshot is damaged, naming the file and offset', async () => {
    const dir = tempDir();
    await (await SnapshotStore.open(dir)).save(snap(10));
    const bad = damage(dir, 10, 1, 41);
    const error = await (await SnapshotStore.open(dir)).load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotCorruptError);
    expect((error as SnapshotCorruptError).file).toBe(bad);
    expect((error as SnapshotCorruptError).message).toMatch(/at byte offset \d+: data checksum mismatch/);
  });

  it('refuses a file whose name disagrees with its header (a renamed or copied file)', async () => {
    const dir = tempDir();
    const store = await SnapshotStore.open(dir);
    const saved = await store.save(snap(10));
    const renamed = join(dir, 'snap', snapshotFileName({ index: 11, term: 1 }));
    writeFileSync(renamed, readFileSync(saved.file));
    rmSync(saved.file);
    const error = await (await SnapshotStore.open(dir)).load().catch((e: unknown) => e);
    expect((error as SnapshotCorruptError).reason).toContain("the file's name says index 11");
  });

  it('removes a temp file left by a crash before its rename and loads the previous snapshot', async () => {
    const dir = tempDir();
    const store = await SnapshotStore.open(dir);
    await store.save(snap(10));
    const temp = join(dir, 'snap', `${snapshotFileName({ index: 20, term: 1 })}.tmp`);
    writeFileSync(temp, 'half a snapshot');
    const loaded = await (await SnapshotStore.open(dir)).load();
    expect(text(loaded.snapshot)).toBe('10:1:state at 10');
    expect(loaded.warnings[0]).toContain('removed unfinished snapshot');
    expect(existsSync(temp)).toBe(false);
  });

  it('asserts that a save never goes below the newest kept snapshot', async () => {
    const store = await SnapshotStore.open(tempDir());
    await store.save(snap(20));
    expect(() => store.save(snap(10))).toThrow(/snapshot invariant/);
  });
});
