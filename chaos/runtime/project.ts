// Where the raftlab project lives (the folder with its package.json), so the runtimes can find
// dist/cli/server-bin.js and the `.lab/` state folder from either the TS sources or the built dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The raftlab package root: the nearest ancestor of this file whose package.json is named raftlab. */
export function projectRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readManifestName(manifest) === 'raftlab') return (cachedRoot = dir);
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find the raftlab package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function readManifestName(path: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'name' in parsed
      ? String(parsed.name)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The server-only entry (dist/cli/server-bin.js, same flags as `lab server`): it loads only the server's
 * modules, so a node starts several times faster than through the whole CLI.
 */
export function serverBin(): string {
  return join(projectRoot(), 'dist', 'cli', 'server-bin.js');
}

/**
 * Folder for the runtimes' state files (`lab down` reads them after a crash). RAFTLAB_STATE_DIR
 * overrides it (tests use their own so a `lab down` there never touches another run).
 */
export function stateDir(): string {
  return process.env.RAFTLAB_STATE_DIR ?? join(projectRoot(), '.lab', 'runtime');
}
