// `lab show`: the command (cli/commands/show.ts) run through commander against synthetic runs.
import { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../cli/commands/show.js';
import { writeSyntheticRun, type SyntheticRun } from '../../test-support/synthetic-run.js';

let store: string;
let failing: SyntheticRun;

async function show(...args: string[]): Promise<{ out: string; err: string; exitCode: number | undefined }> {
  const program = new Command('lab').exitOverride();
  register(program);
  let [out, err] = ['', ''];
  let exitCode: number | undefined;
  const write = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk) => ((out += String(chunk)), true));
  const writeErr = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk) => ((err += String(chunk)), true));
  const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
    exitCode = Number(code);
    throw new Error('exit');
  });
  try {
    await program.parseAsync(['show', ...args], { from: 'user' });
  } catch (error) {
    if ((error as Error).message !== 'exit') throw error;
  } finally {
    write.mockRestore();
    writeErr.mockRestore();
    exit.mockRestore();
  }
  return { out, err, exitCode };
}

beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), 'raftlab-show-'));
  await writeSyntheticRun(store, { name: 'older', durationS: 8, startedAt: '2026-11-21T10:00:00.000Z' });
  failing = await writeSyntheticRun(store, { failing: true, durationS: 12 });
});
afterAll(async () => rm(store, { recursive: true, force: true }));

describe('lab show', () => {
  it('summarises a run: verdict, options, counts, latency, availability, faults and failing keys', async () => {
    const { out, exitCode } = await show(failing.dir);
    expect(exitCode).toBeUndefined();
    expect(out).toContain('verdict  INVALID');
    expect(out).toContain(
      'replay   lab run --nodes 5 --nemesis partition,kill,pause --time-limit 12 --seed 42',
    );
    expect(out).toMatch(/^ {2}operation\s+ok\s+fail\s+info\s+pending$/m);
    expect(out).toMatch(/^ {2}all\s+\d+\s+\d+\s+\d+\s+0$/m);
    expect(out).toMatch(/^ {2}get\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+$/m);
    expect(out).toMatch(/availability {2}during faults \d+\.\d% \(\d+ ops\) {3}outside \d+\.\d%/);
    expect(out).toContain('faults (3)');
    expect(out).toMatch(/^ {2}partition\s+isolate n3\s+/m);
    expect(out).toContain(
      `failing keys (1)\n  ${failing.failingKey}  ${join(failing.dir, failing.failingView ?? '')}`,
    );
  });

  it('defaults to the newest run in the store, and accepts a run name folder (its latest link)', async () => {
    expect((await show('--store', store)).out).toContain(`run      ${failing.dir}`);
    expect((await show(join(store, 'older'))).out).toContain('verdict  VALID');
  });

  it('exits 254 with a clear message for a folder that is not a run', async () => {
    const { err, exitCode } = await show(join(store, 'missing'));
    expect(exitCode).toBe(254);
    expect(err).toContain('is not a run folder');
  });
});
