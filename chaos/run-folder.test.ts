import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunDir, latestRunDir, resolveRunDir, runTimestamp, safeName } from './run-folder.js';

describe('the run store', () => {
  it('makes histories/<name>/<timestamp> and points both latest links at it', () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-store-'));
    const first = createRunDir(store, 'partition', new Date('2026-11-22T04:22:48.123Z'));
    expect(first).toBe(join(store, 'partition', '20261122T042248.123Z'));
    expect(readlinkSync(join(store, 'partition', 'latest'))).toBe('20261122T042248.123Z');
    const second = createRunDir(store, 'partition', new Date('2026-11-22T04:22:48.123Z'));
    expect(second).toBe(join(store, 'partition', '20261122T042248.123Z-1'));
    expect(readlinkSync(join(store, 'latest'))).toBe(join('partition', '20261122T042248.123Z-1'));
    expect(existsSync(first)).toBe(true);
  });

  it('finds the latest run across names, by name, or by folder', () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-store-'));
    const a = createRunDir(store, 'kill', new Date('2026-01-01T00:00:00Z'));
    const b = createRunDir(store, 'partition', new Date('2026-01-02T00:00:00Z'));
    for (const dir of [a, b]) writeFileSync(join(dir, 'history.jsonl'), '');
    expect(resolveRunDir(undefined, store)).toBe(realpathSync(b));
    expect(realpathSync(resolveRunDir('kill', store))).toBe(realpathSync(a));
    expect(resolveRunDir(a, store)).toBe(a);
    expect(() => resolveRunDir('nothing', store)).toThrow(/no stored run/);
  });

  it('lab show and lab analyze pick the same latest run, never a simulator evidence folder', () => {
    const store = mkdtempSync(join(tmpdir(), 'lab-store-'));
    const older = createRunDir(store, 'kill', new Date('2026-01-01T00:00:00Z'));
    const run = createRunDir(store, 'partition', new Date('2026-01-02T00:00:00Z'));
    for (const dir of [older, run]) {
      writeFileSync(join(dir, 'history.jsonl'), '');
      writeFileSync(join(dir, 'results.json'), '{}');
    }
    // What `lab sim --out <store>` leaves for a failing seed: a history, a trace, no results.json.
    const evidence = join(store, 'sim', '69-20261130T120000.000Z');
    mkdirSync(evidence, { recursive: true });
    writeFileSync(join(evidence, 'history.jsonl'), '');
    writeFileSync(join(evidence, 'trace.txt'), '');
    expect(realpathSync(latestRunDir(store) ?? '')).toBe(realpathSync(run));
    expect(realpathSync(resolveRunDir(undefined, store))).toBe(realpathSync(run));
    rmSync(join(store, 'latest')); // a store copied without its links
    expect(realpathSync(latestRunDir(store) ?? '')).toBe(realpathSync(run));
    expect(realpathSync(resolveRunDir(undefined, store))).toBe(realpathSync(run));
  });

  it('keeps names and timestamps safe as folder names', () => {
    expect(safeName('partition,kill/../x')).toBe('partition-kill-..-x');
    expect(safeName('..')).toBe('run');
    expect(runTimestamp(new Date('2026-11-22T04:22:48.000Z'))).toBe('20261122T042248.000Z');
  });
});
