// `lab check` end to end (spawns bin/lab.js; needs `npm run build`, which `npm test` runs first).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { disagreeingReads, starvationExample } from '../../bench/hard-histories.js';

const root = join(import.meta.dirname, '..', '..');
const lab = join(root, 'bin', 'lab.js');
const fixtures = join(import.meta.dirname, 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'raftlab-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(...args: string[]) {
  return spawnSync(process.execPath, [lab, 'check', ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe('lab check', () => {
  it('exits 1 on an illegal history, printing the key, the partial linearization and the pages', () => {
    const html = join(dir, 'html');
    const run = check(join(fixtures, 'stale-read.jsonl'), '--html', html);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/key x\s+ILLEGAL\s+41 ops/);
    expect(run.stdout).toContain('longest partial linearization: 27 of 41 operations');
    expect(run.stdout).toContain('p0 get -> "11"   (rejected by the model)');
    expect(run.stdout).toMatch(/verdict: illegal \(1 of 1 key illegal\); 41 operations in 1 key, [\d.]+ ms/);
    expect(existsSync(join(html, 'counterexample-x.html'))).toBe(true);
  });

  it('exits 0 on a linearizable history, detecting the Porcupine formats', () => {
    const kv = check(join(fixtures, 'c01-ok.txt'));
    expect(kv.status).toBe(0);
    expect(kv.stdout).toContain('(porcupine-kv, model kv-absent-empty, 116 events)');
    const etcd = check(join(fixtures, 'etcd_002.log'), '--json');
    expect(etcd.status).toBe(0);
    expect(JSON.parse(etcd.stdout)).toMatchObject({
      verdict: 'ok',
      format: 'jepsen-etcd',
      model: 'register',
    });
  });

  it('exits 2 (unknown) when the time limit is hit', () => {
    // 40 concurrent puts, each read, then two reads that disagree: 2^40 subsets to try.
    const path = join(dir, 'hard-time.jsonl');
    writeFileSync(path, writeJsonl(disagreeingReads(40)));
    const run = check(path, '--time-limit', '0.2');
    expect(run.status).toBe(2);
    expect(run.stdout).toContain('time limit reached');
  });

  it('reports bad input by line number, without a stack trace, and exits 254', () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, '{"type":"ok","process":1,"f":"get","key":"k","value":null,"time":5}\n');
    const run = check(path);
    expect(run.status).toBe(254);
    expect(run.stderr).toBe(
      `lab check: ${path}: line 1: a completion (ok get) by process 1 without an invocation\n`,
    );
    writeFileSync(path, '{"type":"invoke","process":1,"f":"get","key":"k","value":null,"time":5}\n{oops\n');
    expect(check(path).stderr).toContain('line 2: not valid JSON');
  });

  it('exits 254 on a missing file or a bad flag value', () => {
    const missing = check(join(dir, 'nope.jsonl'));
    expect(missing.status).toBe(254);
    expect(missing.stderr).toContain('no such file or folder');
    expect(check(join(fixtures, 'c01-ok.txt'), '--format', 'xml').stderr).toContain(
      "option '--format <format>' argument 'xml' is invalid",
    );
    expect(check(join(fixtures, 'c01-ok.txt'), '--time-limit', 'soon').status).toBe(254);
  });

  it('checks a run folder through its history.jsonl', () => {
    const run = join(dir, 'run');
    rmSync(run, { recursive: true, force: true });
    mkdirSync(run);
    writeFileSync(join(run, 'history.jsonl'), writeJsonl(starvationExample().filter((e) => e.key === 'a')));
    const result = check(run);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/verdict: ok; 11 operations in 1 key,/);
  });
});

const writeJsonl = (events: readonly object[]) => events.map((e) => `${JSON.stringify(e)}\n`).join('');

describe('lab check refuses what it cannot read or write, at once (exit 254)', () => {
  const refused = (run: ReturnType<typeof check>, message: string | RegExp) => {
    expect(run.status).toBe(254);
    expect(run.stdout).not.toContain('verdict');
    if (typeof message === 'string') expect(run.stderr).toContain(message);
    else expect(run.stderr).toMatch(message);
  };

  it('random bytes, in every format', () => {
    const path = join(dir, 'random.bin');
    writeFileSync(path, randomBytes(4096));
    refused(check(path), 'cannot tell the format');
    refused(check(path, '--format', 'jepsen-etcd'), /line \d+: no jepsen.util operation line/);
    refused(check(path, '--format', 'porcupine-kv'), /line \d+: /);
    refused(check(path, '--format', 'raftlab'), /line \d+: not valid JSON/);
  });

  it('a raftlab history given as jepsen-etcd names the line it could not read', () => {
    refused(
      check(join(fixtures, 'stale-read.jsonl'), '--format', 'jepsen-etcd'),
      /stale-read.jsonl: line 1: no jepsen.util operation line in the file; this one is not: "\{/,
    );
  });

  it('an empty history, or one with only fault events', () => {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    refused(check(empty), 'the history has no operations (0 events)');
    const faults = join(dir, 'faults.jsonl');
    writeFileSync(
      faults,
      writeJsonl([{ type: 'nemesis', phase: 'start', fault: 'kill', detail: 'n1', nodes: ['n1'], time: 1 }]),
    );
    refused(check(faults), 'the history has no operations (1 event)');
  });

  it('--html at a regular file, under /proc, or under a file: a clear error before checking', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const started = performance.now();
    refused(
      check(join(fixtures, 'stale-read.jsonl'), '--html', file),
      `--html ${file}: ${file} exists and is not a folder`,
    );
    refused(
      check(join(fixtures, 'stale-read.jsonl'), '--html', join(file, 'sub')),
      'exists and is not a folder',
    );
    refused(
      check(join(fixtures, 'stale-read.jsonl'), '--html', '/proc/nope'),
      '--html /proc/nope: cannot create /proc/nope',
    );
    // Each one answers at once (it used to loop forever on /proc/nope); 30 s covers a loaded machine.
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(check(join(fixtures, 'stale-read.jsonl'), '--html', file).stderr).not.toMatch(/\n\s+at /);
  });

  it('times past 2^53 nanoseconds, which JSON would round', () => {
    const path = join(dir, 'big-times.jsonl');
    writeFileSync(
      path,
      writeJsonl([{ type: 'invoke', process: 1, f: 'get', key: 'k', value: null, time: 1 }]) +
        '{"type":"ok","process":1,"f":"get","key":"k","value":null,"time":9007199254740993}\n',
    );
    refused(check(path), `${path}: line 2: "time" is above 2^53 - 1 nanoseconds`);
  });

  it('a bad --memory-limit, or one too small for the loaded history', () => {
    refused(
      check(join(fixtures, 'c01-ok.txt'), '--memory-limit', 'lots'),
      "option '--memory-limit <size>' argument 'lots' is invalid. expected a size such as 512MiB",
    );
    refused(check(join(fixtures, 'c01-ok.txt'), '--memory-limit', '16MiB'), 'leaves no room to search');
  });
});

describe('lab check on hard histories', () => {
  it('the starvation example is illegal at once, the other key reported as not checked', () => {
    const path = join(dir, 'starvation.jsonl');
    writeFileSync(path, writeJsonl(starvationExample()));
    const run = check(path);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/key b\s+ILLEGAL\s+2 ops/);
    expect(run.stdout).toContain(
      '1 more key not checked: the verdict was known (--all-keys checks every key)',
    );
    expect(run.stdout).toMatch(/verdict: illegal \(1 of 2 keys illegal, 1 not checked\)/);
    const all = check(path, '--all-keys', '--json');
    expect(all.status).toBe(1);
    expect(JSON.parse(all.stdout).keys.map((k: { verdict: string }) => k.verdict)).toEqual(['ok', 'illegal']);
  });

  const time = '/usr/bin/time';
  it.skipIf(!existsSync(time))('stays within 10 % of --memory-limit on an exponential history', () => {
    const path = join(dir, 'hard.jsonl');
    // Exponential, with large configurations (3,000 puts first), so the memo table fills fast.
    writeFileSync(path, writeJsonl(disagreeingReads(30, 3000)));
    const limitMiB = 200;
    const run = spawnSync(
      time,
      ['-f', 'peak-kb %M', process.execPath, lab, 'check', path, '--memory-limit', `${limitMiB}MiB`],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.status).toBe(2);
    expect(run.stdout).toMatch(
      /unknown\s+3062 ops .*memory limit reached: the check's budget of \d+ MiB is used up/,
    );
    const peakKiB = Number(/peak-kb (\d+)/.exec(run.stderr)![1]);
    expect(peakKiB / 1024).toBeLessThanOrEqual(limitMiB * 1.1);
  });
});
