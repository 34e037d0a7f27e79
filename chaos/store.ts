// The run store: histories/<name>/<timestamp>/ per run, with `latest` links at both levels
// (histories/<name>/latest and histories/latest), as Jepsen's store does.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { RunResults } from './results-types.js';

export const RESULTS_FILE = 'results.json';
export const HISTORY_FILE = 'history.jsonl';
export const LAB_LOG_FILE = 'lab.log';
export const NODE_LOG_DIR = 'logs';
export const COUNTEREXAMPLE_DIR = 'counterexamples';

/** 20261122T042248.123Z: sortable, and safe in every file system. */
export function runTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '');
}

/** Names become folder names: keep letters, digits, dot, dash and underscore. */
export function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'run' : cleaned;
}

/** Makes the run folder and points both `latest` links at it. */
export function createRunDir(storeDir: string, name: string, startedAt: Date): string {
  const nameDir = join(storeDir, safeName(name));
  let stamp = runTimestamp(startedAt);
  // Two runs in the same millisecond (--test-count) must not share a folder.
  for (let n = 1; existsSync(join(nameDir, stamp)); n++) stamp = `${runTimestamp(startedAt)}-${n}`;
  const runDir = join(nameDir, stamp);
  mkdirSync(runDir, { recursive: true });
  pointLink(join(nameDir, 'latest'), stamp);
  pointLink(join(storeDir, 'latest'), relative(storeDir, runDir));
  return runDir;
}

/** Replaces a symlink atomically (make a new one, rename over the old). */
function pointLink(link: string, target: string): void {
  const temporary = `${link}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  symlinkSync(target, temporary);
  renameSync(temporary, link);
}

/** Written through a temporary file and a rename, so a reader (lab serve) never sees half a file. */
export function writeResults(runDir: string, results: RunResults): void {
  const path = join(runDir, RESULTS_FILE);
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(temporary, path);
}

export function readResults(runDir: string): RunResults {
  const path = join(runDir, RESULTS_FILE);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunResults;
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The run folder `lab analyze` means by default, or by a name or a path: a run folder itself, a
 * name folder (its `latest`), or the store (latestRunDir).
 */
export function resolveRunDir(target: string | undefined, storeDir: string): string {
  const latest = target === undefined ? latestRunDir(storeDir) : null;
  if (latest !== null) return latest;
  for (const candidate of target === undefined ? [] : [target, join(storeDir, target)]) {
    if (!existsSync(candidate)) continue;
    if (existsSync(join(candidate, HISTORY_FILE))) return resolve(candidate);
    const latest = join(candidate, 'latest');
    if (existsSync(join(latest, HISTORY_FILE))) return resolve(dirname(latest), readlinkSync(latest));
    const newest = newestRun(candidate);
    if (newest !== null) return newest;
  }
  throw new Error(
    `no stored run found at ${target ?? storeDir} (run \`lab run\` first, or name a run folder)`,
  );
}

/**
 * The run `lab show` and `lab analyze` both mean without an argument: the one the store's `latest`
 * link names (the lab's last run), else the newest lab run folder by its timestamp. `lab sim`
 * writes evidence folders with a history.jsonl under the same store (histories/sim/), so a folder
 * counts as a lab run only with the lab's own files (results.json, or lab.log for a run that died
 * before writing results).
 */
export function latestRunDir(storeDir: string): string | null {
  const link = join(storeDir, 'latest');
  if (existsSync(link)) return resolve(storeDir, readlinkSync(link));
  const runs: { dir: string; stamp: string }[] = [];
  for (const name of subfolders(storeDir))
    for (const stamp of subfolders(join(storeDir, name))) {
      const dir = join(storeDir, name, stamp);
      if (existsSync(join(dir, RESULTS_FILE)) || existsSync(join(dir, LAB_LOG_FILE)))
        runs.push({ dir, stamp });
    }
  runs.sort((a, b) => a.stamp.localeCompare(b.stamp));
  const newest = runs[runs.length - 1];
  return newest === undefined ? null : resolve(newest.dir);
}

/** Real subfolders (not the `latest` links). */
function subfolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => name !== 'latest' && lstatSync(join(dir, name)).isDirectory());
}

/** The newest run folder under a store or name folder, by timestamp. */
function newestRun(dir: string): string | null {
  const runs: string[] = [];
  for (const name of readdirSync(dir)) {
    const child = join(dir, name);
    if (name === 'latest' || !lstatSync(child).isDirectory()) continue;
    if (existsSync(join(child, HISTORY_FILE))) runs.push(child);
    else
      for (const stamp of readdirSync(child))
        if (existsSync(join(child, stamp, HISTORY_FILE))) runs.push(join(child, stamp));
  }
  runs.sort((a, b) => (a.split('/').pop() ?? '').localeCompare(b.split('/').pop() ?? ''));
  const last = runs[runs.length - 1];
  return last === undefined ? null : resolve(last);
}
