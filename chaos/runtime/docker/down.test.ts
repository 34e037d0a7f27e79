// `lab down` on Docker against an engine stand-in (the real engine is exercised by
// docker-runtime.test.ts where one answers): the node logs of a crashed run are written into the run
// folder its labels name before any container is removed, and a run whose logs cannot be saved is
// left in place.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { downDocker } from './down.js';
import { LABEL_LOG_DIR, LABEL_NODE, LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_RUN } from './labels.js';

/** One log line as `docker logs` sends it without a TTY: an 8-byte header (stream 2 = stderr), then the bytes. */
function frame(text: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = 2;
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
}

/** A dead lab's run of two containers; `events` records log reads and removals in order. */
function engine(runId: string, logDir: string, logsFail = false) {
  const events: string[] = [];
  const labels = (node: string) => ({
    [LABEL_RUN]: runId,
    [LABEL_OWNER_HOST]: 'a-host-long-gone',
    [LABEL_OWNER_PID]: '1',
    [LABEL_NODE]: node,
    [LABEL_LOG_DIR]: logDir,
  });
  const containers = ['n1', 'n2'].map((node) => ({
    Id: `id-${node}`,
    Names: [`/raftlab-${runId}-${node}`],
    Labels: labels(node),
  }));
  const docker = {
    listContainers: async () => containers,
    listNetworks: async () => [],
    listVolumes: async () => ({ Volumes: [] }),
    getContainer: (id: string) => ({
      logs: async () => {
        events.push(`logs ${id}`);
        if (logsFail) throw new Error('engine hiccup');
        return frame(`server ${id} up\n`);
      },
      remove: async () => void events.push(`remove ${id}`),
    }),
  };
  return { docker: docker as unknown as Docker, events };
}

describe('lab down (docker)', () => {
  it('saves every node log into the run folder before removing any container', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'lab-down-'));
    const logDir = join(runDir, 'logs');
    const { docker, events } = engine('r-1', logDir);
    const report = await downDocker(docker, true);
    expect(readFileSync(join(logDir, 'n1.log'), 'utf8')).toBe('server id-n1 up\n');
    expect(readFileSync(join(logDir, 'n2.log'), 'utf8')).toBe('server id-n2 up\n');
    const firstRemove = events.findIndex((e) => e.startsWith('remove'));
    expect(events.slice(0, firstRemove).sort()).toEqual(['logs id-n1', 'logs id-n2']);
    expect(report.logs).toEqual([
      {
        runtime: 'docker',
        runId: 'r-1',
        logDir,
        written: { n1: join(logDir, 'n1.log'), n2: join(logDir, 'n2.log') },
      },
    ]);
    expect(report.removed).toContain('docker run r-1: container raftlab-r-1-n1');
  });

  it('removes nothing of a run whose logs cannot be read, and says why', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'lab-down-'));
    mkdirSync(join(runDir, 'logs'));
    const { docker, events } = engine('r-2', join(runDir, 'logs'), true);
    const report = await downDocker(docker, true);
    expect(events.some((e) => e.startsWith('remove'))).toBe(false);
    expect(report.skipped).toEqual(['docker run r-2: could not save its node logs (engine hiccup)']);
  });

  it('still removes a run whose folder was deleted, saying its logs were not saved', async () => {
    const gone = join(tmpdir(), `lab-down-gone-${process.pid}`, 'logs');
    const { docker, events } = engine('r-3', gone);
    const report = await downDocker(docker, true);
    expect(existsSync(gone)).toBe(false);
    expect(events.filter((e) => e.startsWith('remove'))).toHaveLength(2);
    expect(report.skipped[0]).toMatch(/log of n1: the run folder of .* is gone/);
  });
});
