// The Docker runtime against a real engine: the offline image, iptables partitions and packet loss,
// pause, kill/restart on the same volume (with the partition re-applied), a real Raft cluster, and
// teardown leaving nothing labelled, also after the lab is interrupted (SIGINT; SIGKILL + lab down).
// Skipped, saying why, only when no engine answers.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForLeader } from '../leader.js';
import {
  allFresh,
  ask,
  collectUntilExit,
  endpoint,
  eventually,
  FRESH_MS,
  sleepMs,
  spawnDriver,
  STALE_MS,
  status,
} from '../test/helpers.js';
import { ensureStandInImage, STAND_IN_COMMAND } from '../test/stand-in-image.js';
import type { NodeHandle } from '../types.js';
import { ensureBaseImage } from './base-image.js';
import { DockerRuntime } from './docker-runtime.js';
import { connectEngine, engineAddress, probeEngine } from './engine.js';
import { labelFilter } from './labels.js';

const docker = connectEngine();
const problem = await probeEngine(docker);
if (problem !== undefined) {
  process.stderr.write(`Docker runtime tests SKIPPED: no Docker engine at ${engineAddress()} (${problem})\n`);
}
const describeDocker = problem === undefined ? describe : describe.skip;

const unique = `${process.pid}-${Date.now().toString(36)}`;
let base: string;
let standInImage: string;

/** Containers, networks and volumes still labelled with the run id. */
async function leftovers(runId: string): Promise<string[]> {
  const filters = labelFilter(runId);
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...volumes.map((v) => `volume ${v.Name}`),
  ];
}

function spec(runId: string, nodes = ['n1', 'n2', 'n3']) {
  return {
    runId,
    nodes,
    serverArgs: [],
    dataDir: join(base, runId, 'data'),
    logDir: join(base, runId, 'logs'),
  };
}

describeDocker('docker runtime', () => {
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'raftlab-docker-'));
    standInImage = await ensureStandInImage(docker);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('the offline base image is cached by content: a second build reuses it at once', async () => {
    const first = await ensureBaseImage(docker, () => undefined);
    const started = Date.now();
    expect(await ensureBaseImage(docker, () => undefined)).toBe(first);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(first).toMatch(/^raftlab-base:[0-9a-f]{16}$/);
  });

  describe('a cluster of stand-in nodes', () => {
    const runId = `t-${unique}`;
    let runtime: DockerRuntime;
    let handles: NodeHandle[];

    beforeAll(async () => {
      runtime = new DockerRuntime({ image: standInImage, containerCommand: STAND_IN_COMMAND });
      handles = await runtime.start(spec(runId));
      expect(await eventually(async () => allFresh(handles), 15_000)).toBe(true);
    });
    afterAll(() => runtime.teardown());

    it('an iptables grudge cuts the blocked link and spares the others, and heal restores it', async () => {
      await runtime.partition(new Map([['n1', new Set(['n2'])]]));
      await sleepMs(STALE_MS + 300);
      const n1 = await status(endpoint(handles, 'n1'));
      const n2 = await status(endpoint(handles, 'n2'));
      expect(n1.heardMsAgo.n2).toBeGreaterThan(STALE_MS);
      expect(n1.heardMsAgo.n3).toBeLessThan(FRESH_MS);
      expect(n2.ackedMsAgo.n1).toBeGreaterThan(STALE_MS);
      // Unlike the local proxy, n2 soon stops hearing n1 too: n1 drops n2's TCP ACKs, so n1's
      // send window fills and its stream stalls (docs/runtimes.md, "one-way grudges").
      expect((await status(endpoint(handles, 'n3'))).heardMsAgo.n2).toBeLessThan(FRESH_MS);
      await runtime.heal();
      expect(await eventually(async () => allFresh(handles), 10_000)).toBe(true);
    });

    it('packet loss of 1 cuts a node off, and heal restores it', async () => {
      await runtime.packetLoss(['n3'], 1);
      await sleepMs(STALE_MS + 300);
      expect((await status(endpoint(handles, 'n1'))).heardMsAgo.n3).toBeGreaterThan(STALE_MS);
      await runtime.heal();
      expect(await eventually(async () => allFresh(handles), 10_000)).toBe(true);
    });

    it('pause freezes a container and resume thaws it', async () => {
      await runtime.pause('n2');
      await expect(ask(endpoint(handles, 'n2'), 'status', 500)).rejects.toThrow();
      await sleepMs(STALE_MS);
      expect((await status(endpoint(handles, 'n1'))).heardMsAgo.n2).toBeGreaterThan(STALE_MS);
      await runtime.resume('n2');
      expect(await eventually(async () => allFresh(handles), 10_000)).toBe(true);
    });

    it('a partition set while a node is paused reaches it when it resumes', async () => {
      await runtime.pause('n2');
      await runtime.partition(new Map([['n2', new Set(['n1'])]])); // cannot exec into a frozen container
      await runtime.resume('n2');
      await sleepMs(STALE_MS + 300);
      const n2 = await status(endpoint(handles, 'n2'));
      expect(n2.heardMsAgo.n1).toBeGreaterThan(STALE_MS);
      expect(n2.heardMsAgo.n3).toBeLessThan(FRESH_MS);
      await runtime.heal();
      expect(await eventually(async () => allFresh(handles), 10_000)).toBe(true);
    });

    it('kill then restart keeps the volume data, the port, and the partition in force', async () => {
      const n1 = endpoint(handles, 'n1');
      const before = Number(await ask(n1, 'incr'));
      await runtime.partition(new Map([['n1', new Set(['n2'])]]));
      await runtime.kill('n1');
      await expect(ask(n1, 'status', 500)).rejects.toThrow();
      await runtime.restart('n1');
      expect(Number(await ask(n1, 'incr'))).toBe(before + 1);
      await sleepMs(STALE_MS + 300);
      const after = await status(n1);
      expect(after.heardMsAgo.n3).toBeLessThan(FRESH_MS);
      expect(after.heardMsAgo.n2 ?? Infinity).toBeGreaterThan(STALE_MS); // the grudge came back with it
      await runtime.heal();
      expect(await eventually(async () => allFresh(handles), 10_000)).toBe(true);
    });

    it('collects each node log, and teardown (twice, concurrently) leaves nothing labelled', async () => {
      const logs = await runtime.collectLogs(join(base, runId, 'collected'));
      expect(Object.keys(logs).sort()).toEqual(['n1', 'n2', 'n3']);
      expect(await leftovers(runId)).toHaveLength(7); // 3 containers, 1 network, 3 volumes
      await Promise.all([runtime.teardown(), runtime.teardown()]);
      expect(await leftovers(runId)).toEqual([]);
    });
  });

  it('a real raftlab cluster comes up in containers and elects a leader', async () => {
    const runtime = new DockerRuntime();
    const runId = `r-${unique}`;
    try {
      const handles = await runtime.start(spec(runId));
      const leader = await waitForLeader(handles, 60_000);
      expect(['n1', 'n2', 'n3']).toContain(leader.leader);
    } finally {
      await runtime.teardown();
    }
    expect(await leftovers(runId)).toEqual([]);
  }, 240_000);

  describe('when the lab is interrupted', () => {
    const env = (): NodeJS.ProcessEnv => ({
      ...process.env,
      RAFTLAB_TEST_IMAGE: standInImage,
      RAFTLAB_STATE_DIR: join(base, 'state'),
    });

    it('SIGINT: the lab tears down and leaves nothing labelled', async () => {
      const runId = `i-${unique}`;
      const { child } = await spawnDriver('docker', runId, join(base, runId), env());
      expect(await leftovers(runId)).toHaveLength(7);
      const exit = collectUntilExit(child);
      child.kill('SIGINT');
      expect((await exit).stdout).toContain('TORN DOWN');
      expect(await leftovers(runId)).toEqual([]);
    });

    it('SIGKILL leaves the cluster; `lab down` saves the node logs, then removes every container, network and volume', async () => {
      const runId = `k-${unique}`;
      mkdirSync(join(base, runId), { recursive: true }); // the run folder, as the lab makes it
      const { child, handles } = await spawnDriver('docker', runId, join(base, runId), env());
      const exit = collectUntilExit(child);
      child.kill('SIGKILL');
      await exit;
      expect(await ask(handles[0]?.clientEndpoint ?? '', 'incr')).toBe('1'); // still running
      const main = join(import.meta.dirname, '../../../cli/main.ts');
      const down = spawnSync(process.execPath, ['--import', 'tsx', main, 'down'], {
        env: env(),
        encoding: 'utf8',
      });
      expect(down.status).toBe(0);
      expect(down.stdout).toContain(`removed docker run ${runId}: network raftlab-${runId}`);
      expect(await leftovers(runId)).toEqual([]);
      // The logs were saved from the containers into the run's log folder before they went.
      expect(down.stdout).toContain(`saved docker run ${runId}: logs of n1, n2, n3 in`);
      expect(readFileSync(join(base, runId, 'logs', 'n1.log'), 'utf8')).toContain('stand-in n1 up');
    });
  });
});
