// The offline base image: where no registry is reachable, the lab assembles a minimal root file
// system from the host's own binaries (node, sh, sleep, iptables with its extension modules, ip)
// and every shared library `ldd` says they need, and `docker import`s it as raftlab-base:<hash>.
// The tag is a hash of every file's path, mode and content, so a second run reuses the image.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { TarArchive } from 'archiver';
import { followProgress, imageExists } from './engine.js';

export const BASE_REPOSITORY = 'raftlab-base';

/** One file of the image: its path inside the image and where its content comes from on the host. */
export interface BaseFile {
  imagePath: string;
  hostPath: string;
  mode: number;
}

export interface BaseLayout {
  files: BaseFile[];
  /** image path -> link target */
  symlinks: Map<string, string>;
  /** image path -> mode */
  dirs: Map<string, number>;
  /** Small generated files: image path -> content. */
  generated: Map<string, string>;
  /** Environment of the image (PATH, where the loader and iptables find their libraries). */
  env: Map<string, string>;
}

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const IPTABLES_NAMES = [
  'iptables',
  'iptables-save',
  'iptables-restore',
  'ip6tables',
  'ip6tables-save',
  'ip6tables-restore',
];
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function which(name: string): string | undefined {
  for (const dir of SEARCH_PATH) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function required(name: string, why: string): string {
  const found = which(name);
  if (found === undefined)
    throw new Error(
      `offline base image: no \`${name}\` on this host (${why}); install it (e.g. apt-get install iptables)`,
    );
  return found;
}

/** Shared libraries of one or more binaries (union), as absolute paths, the dynamic loader included. */
export function sharedLibraries(...binaries: string[]): string[] {
  let output: string;
  try {
    // One ldd for all: it is a shell script, and one spawn per extension module would cost seconds.
    output = execFileSync('ldd', binaries, { encoding: 'utf8' });
  } catch (error) {
    // ldd exits 1 if any file is static ("not a dynamic executable"); its output is still usable.
    output = String((error as { stdout?: unknown }).stdout ?? '');
    if (!/not a dynamic executable|statically linked|=>/.test(output)) {
      throw new Error(`offline base image: ldd ${binaries.join(' ')} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const libraries = new Set<string>();
  for (const line of output.split('\n')) {
    if (line.includes('not found'))
      throw new Error(`offline base image: a binary needs a missing library: ${line.trim()}`);
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s+(\/\S+)\s+\(/.exec(line);
    if (match?.[1] !== undefined) libraries.add(match[1]);
  }
  return [...libraries];
}

function xtablesModulesDir(iptablesBinary: string): string | undefined {
  const libxtables = sharedLibraries(iptablesBinary).find((lib) => basename(lib).startsWith('libxtables.so'));
  const candidates = [
    ...(libxtables !== undefined
      ? [join(dirname(libxtables), 'xtables'), join(dirname(realpathSync(libxtables)), 'xtables')]
      : []),
    '/usr/lib/x86_64-linux-gnu/xtables',
    '/usr/lib/aarch64-linux-gnu/xtables',
    '/usr/lib/xtables',
    '/usr/libexec/xtables',
  ];
  return candidates.find((dir) => existsSync(dir));
}

/** The binaries the image needs (before their libraries), read from this host. */
interface BaseInputs {
  binaries: BaseFile[];
  symlinks: Map<string, string>;
  modulesDir: string;
}

function baseInputs(nodeBinary: string): BaseInputs {
  const binary = (imagePath: string, hostPath: string, mode = 0o755): BaseFile => ({
    imagePath,
    hostPath: realpathSync(hostPath),
    mode,
  });
  const binaries = [
    binary('/usr/local/bin/node', nodeBinary),
    binary('/bin/sh', required('sh', 'the entrypoint is a shell script')),
    binary('/bin/sleep', required('sleep', 'the entrypoint polls')),
  ];
  // Legacy iptables needs only libc and its own small libraries; nft is the fallback.
  const xtables =
    which('xtables-legacy-multi') ??
    which('xtables-nft-multi') ??
    required('xtables-legacy-multi', 'partitions are iptables rules');
  binaries.push(binary(`/usr/sbin/${basename(xtables)}`, xtables));
  const symlinks = new Map(IPTABLES_NAMES.map((name) => [`/usr/sbin/${name}`, basename(xtables)]));
  const ip = which('ip');
  if (ip !== undefined) binaries.push(binary('/usr/sbin/ip', ip));
  const modulesDir = xtablesModulesDir(xtables);
  if (modulesDir === undefined)
    throw new Error('offline base image: cannot find the xtables extension modules (…/xtables/*.so)');
  for (const name of readdirSync(modulesDir)
    .filter((n) => n.endsWith('.so'))
    .sort()) {
    binaries.push(binary(join(modulesDir, name), join(modulesDir, name), 0o644));
  }
  return { binaries, symlinks, modulesDir };
}

/**
 * A cheap stand-in for the content hash: paths, sizes and times of the binaries and of the loader
 * cache (which changes whenever libraries are installed). Equal fingerprints reuse the image
 * without reading 100 MB and running ldd.
 */
function hostFingerprint(inputs: BaseInputs): string {
  const hash = createHash('sha256');
  const stamp = (path: string): void => {
    const stat = existsSync(path) ? statSync(path) : undefined;
    hash.update(`${path} ${stat?.size ?? '-'} ${stat?.mtimeMs ?? '-'} ${stat?.ino ?? '-'}\n`);
  };
  for (const file of inputs.binaries) stamp(file.hostPath);
  stamp('/etc/ld.so.cache');
  return hash.digest('hex').slice(0, 16);
}

/** What goes into the base image, read from this host. Throws naming anything missing. */
export function planBaseLayout(nodeBinary = process.execPath, inputs = baseInputs(nodeBinary)): BaseLayout {
  const layout: BaseLayout = {
    files: [...inputs.binaries],
    symlinks: new Map(inputs.symlinks),
    dirs: new Map(),
    generated: new Map(),
    env: new Map([['PATH', IMAGE_PATH]]),
  };
  // libxtables looks for its modules where it was built to; say so explicitly, since a merged-/usr
  // host may name that folder through a symlink the image does not have.
  layout.env.set('XTABLES_LIBDIR', inputs.modulesDir);
  addLibraries(layout, inputs.binaries);
  addSystemFiles(layout);
  return layout;
}

function addLibraries(layout: BaseLayout, binaries: readonly BaseFile[]): void {
  const seen = new Set(layout.files.map((f) => f.imagePath));
  for (const library of sharedLibraries(...binaries.map((b) => b.hostPath))) {
    if (seen.has(library)) continue;
    seen.add(library);
    // Same path inside as outside: the loader and the binaries' RUNPATHs find them unchanged.
    layout.files.push({ imagePath: library, hostPath: realpathSync(library), mode: 0o755 });
  }
  // There is no ld.so.cache in the image: point the loader at every folder that holds a library.
  const libraryDirs = [
    ...new Set(layout.files.filter((f) => /\.so(\.|$)/.test(f.imagePath)).map((f) => dirname(f.imagePath))),
  ];
  layout.env.set('LD_LIBRARY_PATH', libraryDirs.sort().join(':'));
}

function addSystemFiles(layout: BaseLayout): void {
  for (const [dir, mode] of [
    ['/tmp', 0o1777],
    ['/run', 0o755],
    ['/data', 0o755],
    ['/app', 0o755],
    ['/etc', 0o755],
  ] as const) {
    layout.dirs.set(dir, mode);
  }
  layout.generated.set(
    '/etc/passwd',
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n',
  );
  layout.generated.set('/etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  for (const file of ['/etc/protocols', '/etc/services']) {
    if (existsSync(file)) layout.generated.set(file, readFileSync(file, 'utf8'));
  }
}

/** Content hash of the layout: the image tag. */
export function layoutHash(layout: BaseLayout): string {
  const hash = createHash('sha256');
  for (const file of [...layout.files].sort((a, b) => a.imagePath.localeCompare(b.imagePath))) {
    hash.update(`file ${file.imagePath} ${file.mode.toString(8)} ${statSync(file.hostPath).size}\n`);
    hash.update(readFileSync(file.hostPath));
  }
  for (const [path, target] of [...layout.symlinks].sort()) hash.update(`link ${path} ${target}\n`);
  for (const [path, mode] of [...layout.dirs].sort()) hash.update(`dir ${path} ${mode.toString(8)}\n`);
  for (const [path, content] of [...layout.generated].sort()) hash.update(`gen ${path}\n${content}\n`);
  for (const [name, value] of [...layout.env].sort()) hash.update(`env ${name}=${value}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** A tar stream of the layout (names relative to /, as `docker import` wants). */
export function layoutTar(layout: BaseLayout): TarArchive {
  const archive = new TarArchive();
  const date = new Date(0);
  const name = (path: string): string => path.replace(/^\/+/, '');
  for (const [path, mode] of layout.dirs) archive.append('', { name: `${name(path)}/`, mode, date });
  for (const file of layout.files)
    archive.append(createReadStream(file.hostPath), { name: name(file.imagePath), mode: file.mode, date });
  for (const [path, content] of layout.generated)
    archive.append(content, { name: name(path), mode: 0o644, date });
  for (const [path, target] of layout.symlinks) archive.symlink(name(path), target, 0o777);
  void archive.finalize();
  return archive;
}

const LABEL_FINGERPRINT = 'raftlab.base-fingerprint';

/** Builds (or finds) raftlab-base:<hash>; returns the image reference. */
export async function ensureBaseImage(docker: Docker, log: (message: string) => void): Promise<string> {
  const inputs = baseInputs(process.execPath);
  const fingerprint = hostFingerprint(inputs);
  const known = await docker.listImages({ filters: { label: [`${LABEL_FINGERPRINT}=${fingerprint}`] } });
  const knownTag = known
    .flatMap((image) => image.RepoTags ?? [])
    .find((tag) => tag.startsWith(`${BASE_REPOSITORY}:`));
  if (knownTag !== undefined) return knownTag;
  const layout = planBaseLayout(process.execPath, inputs);
  const reference = `${BASE_REPOSITORY}:${layoutHash(layout)}`;
  if (await imageExists(docker, reference)) return reference;
  log(
    `building the offline base image ${reference} from this host's node, sh and iptables (${layout.files.length} files)`,
  );
  const [repo, tag] = reference.split(':') as [string, string];
  const env = [...layout.env].map(([name, value]) => `ENV ${name}=${value}`);
  const stream = await docker.importImage(layoutTar(layout), {
    repo,
    tag,
    changes: [...env, 'LABEL raftlab=1', `LABEL ${LABEL_FINGERPRINT}=${fingerprint}`, 'CMD ["/bin/sh"]'],
  });
  await followProgress(docker, stream, `import ${reference}`);
  return reference;
}
