// Streams a run folder as a zip. Only regular files whose real path is inside the store go in:
// a symlink in a run folder that points elsewhere is left out rather than followed.
import type { Writable } from 'node:stream';
import { readdir, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { ZipArchive } from 'archiver';

export async function filesForZip(
  dir: string,
  storeReal: string,
  prefix = '',
): Promise<{ path: string; name: string }[]> {
  const files: { path: string; name: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await filesForZip(path, storeReal, name)));
    else if (entry.isFile() && (await realpath(path)).startsWith(storeReal + sep)) files.push({ path, name });
  }
  return files;
}

export async function streamZip(
  dir: string,
  storeReal: string,
  rootName: string,
  out: Writable,
): Promise<void> {
  const files = await filesForZip(dir, storeReal);
  const archive = new ZipArchive({ zlib: { level: 6 } });
  const done = new Promise<void>((resolve, reject) => {
    archive.on('error', reject);
    out.on('error', reject);
    out.on('finish', resolve);
    out.on('close', resolve);
  });
  archive.pipe(out);
  for (const file of files) archive.file(file.path, { name: `${rootName}/${file.name}` });
  await archive.finalize();
  await done;
}
