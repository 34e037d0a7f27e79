// A test image running test/stand-in.mjs under the real entrypoint, FROM the offline base image:
// the Docker runtime's tests then check partitions, pauses and volumes without a Raft server.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { TarArchive } from 'archiver';
import { ensureBaseImage } from '../docker/base-image.js';
import { followProgress, imageExists } from '../docker/engine.js';
import { projectRoot } from '../project.js';

export const STAND_IN_COMMAND = ['node', '/app/stand-in.mjs'];

export async function ensureStandInImage(docker: Docker): Promise<string> {
  const base = await ensureBaseImage(docker, () => undefined);
  const entrypoint = readFileSync(join(projectRoot(), 'docker', 'entrypoint.sh'));
  const standIn = readFileSync(join(import.meta.dirname, 'stand-in.mjs'));
  const dockerfile = [
    `FROM ${base}`,
    'COPY entrypoint.sh /usr/local/bin/raftlab-entrypoint',
    'COPY stand-in.mjs /app/stand-in.mjs',
    'ENTRYPOINT ["/bin/sh", "/usr/local/bin/raftlab-entrypoint"]',
    '',
  ].join('\n');
  const hash = createHash('sha256').update(dockerfile).update(entrypoint).update(standIn).digest('hex');
  const reference = `raftlab-standin:${hash.slice(0, 16)}`;
  if (await imageExists(docker, reference)) return reference;
  const context = new TarArchive();
  context.append(dockerfile, { name: 'Dockerfile' });
  context.append(entrypoint, { name: 'entrypoint.sh', mode: 0o755 });
  context.append(standIn, { name: 'stand-in.mjs' });
  void context.finalize();
  const stream = await docker.buildImage(context, {
    t: reference,
    labels: { raftlab: '1' },
    rm: true,
    forcerm: true,
  });
  await followProgress(docker, stream, `docker build ${reference}`);
  return reference;
}
