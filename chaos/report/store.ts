// The runs under a store (histories/<name>/<timestamp>/), read afresh on each call so runs appear
// as they start and finish. `latest` links are skipped (they point at a run already listed).
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HISTORY_FILE, loadResults, REPORT_FILE, RESULTS_FILE } from '../run-folder.js';
import { displayVerdict } from './run.js';
import type { RunResults, RunVerdict } from '../results-types.js';

export interface RunSummary {
  name: string;
  timestamp: string;
  /** Path relative to the store, with '/' separators. */
  relPath: string;
  startedAt: string | null;
  verdict: RunVerdict;
  results: RunResults | null;
  problem: string | null;
  hasReport: boolean;
  /** Counterexample views (relative to the run folder) of illegal keys. */
  views: { key: string; path: string }[];
}

export async function listRuns(store: string): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  for (const name of await folders(store)) {
    for (const timestamp of await folders(join(store, name))) {
      const dir = join(store, name, timestamp);
      if (!(await exists(join(dir, RESULTS_FILE))) && !(await exists(join(dir, HISTORY_FILE)))) continue;
      runs.push(await summarise(dir, name, timestamp));
    }
  }
  return runs.sort((a, b) => (b.startedAt ?? b.timestamp).localeCompare(a.startedAt ?? a.timestamp));
}

async function summarise(dir: string, name: string, timestamp: string): Promise<RunSummary> {
  const { results, problem } = await loadResults(dir);
  const views = (results?.checker.keys ?? [])
    .filter((k) => k.verdict === 'illegal' && typeof k.view === 'string')
    .map((k) => ({ key: k.key, path: k.view as string }));
  return {
    name,
    timestamp,
    relPath: `${name}/${timestamp}`,
    startedAt: results?.startedAt ?? null,
    verdict: displayVerdict(results),
    results,
    problem,
    hasReport: await exists(join(dir, REPORT_FILE)),
    views,
  };
}

/** Real subfolders only: symlinks (the `latest` links) are not followed here. */
async function folders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
