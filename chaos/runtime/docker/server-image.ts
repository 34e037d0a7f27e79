// The server image: docker/Dockerfile built FROM a base (node:20-bookworm-slim when it is already
// present, else the offline raftlab-base), with the built project: package.json, bin/, dist/ and
// only the production node_modules. Tagged raftlab-server:<hash of base + contents>, so an
// unchanged project reuses the image and a rebuilt dist/ makes a new one.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type Docker from 'dockerode';
import { TarArchive } from 'archiver';
import { projectRoot, serverBin } from '../project.js';
import { ensureBaseImage } from './base-image.js';
import { followProgress, imageExists } from './engine.js';

export const SERVER_REPOSITORY = 'raftlab-server';
export const REGISTRY_BASE = 'node:20-bookworm-slim';

/** Package folders (relative to the project root) that the production dependencies need. */
export function productionPackages(root = projectRoot()): string[] {
  const found = new Set<string>();
  const visit = (fromDir: string, manifest: string): void => {
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    const names = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies });
    for (const name of names) {
      const dir = resolvePackage(name, fromDir, root);
      if (dir === undefined || found.has(dir)) continue; // a missing optional dependency is fine
      found.add(dir);
      visit(dir, join(dir, 'package.json'));
    }
  };
  visit(root, join(root, 'package.json'));
  return [...found].map((dir) => relative(root, dir)).sort();
}

/** Node's lookup: node_modules/<name> in the package's folder, then in each parent up to the root. */
function resolvePackage(name: string, fromDir: string, root: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

/** Hash of everything that goes into the image except node_modules, which package-lock.json pins. */
function contentHash(root: string, base: string, packages: readonly string[]): string {
  const hash = createHash('sha256').update(`base ${base}\n`);
  const files = ['docker/Dockerfile', 'docker/entrypoint.sh', 'package.json', 'package-lock.json'].map((f) =>
    join(root, f),
  );
  for (const file of [...files, ...filesUnder(join(root, 'bin')), ...filesUnder(join(root, 'dist'))]) {
    if (!existsSync(file)) continue;
    hash.update(`file ${relative(root, file)} ${statSync(file).size}\n`).update(readFileSync(file));
  }
  for (const pkg of packages) hash.update(`pkg ${pkg}\n`);
  return hash.digest('hex').slice(0, 16);
}

function buildContext(root: string, packages: readonly string[]): TarArchive {
  const archive = new TarArchive();
  archive.file(join(root, 'docker', 'Dockerfile'), { name: 'Dockerfile' });
  archive.file(join(root, 'docker', 'entrypoint.sh'), { name: 'docker/entrypoint.sh', mode: 0o755 });
  archive.file(join(root, 'package.json'), { name: 'package.json' });
  archive.directory(join(root, 'bin'), 'bin');
  // Source maps stay: stack traces in node logs then point at the TypeScript.
  archive.directory(join(root, 'dist'), 'dist');
  archive.append('', { name: 'node_modules/' });
  for (const pkg of packages) archive.directory(join(root, pkg), pkg);
  void archive.finalize();
  return archive;
}

/** The base to build FROM: RAFTLAB_BASE_IMAGE, else node:20-bookworm-slim if present, else offline. */
async function chooseBase(docker: Docker, log: (message: string) => void): Promise<string> {
  const override = process.env.RAFTLAB_BASE_IMAGE;
  if (override !== undefined && override !== '') return override;
  // No pull: the lab never reaches for a registry on its own (offline machines, CI without internet).
  if (await imageExists(docker, REGISTRY_BASE)) return REGISTRY_BASE;
  return ensureBaseImage(docker, log);
}

/** Builds (or finds) the server image; returns its reference. */
export async function ensureServerImage(docker: Docker, log: (message: string) => void): Promise<string> {
  const root = projectRoot();
  if (!existsSync(serverBin())) throw new Error(`${serverBin()} is missing: run \`npm run build\` first`);
  const base = await chooseBase(docker, log);
  const packages = productionPackages(root);
  const reference = `${SERVER_REPOSITORY}:${contentHash(root, base, packages)}`;
  if (await imageExists(docker, reference)) return reference;
  log(`building ${reference} FROM ${base} (dist/ and ${packages.length} production packages)`);
  const stream = await docker.buildImage(buildContext(root, packages), {
    t: reference,
    buildargs: { BASE: base },
    labels: { raftlab: '1' },
    rm: true,
    forcerm: true,
  });
  await followProgress(docker, stream, `docker build ${reference}`);
  await removeOlderServerImages(docker, reference);
  return reference;
}

const SERVER_IMAGES_KEPT = 3;

/**
 * Each build of a changed project makes a new tag. Keep the newest few (they share every layer but
 * dist/, and keeping them keeps the builder's cache for the node_modules layer); remove the rest.
 */
async function removeOlderServerImages(docker: Docker, keep: string): Promise<void> {
  const images = await docker.listImages({ filters: { reference: [`${SERVER_REPOSITORY}:*`] } });
  const older = images.sort((a, b) => b.Created - a.Created).slice(SERVER_IMAGES_KEPT);
  for (const image of older) {
    for (const tag of image.RepoTags ?? []) {
      if (tag === keep || !tag.startsWith(`${SERVER_REPOSITORY}:`)) continue;
      // In use by a running lab (409) or already gone: leave it.
      await docker
        .getImage(tag)
        .remove()
        .catch(() => undefined);
    }
  }
}
