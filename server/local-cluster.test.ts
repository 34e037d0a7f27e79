// `lab cluster` through the built binary: start refuses ports already taken (naming the port and the
// node, starting nothing), and one node can be restarted, stopped and started again with the state
// file tracking its pid; `stop` without --dir stops the cluster started last.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../chaos/runtime/process-alive.js';
import { freePorts } from '../shared/free-ports.js';
import { labBinary, readClusterState, STATE_FILE } from './local-cluster.js';

const base = mkdtempSync(join(tmpdir(), 'raftlab-cluster-cli-'));
const env = { ...process.env, RAFTLAB_STATE_DIR: join(base, 'state') };

function lab(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [labBinary(), 'cluster', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pids(dir: string): Record<string, number> {
  return Object.fromEntries(readClusterState(dir).nodes.map((n) => [n.id, n.pid]));
}

afterAll(() => {
  for (const dir of ['c1']) {
    if (!existsSync(join(base, dir, STATE_FILE))) continue;
    for (const pid of Object.values(pids(join(base, dir))))
      if (pid > 0 && processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(base, { recursive: true, force: true });
});

describe('lab cluster', () => {
  it('start --base-port with a port taken exits 255 naming the port and the node, and starts nothing', async () => {
    const [port = 0] = await freePorts(1);
    const holder: Server = await new Promise((resolve) => {
      const server = createServer().listen(port + 3, '127.0.0.1', () => resolve(server));
    });
    try {
      const dir = join(base, 'taken');
      const start = lab('start', '--nodes', '3', '--dir', dir, '--base-port', String(port));
      expect(start.status).toBe(255);
      expect(start.stderr).toContain(`port ${port + 3} (n2's peer port) is already in use`);
      expect(start.stdout).toBe('');
      expect(existsSync(join(dir, STATE_FILE))).toBe(false);
    } finally {
      holder.close();
    }
  });

  it('restarts, stops and starts one node, tracking its pid; stop without --dir stops the latest cluster', () => {
    const dir = join(base, 'c1');
    const start = lab(
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
    expect(start.stdout).toMatch(/started 3 nodes in .*; leader n[123]/);
    const before = pids(dir);

    const restart = lab('restart', '--node', 'n2');
    expect(restart.status, restart.stderr).toBe(0);
    const after = pids(dir);
    expect(after.n2).not.toBe(before.n2);
    expect(processAlive(before.n2 ?? 0)).toBe(false);
    expect(processAlive(after.n2 ?? 0)).toBe(true);
    expect([after.n1, after.n3]).toEqual([before.n1, before.n3]);

    const stopOne = lab('stop', '--node', 'n3', '--dir', dir);
    expect(stopOne.stdout).toBe('n3: stopped (SIGTERM)\n');
    expect(pids(dir).n3).toBe(0);
    expect(lab('start', '--node', 'n3').status).toBe(0);
    const n3 = pids(dir).n3 ?? 0;
    expect(processAlive(n3)).toBe(true);
    expect(lab('restart', '--node', 'n7').stderr).toMatch(/unknown node "n7"/);

    const stop = lab('stop');
    expect(stop.status).toBe(0);
    expect(stop.stdout).toBe('n1: stopped (SIGTERM)\nn2: stopped (SIGTERM)\nn3: stopped (SIGTERM)\n');
    expect(Object.values(after).concat(n3).filter(processAlive)).toEqual([]);
    expect(readFileSync(join(dir, 'n2.log'), 'utf8').length).toBeGreaterThan(0);
  }, 120_000);
});
