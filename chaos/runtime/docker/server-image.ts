// The server image: docker/Dockerfile built FROM a base (node:20-bookworm-slim when it is already
// present, else the offline raftlab-base), with the built project: package.json, bin/, dist/ and
// only the production node_modules. Built in two layers of the same Dockerfile (raftlab-deps with
// node_modules, then raftlab-server with bin/ and dist/), each tagged by a hash of its contents, so
// an unchanged project reuses the image and a rebuilt dist/ costs one small build.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type Docker from 'dockerode';
import { TarArchive } from 'archiver';
import { projectRoot, serverBin } from '../project.js';
import { ensureBaseImage } from './base-image.js';
import { followProgress, imageExists } from './engine.js';

export const SERVER_REPOSITORY = 'raftlab-server';
export const DEPS_REPOSITORY = 'raftlab-deps';
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

/** The two layers of the build: the dependencies (rarely change) and the app (every `npm run build`). */
type Layer = 'deps' | 'app';

const LAYER_FILES: Record<Layer, string[]> = {
  deps: ['docker/Dockerfile', 'docker/entrypoint.sh', 'package.json', 'package-lock.json'],
  app: ['docker/Dockerfile', 'docker/entrypoint.sh', 'package.json'],
};

/** Hash of what goes into one layer; node_modules is represented by the lock file and package list. */
function contentHash(root: string, base: string, layer: Layer, packages: readonly string[]): string {
  const hash = createHash('sha256').update(`base ${base}\nlayer ${layer}\n`);
  const files = LAYER_FILES[layer].map((f) => join(root, f));
  if (layer === 'app') files.push(...filesUnder(join(root, 'bin')), ...filesUnder(join(root, 'dist')));
  for (const file of files) {
    if (!existsSync(file)) continue;
    hash.update(`file ${relative(root, file)} ${statSync(file).size}\n`).update(readFileSync(file));
  }
  if (layer === 'deps') for (const pkg of packages) hash.update(`pkg ${pkg}\n`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * The build context of docker/Dockerfile for one layer. The deps layer carries node_modules and
 * empty bin/ and dist/; the app layer, built FROM the deps image, carries bin/ and dist/ and an empty
 * node_modules/ (COPY merges folders, so the dependencies stay). One Dockerfile, two cheap builds:
 * a rebuilt dist/ sends 2 MB instead of 70 MB.
 */
function buildContext(root: string, layer: Layer, packages: readonly string[]): TarArchive {
  const archive = new TarArchive();
  archive.file(join(root, 'docker', 'Dockerfile'), { name: 'Dockerfile' });
  archive.file(join(root, 'docker', 'entrypoint.sh'), { name: 'docker/entrypoint.sh', mode: 0o755 });
  archive.file(join(root, 'package.json'), { name: 'package.json' });
  for (const dir of ['bin/', 'dist/', 'node_modules/']) archive.append('', { name: dir });
  if (layer === 'app') {
    archive.directory(join(root, 'bin'), 'bin');
    // Source maps stay: stack traces in node logs then point at the TypeScript.
    archive.directory(join(root, 'dist'), 'dist');
  } else {
    for (const pkg of packages) archive.directory(join(root, pkg), pkg);
  }
  void archive.finalize();
  return archive;
}

async function buildLayer(
  docker: Docker,
  reference: string,
  base: string,
  context: TarArchive,
  log: (message: string) => void,
): Promise<void> {
  log(`building ${reference} FROM ${base}`);
  const stream = await docker.buildImage(context, {
    t: reference,
    buildargs: { BASE: base },
    labels: { raftlab: '1' },
    rm: true,
    forcerm: true,
  });
  await followProgress(docker, stream, `docker build ${reference}`);
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
  const deps = `${DEPS_REPOSITORY}:${contentHash(root, base, 'deps', packages)}`;
  const reference = `${SERVER_REPOSITORY}:${contentHash(root, deps, 'app', packages)}`;
  if (await imageExists(docker, reference)) return reference;
  if (!(await imageExists(docker, deps))) {
    await buildLayer(docker, deps, base, buildContext(root, 'deps', packages), (m) =>
      log(`${m} (${packages.length} production packages)`),
    );
    await removeOlderImages(docker, DEPS_REPOSITORY, deps);
  }
  await buildLayer(docker, reference, deps, buildContext(root, 'app', packages), (m) =>
    log(`${m} (bin/, dist/)`),
  );
  await removeOlderImages(docker, SERVER_REPOSITORY, reference);
  return reference;
}

const IMAGES_KEPT = 3;

/** Each rebuild makes a new tag: keep the newest few of a repository, remove the rest. */
async function removeOlderImages(docker: Docker, repository: string, keep: string): Promise<void> {
  const images = await docker.listImages({ filters: { reference: [`${repository}:*`] } });
  const older = images.sort((a, b) => b.Created - a.Created).slice(IMAGES_KEPT);
  for (const image of older) {
    for (const tag of image.RepoTags ?? []) {
      if (tag === keep || !tag.startsWith(`${repository}:`)) continue;
      // In use by a running lab (409) or already gone: leave it.
      await docker
        .getImage(tag)
        .remove()
        .catch(() => undefined);
    }
  }
}
