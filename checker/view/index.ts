// writeCounterexampleViews: one HTML page per illegal key, named after the key.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult } from '../check.js';
import type { HistoryEvent } from '../history-types.js';
import { buildViewData } from './data.js';
import { prepareOutputDir } from './output-dir.js';
import { renderPage } from './page.js';

export { OPERATIONS_DRAWN_MAX } from './data.js';
export { OutputDirError, prepareOutputDir } from './output-dir.js';

export function writeCounterexampleViews(
  events: readonly HistoryEvent[],
  result: CheckResult,
  dir: string,
): string[] {
  prepareOutputDir(dir);
  const paths: string[] = [];
  for (const key of result.keys) {
    if (key.verdict !== 'illegal' || key.counterexample === undefined) continue;
    const path = join(dir, counterexampleFileName(key.key));
    writeFileSync(path, renderPage(buildViewData(events, key, result.model)));
    paths.push(path);
  }
  return paths;
}

/** The page's file name for a key: `counterexample-KEY.html`, with KEY made file-name safe. */
export function counterexampleFileName(key: string): string {
  return `counterexample-${safeName(key)}.html`;
}

/** A file-name-safe form of a key, kept unique by a hash suffix when characters were replaced. */
function safeName(key: string): string {
  const clean = key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
  if (clean === key && key !== '') return key;
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return `${clean}-${(h >>> 0).toString(16)}`;
}
