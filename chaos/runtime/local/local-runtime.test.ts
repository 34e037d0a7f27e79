// The local runtime against stand-in servers (test/stand-in.mjs): partitions and packet loss through
// the proxies, kill/restart on the same data, pause/resume, and teardown leaving no process behind,
// also after the driving process is SIGINTed or SIGKILLed (then `lab down`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../process-alive.js';
import {
  allFresh,
  ask,
  collectUntilExit,
  endpoint,
  eventually,
  FRESH_MS,
  spawnDriver,
  STALE_MS,
  standInCommand,
  sleepMs,
  status,
} from '../test/helpers.js';
import type { NodeHandle } from '../types.js';
import { LocalRuntime } from './local-runtime.js';
import { stateFile, type LocalRunState } from './state.js';

let base: string;
let runtime: LocalRuntime | undefined;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'raftlab-local-'));
  process.env.RAFTLAB_STATE_DIR = join(base, 'state');
});
afterEach(async () => {
  await runtime?.teardown();
  runtime = undefined;
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

async function startCluster(runId: string): Promise<NodeHandle[]> {
  runtime = new LocalRuntime({ serverCommand: standInCommand() });
  const handles = await runtime.start({
    runId,
    nodes: ['n1', 'n2', 'n3'],
    serverArgs: [],
    dataDir: join(base, runId, 'data'),
    logDir: join(base, runId, 'logs'),
  });
  expect(await eventually(async () => allFresh(handles), 5000)).toBe(true);
  return handles;
}

function recordedPids(runId: string): number[] {
  const state = JSON.parse(readFileSync(stateFile(runId), 'utf8')) as LocalRunState;
  return Object.values(state.nodes).flatMap((n) => (n.pid === null ? [] : [n.pid]));
}

describe('local runtime', () => {
  it('a grudge holds traffic on exactly the blocked directions, and heal restores it', async () => {
    const handles = await startCluster('partition');
    await runtime?.partition(new Map([['n1', new Set(['n2'])]]));
    await sleepMs(STALE_MS + 200);
    const n1 = await status(endpoint(handles, 'n1'));
    const n2 = await status(endpoint(handles, 'n2'));
    expect(n1.heardMsAgo.n2).toBeGreaterThan(STALE_MS); // n1 drops n2's heartbeats
    expect(n1.heardMsAgo.n3).toBeLessThan(FRESH_MS); // n3 is untouched
    expect(n2.heardMsAgo.n1).toBeLessThan(FRESH_MS); // one-way: n2 still hears n1
    expect(n2.ackedMsAgo.n1).toBeGreaterThan(STALE_MS); // but its heartbeats never reach n1
    await runtime?.heal();
    expect(await eventually(async () => allFresh(handles), 3000)).toBe(true);
  });

  it('packet loss of 1 cuts a node off and heal restores it', async () => {
    const handles = await startCluster('loss');
    await runtime?.packetLoss(['n3'], 1);
    await sleepMs(STALE_MS + 200);
    const n1 = await status(endpoint(handles, 'n1'));
    expect(n1.heardMsAgo.n3).toBeGreaterThan(STALE_MS);
    expect(n1.heardMsAgo.n2).toBeLessThan(FRESH_MS);
    await runtime?.heal();
    expect(await eventually(async () => allFresh(handles), 3000)).toBe(true);
  });

  it('kill stops a node, restart brings it back on the same data and port', async () => {
    const handles = await startCluster('kill');
    const n1 = endpoint(handles, 'n1');
    expect(await ask(n1, 'incr')).toBe('1');
    expect(await ask(n1, 'incr')).toBe('2');
    await runtime?.kill('n1');
    await expect(ask(n1, 'incr')).rejects.toThrow();
    await runtime?.restart('n1');
    expect(await ask(n1, 'incr')).toBe('3');
    expect(await eventually(async () => allFresh(handles), 3000)).toBe(true);
  });

  it('pause freezes a node and resume thaws it', async () => {
    const handles = await startCluster('pause');
    await runtime?.pause('n2');
    await expect(ask(endpoint(handles, 'n2'), 'status', 500)).rejects.toThrow(/no answer/);
    await sleepMs(STALE_MS);
    expect((await status(endpoint(handles, 'n1'))).heardMsAgo.n2).toBeGreaterThan(STALE_MS);
    await runtime?.resume('n2');
    expect(await eventually(async () => allFresh(handles), 3000)).toBe(true);
  });

  it('teardown (twice, concurrently) leaves no process, data folder or state file', async () => {
    await startCluster('teardown');
    const pids = recordedPids('teardown');
    expect(pids).toHaveLength(3);
    await runtime?.pause('n3'); // a frozen process must die too
    await Promise.all([runtime?.teardown(), runtime?.teardown()]);
    expect(pids.filter(processAlive)).toEqual([]);
    await expect(runtime?.restart('n1')).rejects.toThrow(/torn down/); // a late nemesis step starts nothing
    expect(existsSync(join(base, 'teardown', 'data'))).toBe(false);
    expect(existsSync(join(base, 'teardown', 'logs', 'n1.log'))).toBe(true);
    expect(existsSync(stateFile('teardown'))).toBe(false);
  });

  it('rejects unknown nodes and bad probabilities', async () => {
    await startCluster('bad-input');
    await expect(runtime?.kill('n9')).rejects.toThrow(/unknown node "n9"/);
    await expect(runtime?.partition(new Map([['n1', new Set(['n7'])]]))).rejects.toThrow(/unknown node "n7"/);
    await expect(runtime?.packetLoss(['n1'], 1.5)).rejects.toThrow(/\[0, 1\]/);
  });
});

describe('local runtime when the lab is interrupted', () => {
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, RAFTLAB_STATE_DIR: join(base, 'state') });

  it('SIGINT: the lab tears down and leaves no process', async () => {
    const { child, handles } = await spawnDriver('local', 'sigint', join(base, 'sigint'), env());
    const pids = recordedPids('sigint');
    expect(pids.filter(processAlive)).toHaveLength(3);
    const exit = collectUntilExit(child);
    child.kill('SIGINT');
    expect((await exit).stdout).toContain('TORN DOWN');
    expect(pids.filter(processAlive)).toEqual([]);
    await expect(ask(handles[0]?.clientEndpoint ?? '', 'status')).rejects.toThrow();
  });

  it('SIGKILL leaves the servers running; `lab down` removes them', async () => {
    const { child, handles } = await spawnDriver('local', 'sigkill', join(base, 'sigkill'), env());
    const pids = recordedPids('sigkill');
    const exit = collectUntilExit(child);
    child.kill('SIGKILL');
    await exit;
    expect(pids.filter(processAlive)).toHaveLength(3); // orphans, as after a real crash
    expect(await ask(handles[0]?.clientEndpoint ?? '', 'incr')).toBe('1');
    const down = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../../../cli/main.ts'), 'down'],
      {
        env: env(),
        encoding: 'utf8',
      },
    );
    expect(down.status).toBe(0);
    expect(down.stdout).toMatch(/removed local run sigkill: process \d+ \(node n1\)/);
    expect(await eventually(() => Promise.resolve(pids.filter(processAlive).length === 0), 3000)).toBe(true);
    expect(readdirSync(join(base, 'state')).filter((f) => f.includes('sigkill'))).toEqual([]);
    expect(existsSync(join(base, 'sigkill', 'data'))).toBe(false);
  });
});
