// The run folder and the store of them: histories/<name>/<timestamp>/ per run, with `latest` links
// at both levels (histories/<name>/latest and histories/latest), as Jepsen's store does. This module
// owns the names of the files in a run folder and reading and writing them: strictly for `lab run`,
// `lab analyze` and `lab down`, tolerantly (a run in progress, or cut short) for the views.
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
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { HistoryEvent } from '../checker/history-types.js';
import { historyFigures } from './figures/index.js';
import type { RunResults } from './results-types.js';

export const RESULTS_FILE = 'results.json';
export const HISTORY_FILE = 'history.jsonl';
export const LAB_LOG_FILE = 'lab.log';
export const REPORT_FILE = 'report.html';
export const NODE_LOG_DIR = 'logs';
export const COUNTEREXAMPLE_DIR = 'counterexamples';

/** No run folder where a command looked (exit 254 in the CLI: the argument is wrong, not the lab). */
export class NoRunFolderError extends Error {
  override readonly name = 'NoRunFolderError';
}

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
  const { events } = parseHistoryTolerant(existsSync(historyPath) ? readFileSync(historyPath, 'utf8') : '');
  Object.assign(results, historyFigures(events));
  results.partial = true;
  results.error = reason;
  for (const [node, path] of Object.entries(nodeLogs))
    results.nodeLogs[node] = path.startsWith(`${resolve(runDir)}/`) ? relative(resolve(runDir), path) : path;
  writeResults(runDir, results);
  return true;
}

/** A run folder holds results.json or history.jsonl (a simulator's evidence has only the history). */
export function isRunFolder(dir: string): boolean {
  return existsSync(join(dir, RESULTS_FILE)) || existsSync(join(dir, HISTORY_FILE));
}

/**
 * The run folder a command (`lab analyze`, `lab show`) means: a run folder itself, a name folder
 * (its `latest`, else its newest run), a run name under the store, or by default the store's
 * latest lab run (latestRunDir).
 */
export function resolveRunDir(target: string | undefined, storeDir: string): string {
  if (target === undefined) {
    const latest = latestRunDir(storeDir);
    if (latest !== null) return latest;
  }
  for (const candidate of target === undefined ? [] : [target, join(storeDir, target)]) {
    if (!existsSync(candidate)) continue;
    if (isRunFolder(candidate)) return resolve(candidate);
    const latest = join(candidate, 'latest');
    if (isRunFolder(latest)) return resolve(dirname(latest), readlinkSync(latest));
    const newest = newestRun(candidate);
    if (newest !== null) return newest;
  }
  throw new NoRunFolderError(
    target === undefined
      ? `no stored run found at ${storeDir} (run \`lab run\` first, or name a run folder)`
      : `${target} is not a run folder (no ${RESULTS_FILE} or ${HISTORY_FILE}, and no stored run under it or under ${storeDir})`,
  );
}

/**
 * The run `lab show` and `lab analyze` both mean without an argument (both through resolveRunDir):
 * the one the store's `latest` link names (the lab's last run), else the newest lab run folder by
 * its timestamp. `lab sim` writes evidence folders with a history.jsonl under the same store
 * (histories/sim/), so a folder counts as a lab run only with the lab's own files (results.json,
 * or lab.log for a run that died before writing results).
 */
export function latestRunDir(storeDir: string): string | null {
  const link = join(storeDir, 'latest');
  if (isRunFolder(link)) return resolve(storeDir, readlinkSync(link));
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
    if (isRunFolder(child)) runs.push(child);
    else
      for (const stamp of readdirSync(child))
        if (stamp !== 'latest' && isRunFolder(join(child, stamp))) runs.push(join(child, stamp));
  }
  runs.sort((a, b) => (a.split('/').pop() ?? '').localeCompare(b.split('/').pop() ?? ''));
  const last = runs[runs.length - 1];
  return last === undefined ? null : resolve(last);
}

/** results.json for the views: null with the reason when it is missing or unreadable, never a throw. */
export async function loadResults(
  dir: string,
): Promise<{ results: RunResults | null; problem: string | null }> {
  let text: string;
  try {
    text = await readFile(join(dir, RESULTS_FILE), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { results: null, problem: code === 'ENOENT' ? `no ${RESULTS_FILE}` : `${RESULTS_FILE}: ${code}` };
  }
  try {
    const value = JSON.parse(text) as RunResults;
    if (typeof value !== 'object' || value === null || typeof value.verdict !== 'string') {
      return { results: null, problem: `${RESULTS_FILE} has no verdict` };
    }
    return { results: value, problem: null };
  } catch (error) {
    return { results: null, problem: `${RESULTS_FILE} is not valid JSON (${(error as Error).message})` };
  }
}

export interface LoadedHistory {
  events: HistoryEvent[];
  /** Lines that were not a valid event (torn last line of a live run, garbage). */
  badLines: number[];
}

/**
 * history.jsonl for the views and `lab down`. The checker's readHistory (checker/history.ts) is the
 * canonical, strict reader; this one is tolerant instead: a run still in progress (or one that
 * crashed mid-write) must still show, so a torn or bad line is counted and skipped, not fatal.
 */
export async function loadHistory(dir: string): Promise<LoadedHistory> {
  let text: string;
  try {
    text = await readFile(join(dir, HISTORY_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], badLines: [] };
    throw error;
  }
  return parseHistoryTolerant(text);
}

export function parseHistoryTolerant(text: string): LoadedHistory {
  const events: HistoryEvent[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      const value: unknown = JSON.parse(line);
      if (isHistoryEvent(value)) events.push(value);
      else badLines.push(index + 1);
    } catch {
      badLines.push(index + 1);
    }
  });
  return { events, badLines };
}

function isHistoryEvent(value: unknown): value is HistoryEvent {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  if (typeof record.time !== 'number') return false;
  if (record.type === 'nemesis') return typeof record.phase === 'string' && typeof record.fault === 'string';
  return (
    ['invoke', 'ok', 'fail', 'info'].includes(String(record.type)) &&
    typeof record.process === 'number' &&
    typeof record.f === 'string' &&
    typeof record.key === 'string'
  );
}
