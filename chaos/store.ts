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
import { parseHistoryTolerant } from './report/history-file.js';
import { historyFigures } from './results.js';
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
 * What `lab down` records in the run folder of a lab that died mid-run: the node logs it saved, the
 * figures of the history so far, and that the run is partial and why, so `lab show` and `lab serve`
 * show what happened and `lab analyze` checks it. A run that finished, or a folder without
 * results.json, is left alone (returns false).
 */
export function recordAbandonedRun(
  runDir: string,
  nodeLogs: Record<string, string>,
  reason: string,
): boolean {
  if (!existsSync(join(runDir, RESULTS_FILE))) return false;
  const results = readResults(runDir);
  if (results.finishedAt !== null) return false;
  // Tolerant: a lab killed in the middle of a write leaves a torn last line.
  const historyPath = join(runDir, HISTORY_FILE);
  const text = existsSync(historyPath) ? readFileSync(historyPath, 'utf8') : '';
  const { events } = parseHistoryTolerant(text);
  Object.assign(results, historyFigures(events));
  results.partial = true;
  results.error = reason;
  for (const [node, path] of Object.entries(nodeLogs))
    results.nodeLogs[node] = path.startsWith(`${resolve(runDir)}/`) ? relative(resolve(runDir), path) : path;
  writeResults(runDir, results);
  return true;
}

/**
 * The run folder `lab analyze` means by default, or by a name or a path: a run folder itself, a
 * name folder (its `latest`), or the store (its `latest`, else the newest run of any name).
 */
export function resolveRunDir(target: string | undefined, storeDir: string): string {
  const candidates = target === undefined ? [storeDir] : [target, join(storeDir, target)];
  for (const candidate of candidates) {
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
