// `lab cluster start/stop` and `lab kv` end to end, through the real binary.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labBinary, readClusterState } from '../local-cluster.js';

function lab(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [labBinary(), ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('lab cluster and lab kv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-cli-'));

  afterAll(() => {
    if (existsSync(join(dir, 'cluster-state.json')))
      for (const n of readClusterState(dir).nodes) if (n.pid && alive(n.pid)) process.kill(n.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a cluster, serves kv commands with distinct exit codes, and stops it', () => {
    const start = lab(
      'cluster',
      'start',
      '--nodes',
      '3',
      '--dir',
      dir,
      '--election-timeout-ms',
      '300',
      '--heartbeat-interval-ms',
      '50',
    );
    expect(start.status, start.stderr).toBe(0);
    expect(start.stdout).toContain(`started 3 nodes in ${dir}`);
    const endpoints = /endpoints: (\S+)/.exec(start.stdout)?.[1];
    expect(endpoints).toBeDefined();
    const kv = (...args: string[]) => lab('kv', '--endpoints', endpoints!, ...args);

    expect(kv('put', 'greeting', 'hello').stdout.trim()).toBe('OK');
    const get = kv('get', 'greeting');
    expect([get.status, get.stdout.trim()]).toEqual([0, 'hello']);
    expect(kv('get', 'missing').status).toBe(3);
    const mismatch = kv('cas', 'greeting', 'nope', 'x');
    expect(mismatch.status).toBe(4);
    expect(mismatch.stderr).toContain('CAS_MISMATCH');
    expect(kv('cas', '--expect-absent', 'fresh', 'v1').status).toBe(0);

    expect(kv('append', 'fresh', '+v2').stdout.trim()).toBe('v1+v2');
    const status = kv('status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/NODE\s+ENDPOINT\s+ROLE\s+TERM\s+LEADER\s+COMMIT\s+APPLIED/);
    expect(status.stdout.match(/ leader /g)?.length).toBe(1);
    const json = JSON.parse(kv('--json', 'status').stdout) as { leader: string; nodes: unknown[] };
    expect(json.nodes).toHaveLength(3);
    expect(json.leader).toMatch(/^n[123]$/);
    // Asked only the followers, status names the leader they report instead of "(none)".
    const followers = json.nodes
      .map((n) => n as { endpoint: string; role?: string })
      .filter((n) => n.role === 'follower')
      .map((n) => n.endpoint);
    const fromFollowers = lab('kv', '--endpoints', followers.join(','), 'status');
    expect(fromFollowers.stdout).toContain(`leader: ${json.leader} (as its followers report`);

    // An operator's snapshot on one follower: durable when the command returns, shown by status.
    const snap = lab('kv', '--endpoints', endpoints!, 'snapshot', '--endpoint', followers[0]!);
    expect(snap.status, snap.stderr).toBe(0);
    expect(snap.stdout).toMatch(/^n[123]: snapshot at index \d+ durable after \d+ ms; WAL \d+ bytes/);
    const again = lab('kv', '--endpoints', followers[0]!, '--json', 'snapshot');
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, started: false });
    // --endpoint alone names the node (as docs/server.md shows it), no --endpoints needed.
    const alone = lab('kv', 'snapshot', '--json', '--endpoint', followers[0]!);
    expect(alone.status, alone.stderr).toBe(0);
    expect(JSON.parse(alone.stdout)).toMatchObject({ ok: true });
    expect(lab('kv', 'get', 'k').stderr).toContain("required option '--endpoints <list>' not specified");
    const after = JSON.parse(kv('--json', 'status').stdout) as {
      nodes: { endpoint: string; snapshotIndex: number }[];
    };
    expect(after.nodes.find((n) => n.endpoint === followers[0])!.snapshotIndex).toBeGreaterThan(0);
    expect(kv('snapshot').status).toBe(254); // three endpoints: which node?

    const pids = readClusterState(dir).nodes.map((n) => n.pid);
    const stop = lab('cluster', 'stop', '--dir', dir);
    expect(stop.status).toBe(0);
    expect(stop.stdout).toContain('n1: stopped (SIGTERM)');
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(kv('--timeout-ms', '300', 'get', 'greeting').status).toBe(1);
  }, 90_000); // a dozen `lab` processes; slow when the machine is busy

  it('rejects bad arguments with exit code 254', () => {
    expect(lab('kv', '--endpoints', 'nonsense', 'get', 'k').status).toBe(254);
    expect(lab('kv', '--endpoints', '127.0.0.1:1', 'cas', 'k').status).toBe(254);
    expect(lab('server', '--id', 'n1', '--data-dir', dir).status).toBe(254);
    expect(lab('server', '--id', 'n9', '--cluster', 'n1=127.0.0.1:1/2', '--data-dir', dir).status).toBe(254);
  });
});
