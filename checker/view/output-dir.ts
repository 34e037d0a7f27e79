// Making the folder the counterexample pages go into, with a clear error for a bad path, before any
// checking starts. mkdirSync(path, { recursive: true }) is not used: on Node 20 it loops forever on
// a path under /proc (a folder where mkdir fails with ENOENT although the parent exists).
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A path that cannot be used as the output folder, with the reason. */
export class OutputDirError extends Error {
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'OutputDirError';
  }
}

/** Creates `dir` (and missing parents) unless it exists; throws OutputDirError saying why not. */
export function prepareOutputDir(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const kind = kindOf(at);
    if (kind === 'directory') break;
    if (kind === 'other') throw new OutputDirError(dir, `${at} exists and is not a folder`);
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) throw new OutputDirError(dir, 'no existing parent folder');
    at = parent;
  }
  try {
    accessSync(at, constants.W_OK);
  } catch {
    throw new OutputDirError(dir, `cannot write in ${at}`);
  }
  for (const path of missing) {
    try {
      mkdirSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new OutputDirError(dir, `cannot create ${path} (${code})`);
    }
  }
}

function kindOf(path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}
