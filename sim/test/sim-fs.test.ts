// The simulated file system's crash model, and the real WAL over it (sim/sim-fs.ts).
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../server/raft/types.js';
import { openWal } from '../../server/storage/wal.js';
import { SimRng } from '../rng.js';
import { SimFs } from '../sim-fs.js';

const DIR = '/sim/n1';
const FILE = `${DIR}/f`;

/** A file with `synced` bytes fsynced (name included) and then `writes` unsynced writes. */
async function fileWith(synced: Buffer, writes: readonly Buffer[], seed = 1): Promise<SimFs> {
  const fs = new SimFs([DIR], new SimRng(seed));
  const io = fs.session();
  const f = await io.open(FILE, 'a');
  await f.writev([synced]);
  await f.datasync();
  await io.syncDir(DIR);
  for (const w of writes) await f.writev([w]);
  return fs;
}

function entry(index: number, term = 1): Entry {
  return { index, term, type: 'normal', data: Buffer.from(`value-${index}`) };
}

describe('the simulated file system at a crash', () => {
  it('keeps fsynced bytes and a seeded prefix of the unsynced writes, in write order', async () => {
    const synced = Buffer.from('durable|');
    const writes = [Buffer.from('AAAA'), Buffer.from('BBBB'), Buffer.from('CCCC')];
    const all = Buffer.concat([synced, ...writes]);
    const seen = { none: 0, all: 0, torn: 0, zeroFilled: 0 };
    for (let seed = 1; seed <= 400; seed++) {
      const fs = await fileWith(synced, writes, seed);
      const report = fs.crash();
      const after = fs.contents(FILE) ?? Buffer.alloc(0);
      expect(after.subarray(0, synced.length)).toEqual(synced);
      if (after.length === synced.length) seen.none++;
      else if (after.equals(all)) seen.all++;
      else if (/zero-filled/.test(report.join())) {
        seen.zeroFilled++;
        // A prefix of the writes, then zeros to the end of the write the cut fell in.
        const nonZero = after.length - [...after].reverse().findIndex((b) => b !== 0);
        expect(after.subarray(0, nonZero)).toEqual(all.subarray(0, nonZero));
        expect((after.length - synced.length) % 4).toBe(0);
      } else {
        seen.torn++;
        expect(after).toEqual(all.subarray(0, after.length)); // a prefix, cut at any byte
      }
    }
    expect(seen.none).toBeGreaterThan(50);
    expect(seen.all).toBeGreaterThan(50);
    expect(seen.torn).toBeGreaterThan(100);
    expect(seen.zeroFilled).toBeGreaterThan(5);
  });

  it('loses nothing that was fsynced, and the same seed loses the same bytes', async () => {
    const fs = await fileWith(Buffer.from('all synced'), []);
    expect(fs.crash()).toEqual([]);
    expect(fs.contents(FILE)?.toString()).toBe('all synced');
    const a = await fileWith(Buffer.from('x'), [Buffer.from('0123456789abcdef')], 9);
    const b = await fileWith(Buffer.from('x'), [Buffer.from('0123456789abcdef')], 9);
    expect(a.crash()).toEqual(b.crash());
    expect(a.contents(FILE)).toEqual(b.contents(FILE));
  });

  it('loses a new file whose directory was never fsynced, even when its data was', async () => {
    const fs = new SimFs([DIR], new SimRng(1));
    const io = fs.session();
    const f = await io.open(`${DIR}/new`, 'ax');
    await f.writev([Buffer.from('data')]);
    await f.datasync();
    expect(fs.crash()).toEqual([`${DIR}/new lost (its name was never synced)`]);
    expect(fs.contents(`${DIR}/new`)).toBeUndefined();
    const io2 = fs.session();
    const g = await io2.open(`${DIR}/new`, 'ax');
    await g.writev([Buffer.from('data')]);
    await g.datasync();
    await io2.syncDir(DIR);
    fs.crash();
    expect(fs.contents(`${DIR}/new`)?.toString()).toBe('data');
  });

  it('loses a directory never synced into its parent, with everything in it', async () => {
    const fs = new SimFs([DIR], new SimRng(1));
    const io = fs.session();
    await io.mkdirp(`${DIR}/wal`);
    const f = await io.open(`${DIR}/wal/seg`, 'ax');
    await f.datasync();
    await io.syncDir(`${DIR}/wal`);
    fs.crash();
    await expect(fs.session().readdir(`${DIR}/wal`)).rejects.toThrow(/ENOENT/);
  });

  it('undoes a truncate that was not synced', async () => {
    const fs = await fileWith(Buffer.from('0123456789'), []);
    const f = await fs.session().open(FILE, 'r+');
    await f.truncate(4);
    expect(fs.contents(FILE)?.toString()).toBe('0123');
    fs.crash();
    expect(fs.contents(FILE)?.toString()).toBe('0123456789');
  });

  it('brings back an unlinked file at a crash before its directory was fsynced, not after', async () => {
    const fs = await fileWith(Buffer.from('segment'), []);
    const io = fs.session();
    await io.unlink(FILE);
    expect(fs.contents(FILE)).toBeUndefined();
    expect(fs.crash()).toEqual([`${FILE} back (its unlink or rename was never synced)`]);
    expect(fs.contents(FILE)?.toString()).toBe('segment');
    const io2 = fs.session();
    await io2.unlink(FILE);
    await io2.syncDir(DIR);
    expect(fs.crash()).toEqual([]);
    expect(await fs.session().readdir(DIR)).toEqual([]);
  });

  it('undoes a rename at a crash before its directory was fsynced: the old name and the replaced file come back', async () => {
    const fs = await fileWith(Buffer.from('old snapshot'), []);
    const io = fs.session();
    const tmp = await io.open(`${DIR}/g.tmp`, 'w');
    await tmp.writev([Buffer.from('new snapshot')]);
    await tmp.datasync();
    await tmp.close();
    await io.syncDir(DIR); // the temp file's name is durable too
    await io.rename(`${DIR}/g.tmp`, FILE);
    expect(fs.contents(FILE)?.toString()).toBe('new snapshot');
    expect(await io.readdir(DIR)).toEqual(['f']);
    fs.crash();
    expect(fs.contents(FILE)?.toString()).toBe('old snapshot');
    expect(fs.contents(`${DIR}/g.tmp`)?.toString()).toBe('new snapshot');
    // Synced, the rename survives and the temp name is gone.
    const io2 = fs.session();
    await io2.rename(`${DIR}/g.tmp`, FILE);
    await io2.syncDir(DIR);
    expect(fs.crash()).toEqual([]);
    expect(await fs.session().readdir(DIR)).toEqual(['f']);
    expect(fs.contents(FILE)?.toString()).toBe('new snapshot');
  });

  it('drops a renamed file whose old name was never durable, when the rename was not synced either', async () => {
    const fs = new SimFs([DIR], new SimRng(1));
    const io = fs.session();
    const tmp = await io.open(`${DIR}/g.tmp`, 'w');
    await tmp.writev([Buffer.from('data')]);
    await tmp.datasync();
    await io.rename(`${DIR}/g.tmp`, FILE);
    expect(fs.crash()).toEqual([`${FILE} lost (its name was never synced)`]);
    expect(await fs.session().readdir(DIR)).toEqual([]);
  });

  it('keeps a rename durable by its directory fsync, but not the bytes never fdatasynced before it', async () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const fs = new SimFs([DIR], new SimRng(seed));
      const io = fs.session();
      const tmp = await io.open(`${DIR}/g.tmp`, 'w');
      await tmp.writev([Buffer.from('0123456789')]);
      await io.rename(`${DIR}/g.tmp`, FILE);
      await io.syncDir(DIR);
      fs.crash();
      const after = fs.contents(FILE);
      expect(after).toBeDefined();
      outcomes.add(after?.length === 10 ? 'whole' : after?.length === 0 ? 'empty' : 'torn');
    }
    expect([...outcomes].sort()).toEqual(['empty', 'torn', 'whole']);
  });

  it("empties an existing file opened with 'w', and a crash before a sync brings its content back", async () => {
    const fs = await fileWith(Buffer.from('stale temp'), []);
    const f = await fs.session().open(FILE, 'w');
    expect(fs.contents(FILE)?.length).toBe(0);
    await f.writev([Buffer.from('new')]);
    fs.crash();
    expect(fs.contents(FILE)?.toString()).toBe('stale temp');
  });

  it("ignores a dead life's calls: they never complete and change nothing", async () => {
    const fs = await fileWith(Buffer.from('x'), []);
    const old = fs.session();
    const handle = await old.open(FILE, 'a');
    fs.crash();
    let settled = false;
    void handle.writev([Buffer.from('late')]).finally(() => (settled = true));
    void old.open(`${DIR}/other`, 'ax').finally(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect(fs.contents(FILE)?.toString()).toBe('x');
    expect(await fs.session().readdir(DIR)).toEqual(['f']);
  });
});

describe('fsyncs that take simulated time', () => {
  it('make durable what was written before the call, when their event runs; a crash first loses it', async () => {
    const pending: { delayNs: number; done: () => void }[] = [];
    const fs = new SimFs([DIR], new SimRng(3));
    fs.latency = { after: (delayNs, done) => pending.push({ delayNs, done }) };
    const io = fs.session();
    const f = await io.open(FILE, 'ax');
    let synced = false;
    void io.syncDir(DIR);
    pending.shift()?.done();
    await f.writev([Buffer.from('first')]);
    void f.datasync().then(() => (synced = true));
    await f.writev([Buffer.from('second')]); // after the call: not covered by it
    expect(fs.pendingSyncs).toBe(1);
    const sync = pending.shift();
    expect(sync?.delayNs).toBeGreaterThanOrEqual(200_000);
    sync?.done();
    await Promise.resolve();
    expect(synced).toBe(true);
    void f.datasync().then(() => (synced = false));
    fs.crash(); // before the second fsync's event
    pending.shift()?.done();
    await Promise.resolve();
    expect(synced).toBe(true); // a dead life's fsync never completes
    expect(fs.contents(FILE)?.toString().startsWith('first')).toBe(true);
    expect(fs.pendingSyncs).toBe(0);
  });
});

describe('the real WAL over the simulated file system', () => {
  it('after a crash at any moment, replays every acknowledged save and repairs the torn tail', async () => {
    let torn = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new SimRng(seed);
      const fs = new SimFs([DIR], rng);
      const wal = await openWal(DIR, { segmentSizeBytesMax: 256 }, {}, fs.session());
      let acked = 0;
      const saves = rng.int(1, 30);
      for (let i = 1; i <= saves; i++) {
        void wal.save({ term: 1, vote: 'n1', commit: i - 1 }, [entry(i)]).then(() => (acked = i));
        // Let a seeded number of saves finish before the next one (the rest pile up, unsynced).
        if (rng.chance(0.5)) await new Promise((resolve) => setImmediate(resolve));
      }
      // The crash lands at a seeded step of the WAL's I/O chain (each step is a microtask here).
      for (let k = rng.int(0, 12); k > 0; k--) await Promise.resolve();
      fs.crash();
      const reopened = await openWal(DIR, {}, {}, fs.session());
      const indexes = reopened.state.entries.map((e) => e.index);
      expect(indexes.length).toBeGreaterThanOrEqual(acked);
      expect(indexes).toEqual(Array.from({ length: indexes.length }, (_, i) => i + 1));
      if (reopened.warnings.length > 0) torn++;
      await reopened.close();
    }
    expect(torn).toBeGreaterThan(5);
  });
});
