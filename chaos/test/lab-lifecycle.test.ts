// The lab's run lifecycle through real processes: the built `lab run` on the local runtime,
// interrupted with Ctrl-C (SIGINT), or SIGKILLed and then cleaned up by `lab down`. About 30 s.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResults } from '../results-types.js';
import { processAlive } from '../runtime/process-alive.js';
import type { LocalRunState } from '../runtime/local/state.js';

const lab = join(import.meta.dirname, '..', '..', 'bin', 'lab.js');

interface Started {
  child: ChildProcess;
  store: string;
  env: NodeJS.ProcessEnv;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `lab run` on 3 local nodes for 60 s and resolves once the workload has run ~2 s. */
async function startLab(): Promise<Started> {
  const store = mkdtempSync(join(tmpdir(), 'lab-lifecycle-'));
  const env = { ...process.env, RAFTLAB_STATE_DIR: join(store, '.state') };
  const args = ['run', '--runtime', 'local', '--nodes', '3', '--time-limit', '60', '--nemesis', 'partition'];
  const child = spawn(process.execPath, [lab, ...args, '--nemesis-interval', '1', '--store', store], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('cluster up')) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`lab run did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 2500));
  return { child, store, env, stderr: () => stderr, exited };
}

function storedResults(store: string): { runDir: string; results: RunResults } {
  const runDir = realpathSync(join(store, 'latest'));
  return { runDir, results: JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResults };
}

describe('lab run lifecycle (local runtime, real processes)', () => {
  it('Ctrl-C: the summary and results.json count what happened, checked as a partial history', async () => {
    const run = await startLab();
    run.child.kill('SIGINT');
    expect(await run.exited, run.stderr().slice(-3000)).toBe(255);
    const { results } = storedResults(run.store);
    expect(results.partial).toBe(true);
    expect(results.error).toMatch(/interrupted/);
    expect(results.counts.total.ok).toBeGreaterThan(20);
    expect(results.verdict).toBe('valid');
    expect(Object.keys(results.nodeLogs).sort()).toEqual(['n1', 'n2', 'n3']);
    const { ok, fail, info } = results.counts.total;
    expect(run.stderr()).toContain(`operations: ok ${ok}, fail ${fail}, info ${info};`);
    expect(run.stderr()).toMatch(/verdict: VALID of a partial history \(interrupted/);
  });

  it('SIGKILL: `lab down` stops the nodes and records their logs and the partial run; analyze checks it', async () => {
    const run = await startLab();
    const stateFiles = readdirSync(join(run.store, '.state'));
    const state = JSON.parse(
      readFileSync(join(run.store, '.state', stateFiles[0] ?? ''), 'utf8'),
    ) as LocalRunState;
    const pids = Object.values(state.nodes).flatMap((node) => (node.pid === null ? [] : [node.pid]));
    expect(pids).toHaveLength(3);
    run.child.kill('SIGKILL');
    await run.exited;
    const down = spawnSync(process.execPath, [lab, 'down'], { env: run.env, encoding: 'utf8' });
    expect(down.status, down.stderr).toBe(0);
    const { runDir, results } = storedResults(run.store);
    expect(down.stdout).toContain(`logs of n1, n2, n3 in ${join(runDir, 'logs')}`);
    expect(down.stdout).toContain(`run folder ${runDir} marked partial`);
    expect(pids.filter(processAlive)).toEqual([]);
    expect(results.partial).toBe(true);
    expect(results.finishedAt).toBeNull();
    expect(results.counts.total.ok).toBeGreaterThan(20);
    expect(results.nodeLogs).toEqual({ n1: 'logs/n1.log', n2: 'logs/n2.log', n3: 'logs/n3.log' });
    expect(readFileSync(join(runDir, 'logs', 'n1.log'), 'utf8').length).toBeGreaterThan(0);
    const analyze = spawnSync(process.execPath, [lab, 'analyze', runDir], { encoding: 'utf8' });
    expect(analyze.status, analyze.stderr).toBe(255);
    expect(analyze.stderr).toMatch(/verdict: VALID of a partial history \(the lab died/);
    expect(existsSync(join(runDir, 'report.html'))).toBe(true);
  });
});
