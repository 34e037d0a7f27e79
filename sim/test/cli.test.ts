// The lab sim command end to end (needs `npm run build`; `npm test` builds first).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const lab = join(import.meta.dirname, '..', '..', 'bin', 'lab.js');
const out = mkdtempSync(join(tmpdir(), 'lab-sim-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function sim(...args: string[]) {
  return spawnSync(process.execPath, [lab, 'sim', '--out', out, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('lab sim', () => {
  it('runs one seed, prints its line and the summary, exits 0', () => {
    const r = sim('--seed', '3', '--nodes', '3', '--ops', '200');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^seed 3: passed: 205 ops/); // 200, then one final operation per client
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 seed: 1 passed, 0 failed');
    expect(r.status).toBe(0);
  });

  it('sweeps seeds with progress on stderr and exits 0', () => {
    const r = sim('--seeds', '1..4', '--nodes', '3', '--ops', '100');
    expect(r.stdout.trim()).toBe('4 seeds: 4 passed, 0 failed');
    expect(r.stderr).toContain('seeds 4/4 done, 0 failed');
    expect(r.status).toBe(0);
  });

  it('stops a sweep on Ctrl-C between seeds, says how many ran, and never exits 0', async () => {
    const child = spawn(process.execPath, [lab, 'sim', '--out', out, '--seeds', '1..5000', '--nodes', '3']);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // The first progress line (every 2 s) says the sweep is under way.
    await new Promise<void>((resolve) => child.stderr.once('data', () => resolve()));
    child.kill('SIGINT');
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stdout).toMatch(/^interrupted: \d+ of 5000 seeds run: \d+ passed, 0 failed\n$/);
    expect(status).toBe(255);
  });

  it('reports a failing seed with its property, replay command and evidence, and exits 1', () => {
    const r = sim('--seed', '1', '--nodes', '3', '--ops', '300', '--unsafe', 'no-session-dedup');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('seed 1: FAILED (safety, read-index reads) no duplicate appends');
    expect(r.stdout).toContain(
      'replay:   lab sim --seed 1 --nodes 3 --faults all --ops 300 --unsafe no-session-dedup',
    );
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 seed: 0 passed, 1 failed');
    const dirs = readdirSync(join(out, 'sim'));
    expect(dirs.some((d) => d.startsWith('1-'))).toBe(true);
    const dir = join(out, 'sim', dirs.find((d) => d.startsWith('1-')) as string);
    expect(existsSync(join(dir, 'history.jsonl'))).toBe(true);
    expect(readFileSync(join(dir, 'trace.txt'), 'utf8')).toContain('VIOLATION no duplicate appends');
  });

  it('runs a seed on the real WAL with --disk wal, and puts the disk in the replay command', () => {
    const r = sim('--seed', '3', '--nodes', '3', '--ops', '200', '--disk', 'wal');
    expect(r.stdout).toMatch(/^seed 3: passed \(WAL disk\): 205 ops/);
    expect(r.status).toBe(0);
    const bad = sim(
      '--seed',
      '3',
      '--nodes',
      '3',
      '--ops',
      '300',
      '--disk',
      'wal',
      '--unsafe',
      'wal-skip-dir-sync-on-roll',
    );
    expect(bad.stdout).toContain(
      'seed 3: FAILED (safety, read-index reads, WAL disk) no regress across restarts',
    );
    expect(bad.stdout).toContain('--unsafe wal-skip-dir-sync-on-roll --disk wal');
    expect(bad.status).toBe(1);
    const refused = sim('--seed', '1', '--disk', 'wal', '--faults', 'all,disk-loss');
    expect(refused.stderr).toContain('--disk wal: the disk-loss fault');
    expect(refused.status).toBe(254);
  });

  it('runs --disk wal --snapshots on through the real snapshot store, and catches its unsafe variant', () => {
    const r = sim('--seed', '3', '--nodes', '3', '--ops', '50', '--disk', 'wal', '--snapshots', 'on');
    expect(r.stdout).toMatch(/^seed 3: passed \(WAL disk\)/);
    expect(r.status).toBe(0);
    const bad = sim(
      ...'--seed 1 --nodes 3 --ops 300 --disk wal --unsafe snapshot-rename-before-fsync --no-check'.split(
        ' ',
      ),
    );
    expect(bad.stdout).toContain(
      'seed 1: FAILED (storage, read-index reads, WAL disk) storage: WAL refused to start',
    );
    expect(bad.stdout).toMatch(/snapshot \/sim\/n\d\/snap\/\d{16}-\d{16}\.snap is corrupt/);
    expect(bad.status).toBe(1);
  });

  it('rejects bad arguments with exit 254 and a clear message', () => {
    const r = sim('--nodes', '4');
    expect(r.status).toBe(254);
    expect(r.stderr).toContain("option '--nodes <n>' argument '4' is invalid. Allowed choices are 3, 5, 7.");
    const u = sim('--unsafe', 'nope');
    expect(u.status).toBe(254);
    expect(u.stderr).toContain('unknown unsafe variant "nope"');
  });
});
