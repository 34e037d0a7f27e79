// `lab check` end to end (spawns bin/lab.js; needs `npm run build`, which `npm test` runs first).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

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
    const lines = [];
    for (let i = 0; i < 26; i++) {
      lines.push({ type: 'invoke', process: i, f: 'put', key: 'k', value: String(i), time: i });
    }
    lines.push({ type: 'invoke', process: 99, f: 'get', key: 'k', value: null, time: 30 });
    for (let i = 0; i < 26; i++)
      lines.push({ type: 'ok', process: i, f: 'put', key: 'k', value: String(i), time: 100 + i });
    lines.push({ type: 'ok', process: 99, f: 'get', key: 'k', value: 'nobody', time: 200 });
    const path = join(dir, 'hard.jsonl');
    writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n'));
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
    spawnSync('mkdir', ['-p', run]);
    writeFileSync(join(run, 'history.jsonl'), '');
    const result = check(run);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('verdict: ok; 0 operations in 0 keys');
  });
});
