// Maps a request path to a file inside the store, or refuses. The store is the only tree served:
// we refuse anything that could name a file elsewhere before touching the disk (dot segments,
// encoded slashes and dots, double encoding, backslashes, NUL, empty segments that make an absolute
// path), then resolve symlinks and refuse a real path outside the store's real path.
import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';

export type Resolved =
  { ok: true; path: string; segments: string[] } | { ok: false; status: 400 | 403 | 404; reason: string };

const FORBIDDEN_RAW = /\\|%5c|%00|%25|\0/i;

/** Decode and vet the path segments of `rawPath` (the part of the URL after the route prefix). */
export function vetSegments(
  rawPath: string,
): { ok: true; segments: string[] } | { ok: false; reason: string } {
  if (FORBIDDEN_RAW.test(rawPath)) return { ok: false, reason: 'backslash, NUL or double encoding in path' };
  const parts = rawPath.split('/');
  if (parts[parts.length - 1] === '') parts.pop(); // a trailing slash names a folder
  const segments: string[] = [];
  for (const part of parts) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { ok: false, reason: 'malformed percent-encoding' };
    }
    if (segment === '' || segment === '.' || segment === '..')
      return { ok: false, reason: 'empty or dot segment' };
    if (/[/\\\0]/.test(segment)) return { ok: false, reason: 'encoded separator in segment' };
    segments.push(segment);
  }
  return { ok: true, segments };
}

/** Resolve `rawPath` under `storeReal` (the store's own real path), following symlinks only inside it. */
export async function resolveInStore(storeReal: string, rawPath: string): Promise<Resolved> {
  const vetted = vetSegments(rawPath);
  if (!vetted.ok) return { ok: false, status: 400, reason: vetted.reason };
  let real: string;
  try {
    real = await realpath(join(storeReal, ...vetted.segments));
  } catch {
    return { ok: false, status: 404, reason: 'not found' };
  }
  if (real !== storeReal && !real.startsWith(storeReal + sep)) {
    return { ok: false, status: 403, reason: 'outside the store' };
  }
  return { ok: true, path: real, segments: vetted.segments };
}
