// Runtime-level timings for the benchmark (bench/lab.ts may call these): how long a cluster takes to
// start until every client port serves and a leader is elected, how long teardown takes, and how long
// the Docker images take to build, cold and cached.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { BASE_REPOSITORY, ensureBaseImage } from './docker/base-image.js';
import { DEPS_REPOSITORY, ensureServerImage, SERVER_REPOSITORY } from './docker/server-image.js';
import { waitForLeader } from './leader.js';
import { createRuntime, type RuntimeName } from './select.js';

export interface StartupTiming {
  runtime: RuntimeName;
  nodes: number;
  /** start() until every client port serves (images already built). */
  portsMs: number;
  /** start() until a leader is elected. */
  leaderMs: number;
  teardownMs: number;
}

export async function measureStartup(runtime: RuntimeName, nodes = 5): Promise<StartupTiming> {
  const dir = mkdtempSync(join(tmpdir(), 'raftlab-measure-'));
  const instance = createRuntime(runtime);
  const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const runId = `measure-${process.pid}-${Date.now().toString(36)}`;
  try {
    const started = performance.now();
    const handles = await instance.start({
      runId,
      nodes: ids,
      serverArgs: [],
      dataDir: join(dir, 'data'),
      logDir: join(dir, 'logs'),
    });
    const portsMs = performance.now() - started;
    await waitForLeader(handles, 60_000);
    const leaderMs = performance.now() - started;
    const tornDown = performance.now();
    await instance.teardown();
    return { runtime, nodes, portsMs, leaderMs, teardownMs: performance.now() - tornDown };
  } finally {
    await instance.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ImageTiming {
  baseColdMs: number;
  baseCachedMs: number;
  serverColdMs: number;
  serverCachedMs: number;
}

/** Removes the lab's images first (only those no container uses), so the first build is cold. */
export async function measureImageBuilds(docker: Docker): Promise<ImageTiming> {
  for (const repository of [SERVER_REPOSITORY, DEPS_REPOSITORY, BASE_REPOSITORY]) {
    for (const image of await docker.listImages({ filters: { reference: [`${repository}:*`] } })) {
      await docker
        .getImage(image.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
  }
  const time = async (action: () => Promise<unknown>): Promise<number> => {
    const started = performance.now();
    await action();
    return performance.now() - started;
  };
  const quiet = (): void => undefined;
  const baseColdMs = await time(() => ensureBaseImage(docker, quiet));
  const baseCachedMs = await time(() => ensureBaseImage(docker, quiet));
  const serverColdMs = await time(() => ensureServerImage(docker, quiet));
  const serverCachedMs = await time(() => ensureServerImage(docker, quiet));
  return { baseColdMs, baseCachedMs, serverColdMs, serverCachedMs };
}
